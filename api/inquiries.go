package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/models"
)

// Inquiries is Process B as the API needs it; *cases.Inquiries implements it.
type Inquiries interface {
	Submit(ctx context.Context, p models.Principal, in models.InquiryInput) (*models.Inquiry, error)
	Get(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error)
	List(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error)
	Queue(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error)
	Claim(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error)
	Assign(ctx context.Context, p models.Principal, id, userID string) (*models.Inquiry, error)
	Report(ctx context.Context, p models.Principal, id string, category models.ReportCategory, message string) (*models.Inquiry, error)
	Respond(ctx context.Context, p models.Principal, id, message string) (*models.Inquiry, error)
	// AddSampleStream stores an upload as it is read (never whole in memory),
	// refusing more than maxBytes.
	AddSampleStream(ctx context.Context, p models.Principal, id, filename string, r io.Reader, maxBytes int64) (*models.Sample, error)
	Cancel(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error)
	DownloadSample(ctx context.Context, p models.Principal, id string) (string, []byte, error)
}

func (s *Server) inquiryRoutes() []route {
	// A sample upload may be as large as the sample limit plus the multipart framing.
	sampleBody := s.cfg.SampleMaxBytes + 64<<10
	return []route{
		{method: "POST", path: "/api/v1/inquiries", roles: admins, create: true, handle: s.submitInquiry},
		{method: "GET", path: "/api/v1/inquiries", roles: anyone, handle: s.listInquiries},
		{method: "GET", path: "/api/v1/inquiries/:id", roles: anyone, handle: s.getInquiry},
		{method: "GET", path: "/api/v1/queue", roles: staff, handle: s.queue},
		{method: "POST", path: "/api/v1/inquiries/:id/claim", roles: staff, handle: s.claimInquiry},
		{method: "POST", path: "/api/v1/inquiries/:id/assign", roles: managers, handle: s.assignInquiry},
		{method: "POST", path: "/api/v1/inquiries/:id/reports", roles: staff, create: true, handle: s.reportInquiry},
		{method: "POST", path: "/api/v1/inquiries/:id/responses", roles: admins, create: true, handle: s.respondInquiry},
		{method: "POST", path: "/api/v1/inquiries/:id/samples", roles: admins, create: true, maxBody: sampleBody, handle: s.uploadSample},
		{method: "POST", path: "/api/v1/inquiries/:id/cancel", roles: admins, handle: s.cancelInquiry},
		{method: "GET", path: "/api/v1/samples/:id/download", roles: staff, handle: s.downloadSample},
	}
}

func (s *Server) submitInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.InquiryInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	q, err := s.Inq.Submit(idem(c), p, in)
	if errors.Is(err, cases.ErrStarting) {
		// Recorded, with its workflow start: the reconciler starts it. The
		// inquiry exists, so the answer (and its replay under the same
		// Idempotency-Key) is that inquiry, accepted.
		return http.StatusAccepted, q, nil
	}
	return http.StatusCreated, q, err
}

func inquiryFilter(c *gin.Context, p models.Principal) (models.InquiryFilter, error) {
	pg, err := page(c)
	if err != nil {
		return models.InquiryFilter{}, err
	}
	f := models.InquiryFilter{Page: pg, OrgID: c.Query("org_id"), TopicGroup: models.TopicGroup(c.Query("topic_group"))}
	if org := c.Query("org"); org != "" {
		f.OrgID = org
	}
	if st := c.Query("status"); st != "" {
		if !models.ValidInquiryStatus(st) {
			return f, invalid("status", "must be one of submitted, in_progress, awaiting_customer, concluded, cancelled, closed_no_response")
		}
		f.Status = models.InquiryStatus(st)
	}
	if f.TopicGroup != "" && !f.TopicGroup.Valid() {
		return f, invalid("topic_group", "must be one of alert_information, possible_device_compromise, threat_intelligence_details, alert_communications")
	}
	if sev := models.Severity(c.Query("alert_severity")); sev != "" {
		if !sev.Valid() {
			return f, invalid("alert_severity", "must be one of informational, low, medium, high")
		}
		f.AlertSeverity = sev
	}
	switch a := c.Query("assignee"); a {
	case "":
	case "me":
		f.AssigneeID = p.UserID
	case "none":
		f.Unassigned = true
	default:
		f.AssigneeID = a
	}
	if b := c.Query("breached"); b != "" {
		v, err := strconv.ParseBool(b)
		if err != nil {
			return f, invalid("breached", "must be true or false")
		}
		f.Breached = &v
	}
	return f, nil
}

func (s *Server) listInquiries(c *gin.Context, p models.Principal) (int, any, error) {
	f, err := inquiryFilter(c, p)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.Inq.List(c, p, f)
	return http.StatusOK, l, err
}

func (s *Server) queue(c *gin.Context, p models.Principal) (int, any, error) {
	f, err := inquiryFilter(c, p)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.Inq.Queue(c, p, f)
	return http.StatusOK, l, err
}

func (s *Server) getInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	q, err := s.Inq.Get(c, p, c.Param("id"))
	return http.StatusOK, q, err
}

func (s *Server) claimInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	q, err := s.Inq.Claim(idem(c), p, c.Param("id"))
	return http.StatusOK, q, err
}

func (s *Server) assignInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.AssignInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	q, err := s.Inq.Assign(idem(c), p, c.Param("id"), in.UserID)
	return http.StatusOK, q, err
}

func (s *Server) reportInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.ReportInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	q, err := s.Inq.Report(idem(c), p, c.Param("id"), in.Category, in.Message)
	return http.StatusCreated, q, err
}

func (s *Server) respondInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.ResponseInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	q, err := s.Inq.Respond(idem(c), p, c.Param("id"), in.Message)
	return http.StatusCreated, q, err
}

// uploadSample streams one multipart part named "file" into storage,
// refusing anything over the sample limit with 413. Nothing buffers the
// whole upload here: the part is read as it arrives (when an Idempotency-Key
// made the middleware read the body to hash it, from that one copy).
func (s *Server) uploadSample(c *gin.Context, p models.Principal) (int, any, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return 0, nil, models.Errorf(models.EUNSUPPORTED, "Content-Type must be multipart/form-data with a part named file")
	}
	var src io.Reader = c.Request.Body
	if b, ok := c.Get(ctxBody); ok {
		src = bytes.NewReader(b.([]byte))
	}
	ctx := idem(c)
	mr := multipart.NewReader(src, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return 0, nil, invalid("file", "is required: send the sample as a multipart part named file")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return 0, nil, models.Errorf(models.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
			}
			return 0, nil, invalid("body", "is not valid multipart data")
		}
		if part.FormName() != "file" {
			continue
		}
		// The name as sent must be one line; CleanFilename then drops
		// directories, quotes and bidi controls.
		if err := models.ValidateFilename("file", part.FileName()); err != nil {
			return 0, nil, err
		}
		smp, err := s.Inq.AddSampleStream(ctx, p, c.Param("id"), part.FileName(), part, s.cfg.SampleMaxBytes)
		return http.StatusCreated, smp, err
	}
}

// idem hands the request's Idempotency-Key to the services: a retried
// update with the same key is the same update (cases.WithIdempotencyKey).
func idem(c *gin.Context) context.Context {
	return cases.WithIdempotencyKey(c, c.GetHeader("Idempotency-Key"))
}

func (s *Server) cancelInquiry(c *gin.Context, p models.Principal) (int, any, error) {
	q, err := s.Inq.Cancel(idem(c), p, c.Param("id"))
	return http.StatusOK, q, err
}

// downloadSample answers with the sample inside a zip encrypted with the
// password "infected"; the raw file is never served.
func (s *Server) downloadSample(c *gin.Context, p models.Principal) (int, any, error) {
	name, zip, err := s.Inq.DownloadSample(c, p, c.Param("id"))
	if err != nil {
		return 0, nil, err
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "application/zip", zip)
	return http.StatusOK, nil, nil
}
