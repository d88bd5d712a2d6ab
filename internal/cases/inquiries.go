package cases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/workflows"
)

// SamplePassword is the industry's convention for zipped malware samples.
const SamplePassword = "infected"

// Inquiries runs Process B: expert inquiries and their progress-report SLA.
type Inquiries struct {
	// SearchAttributes: new cases keep the Huntdesk* search attributes
	// (registered on the namespace) up to date.
	SearchAttributes bool
	DB               *store.DB
	Temporal         client.Client
	SLA              time.Duration   // default 48h
	Reminders        []time.Duration // default 48h, 120h
	CustomerTimeout  time.Duration   // default 336h
	MaxChanges       int             // continue-as-new threshold; 0: the workflow's default
	Crash            CrashHook       // tests only: stop a create after a step

	SampleMaxCount   int   // samples per inquiry (HUNTDESK_SAMPLE_MAX_COUNT); 0: DefaultSampleMaxCount
	SampleQuotaBytes int64 // bytes of samples per inquiry (HUNTDESK_SAMPLE_QUOTA_BYTES); 0: DefaultSampleQuotaBytes
	UploadsPerCaller int   // concurrent sample uploads per caller; 0: DefaultUploadsPerCaller
}

// uploads counts each caller's sample uploads running in this process. The
// map holds only callers uploading now, so it stays as small as the uploads.
var uploads = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// Params are the input an inquiry's workflow starts with: the configured
// durations, or the product's defaults — a progress report due 48 h after
// submission, the warning at 75 % of it, customer reminders after 2 and 5
// days, and closing as closed_no_response after 14 days.
func (s *Inquiries) Params(q *models.Inquiry) workflows.InquiryParams {
	sla, timeout, rem := s.SLA, s.CustomerTimeout, s.Reminders
	if sla <= 0 {
		sla = 48 * time.Hour
	}
	if timeout <= 0 {
		timeout = 14 * 24 * time.Hour
	}
	if rem == nil {
		rem = []time.Duration{48 * time.Hour, 120 * time.Hour}
	}
	return workflows.InquiryParams{InquiryID: q.ID, OrgID: q.OrgID, SubmittedAt: q.CreatedAt, SLA: sla, WarnAfter: sla * 3 / 4,
		Reminders: rem, CustomerTimeout: timeout, MaxChanges: s.MaxChanges, SearchAttributes: s.SearchAttributes}
}

// Submit checks and records an inquiry, with the start of its workflow in the
// same transaction, then starts the workflow. If the start fails or its
// outcome is unknown, the inquiry stays (never deleted: the workflow may be
// running) and comes back with ErrStarting; the worker's reconciler starts
// recorded starts that are not marked.
func (s *Inquiries) Submit(ctx context.Context, p models.Principal, in models.InquiryInput) (*models.Inquiry, error) {
	kind, err := in.Validate()
	if err != nil {
		return nil, err
	}
	// With an Idempotency-Key, a retry (its first attempt's answer lost, its
	// key released or taken over) finds the inquiry that attempt made.
	q, ws, created, err := s.DB.CreateInquiryStarting(ctx, p, in, kind, s.Params(&models.Inquiry{}).SLA, derive(ctx, p, "inquiries/submit"),
		func(q *models.Inquiry) (*store.WorkflowStart, error) {
			return store.NewWorkflowStart(workflows.InquiryWorkflowID(q.ID), workflows.InquiryWorkflow, "inquiry", q.ID, s.Params(q))
		})
	if err != nil {
		return nil, err
	}
	if created && s.Crash != nil {
		if err := s.Crash(StepRecorded, ws.WorkflowID); err != nil {
			return nil, err
		}
	}
	var serr error
	if ws != nil && ws.StartedAt == nil { // new, or a retry of a create whose start is pending
		serr = startRecorded(ctx, s.DB, s.Temporal, ws, s.Crash)
		if isCrash(serr) {
			return nil, serr
		}
	}
	got, err := s.DB.Inquiry(context.WithoutCancel(ctx), "", q.ID)
	if err != nil {
		return nil, err
	}
	if serr != nil {
		slog.Warn("inquiry recorded; its workflow start is left to the reconciler", "inquiry_id", q.ID, "err", serr)
		return got, ErrStarting
	}
	return got, nil
}

// Get returns one inquiry as p may see it.
func (s *Inquiries) Get(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.DB.Inquiry(ctx, p.Scope(), id)
}

// List lists inquiries newest first (a customer's: its org's).
func (s *Inquiries) List(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	if scope := p.Scope(); scope != "" {
		f.OrgID = scope
	}
	f.OpenOnly = false
	return s.DB.Inquiries(ctx, f)
}

// Queue lists open inquiries of every org by SLA due time.
func (s *Inquiries) Queue(ctx context.Context, p models.Principal, f models.InquiryFilter) (models.List[models.Inquiry], error) {
	// The route admits staff only; the service keeps the org scope anyway,
	// so a mistake in the route table cannot show a customer another org's
	// inquiries.
	if scope := p.Scope(); scope != "" {
		f.OrgID = scope
	}
	f.OpenOnly = true
	return s.DB.Inquiries(ctx, f)
}

// Claim gives the inquiry to the calling expert.
func (s *Inquiries) Claim(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.simple(ctx, p, id, workflows.InquiryClaim, workflows.InquiryCommand{})
}

// Assign gives the inquiry to an expert (managers).
func (s *Inquiries) Assign(ctx context.Context, p models.Principal, id, userID string) (*models.Inquiry, error) {
	u, err := s.DB.User(ctx, "", userID)
	if err != nil || !u.Role.Staff() || u.Disabled {
		return nil, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"user_id": "must be an enabled expert or manager"}}
	}
	return s.simple(ctx, p, id, workflows.InquiryAssign, workflows.InquiryCommand{AssigneeID: userID})
}

// Report posts a progress report (the assignee or a manager).
func (s *Inquiries) Report(ctx context.Context, p models.Principal, id string, category models.ReportCategory, message string) (*models.Inquiry, error) {
	var v models.Validation
	v.Check(category.Valid(), "category", "must be one of more_info_needed, samples_needed, more_time_needed, concluded")
	checkText(&v, "message", message)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.withDraft(ctx, p, id, "report", category, message, workflows.InquiryReport)
}

// Respond posts the customer's answer to a report.
func (s *Inquiries) Respond(ctx context.Context, p models.Principal, id, message string) (*models.Inquiry, error) {
	var v models.Validation
	checkText(&v, "message", message)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.withDraft(ctx, p, id, "response", "", message, workflows.InquiryRespond)
}

func checkText(v *models.Validation, field, s string) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	v.Check(n >= 1 && n <= 10000, field, "must be 1 to 10,000 characters")
}

// withDraft stores the text, sends the workflow its id, and discards the
// text again only if the workflow refused the command: histories never carry
// long texts, and a refused command leaves nothing behind. With an
// Idempotency-Key, the draft's id and the update's id derive from it, so a
// retry finds the first attempt's draft — already posted: the same update
// again, answered once the workflow has applied it (rejoin); not yet: the
// same update again, which applies once.
func (s *Inquiries) withDraft(ctx context.Context, p models.Principal, id, kind string, category models.ReportCategory, body, update string) (*models.Inquiry, error) {
	q, err := s.DB.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	msgID := ""
	if d := derive(ctx, p, "inquiry/"+id+"/"+kind); d != "" {
		msgID = "msg_" + d
		if _, posted, err := s.DB.DraftPosted(ctx, msgID); err != nil {
			return nil, err
		} else if posted { // the first attempt committed
			return s.rejoin(ctx, p, id, update, workflows.InquiryCommand{Category: category, MessageID: msgID})
		}
	}
	// Refuse the plainly out-of-state before writing anything; the
	// workflow's validator stays the authority when two requests race.
	switch {
	case !q.Status.Open():
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	case kind == "response" && q.Status != models.InquiryAwaitingCustomer:
		return nil, models.Errorf(models.EINVALIDSTATE, "no answer is awaited: the inquiry is %s", q.Status)
	case kind == "report" && q.Status == models.InquiryAwaitingCustomer:
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is waiting on the customer's answer")
	}
	msgID, posted, err := s.DB.UpsertDraft(ctx, p, id, msgID, kind, category, body)
	if err != nil {
		return nil, err
	}
	if posted {
		return s.rejoin(ctx, p, id, update, workflows.InquiryCommand{Category: category, MessageID: msgID})
	}
	q, refused, err := s.update(ctx, p, id, update, workflows.InquiryCommand{Category: category, MessageID: msgID})
	if refused {
		if derr := s.DB.DiscardDraft(context.WithoutCancel(ctx), msgID); derr != nil {
			slog.Error("discard refused draft", "message_id", msgID, "err", derr)
		}
	}
	return q, err
}

// Sample quotas: defaults of HUNTDESK_SAMPLE_MAX_COUNT,
// HUNTDESK_SAMPLE_QUOTA_BYTES and the uploads one caller may run at once.
const (
	DefaultSampleMaxCount   = 20
	DefaultSampleQuotaBytes = 256 << 20
	DefaultUploadsPerCaller = 2
	defaultSampleMaxBytes   = 32 << 20
)

func orDefault[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// uploadSlot takes one of the caller's concurrent upload slots, or refuses
// with rate_limited; the returned func gives it back.
func (s *Inquiries) uploadSlot(userID string) (func(), error) {
	limit := orDefault(s.UploadsPerCaller, DefaultUploadsPerCaller)
	uploads.Lock()
	defer uploads.Unlock()
	if uploads.n[userID] >= limit {
		return nil, models.Errorf(models.ERATELIMITED, "at most %d sample uploads at a time; wait for one to finish", limit)
	}
	uploads.n[userID]++
	return func() {
		uploads.Lock()
		defer uploads.Unlock()
		if uploads.n[userID]--; uploads.n[userID] <= 0 {
			delete(uploads.n, userID)
		}
	}, nil
}

// AddSampleStream is AddSample for an upload read from r as it arrives: the
// bytes stream into storage while they are hashed, so memory holds one chunk,
// whatever the file's size. maxBytes is the largest single sample. The
// inquiry's quota (SampleMaxCount samples, SampleQuotaBytes bytes) and the
// caller's concurrent uploads (UploadsPerCaller) are checked first. With an
// Idempotency-Key the sample's id and the update's derive from it: a retry
// finds the first attempt's sample (attached: the same success; stored: the
// same update again) instead of storing a second one.
func (s *Inquiries) AddSampleStream(ctx context.Context, p models.Principal, id, filename string, r io.Reader, maxBytes int64) (*models.Sample, error) {
	q, err := s.DB.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	name := models.CleanFilename(filename)
	var v models.Validation
	v.Check(name != "", "file", "needs a file name")
	if err := v.Err(); err != nil {
		return nil, err
	}
	smpID := ""
	var smp *models.Sample
	if d := derive(ctx, p, "inquiry/"+id+"/sample"); d != "" {
		smpID = "smp_" + d
		prev, err := s.DB.SampleStateOf(ctx, smpID)
		switch {
		case models.ErrorCode(err) == models.ENOTFOUND:
		case err != nil:
			return nil, err
		case prev.Sample.InquiryID != id || prev.Sample.UploadedBy != p.UserID:
			return nil, models.Errorf(models.EIDEMPOTENCY, "this Idempotency-Key was used for another request")
		case prev.Attached: // the first attempt committed
			if _, err := s.rejoin(ctx, p, id, workflows.InquirySample, workflows.InquiryCommand{SampleID: smpID}); err != nil {
				return nil, err
			}
			return &prev.Sample, nil
		case prev.Complete:
			smp = &prev.Sample // stored; its update's outcome is unknown: send the same one
		default: // the first attempt died mid-upload
			if err := s.DB.DiscardSample(ctx, smpID); err != nil {
				return nil, err
			}
		}
	}
	if !q.Status.Open() {
		return nil, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	}
	if smp == nil {
		release, err := s.uploadSlot(p.UserID)
		if err != nil {
			return nil, err
		}
		defer release()
		if smp, err = s.storeSample(ctx, p, id, smpID, name, r, orDefault(maxBytes, defaultSampleMaxBytes)); err != nil {
			return nil, err
		}
	}
	_, refused, err := s.update(ctx, p, id, workflows.InquirySample, workflows.InquiryCommand{SampleID: smp.ID})
	if err != nil {
		if refused {
			if derr := s.DB.DiscardSample(context.WithoutCancel(ctx), smp.ID); derr != nil {
				slog.Error("discard refused sample", "sample_id", smp.ID, "err", derr)
			}
		}
		return nil, err
	}
	return smp, nil
}

// storeSample checks the inquiry's quota and streams the sample in.
func (s *Inquiries) storeSample(ctx context.Context, p models.Principal, id, smpID, name string, r io.Reader, maxBytes int64) (*models.Sample, error) {
	maxCount := int64(orDefault(s.SampleMaxCount, DefaultSampleMaxCount))
	quota := orDefault(s.SampleQuotaBytes, DefaultSampleQuotaBytes)
	count, used, err := s.DB.SampleUsage(ctx, id)
	if err != nil {
		return nil, err
	}
	if count >= maxCount {
		return nil, overCount(maxCount)
	}
	limit, byQuota := maxBytes, false
	if left := quota - used; left < limit {
		limit, byQuota = max(left, 0), true
	}
	smp, err := s.DB.StoreSample(ctx, p, id, smpID, name, r, limit)
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
	case errors.As(err, &mbe):
		return nil, models.Errorf(models.ETOOLARGE, "request body is larger than %d bytes", mbe.Limit)
	case models.ErrorCode(err) == models.ETOOLARGE && byQuota:
		return nil, overBytes(quota)
	case models.ErrorCode(err) == models.ETOOLARGE:
		return nil, err
	case models.ErrorCode(err) == models.EINTERNAL && strings.HasPrefix(err.Error(), "read sample"):
		return nil, invalidFile("could not be read")
	default:
		return nil, err
	}
	if smp.Size == 0 {
		if derr := s.DB.DiscardSample(context.WithoutCancel(ctx), smp.ID); derr != nil {
			slog.Error("discard empty sample", "sample_id", smp.ID, "err", derr)
		}
		return nil, invalidFile("is empty")
	}
	// Uploads running side by side each passed the check above; recount
	// with this one stored, and give way if together they went over.
	if count, used, err := s.DB.SampleUsage(ctx, id); err == nil && (count > maxCount || used > quota) {
		if derr := s.DB.DiscardSample(context.WithoutCancel(ctx), smp.ID); derr != nil {
			slog.Error("discard a sample over quota", "sample_id", smp.ID, "err", derr)
		}
		if count > maxCount {
			return nil, overCount(maxCount)
		}
		return nil, overBytes(quota)
	}
	return smp, nil
}

// overCount and overBytes refuse a sample over the inquiry's quota; the
// field says sample_quota_exceeded so a client can tell it from a too-large
// file.
func overCount(maxCount int64) error {
	return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("the inquiry's sample quota is used: at most %d samples per inquiry", maxCount),
		Fields: map[string]string{"file": "sample_quota_exceeded: no more samples on this inquiry"}}
}

func overBytes(quota int64) error {
	return &models.Error{Code: models.ETOOLARGE, Message: fmt.Sprintf("the inquiry's sample quota is used: its samples may total at most %d bytes", quota),
		Fields: map[string]string{"file": "sample_quota_exceeded: the inquiry's samples would exceed its byte quota"}}
}

func invalidFile(msg string) error {
	return &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"file": msg}}
}

// Cancel closes the customer's open inquiry.
func (s *Inquiries) Cancel(ctx context.Context, p models.Principal, id string) (*models.Inquiry, error) {
	return s.simple(ctx, p, id, workflows.InquiryCancel, workflows.InquiryCommand{})
}

// DownloadSample returns a sample inside a zip encrypted with the password
// "infected": samples are never served raw.
func (s *Inquiries) DownloadSample(ctx context.Context, p models.Principal, id string) (string, []byte, error) {
	smp, data, err := s.DB.SampleData(ctx, p.Scope(), id)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	if err := zipcrypto.WriteFile(&buf, smp.Filename, data, SamplePassword, smp.CreatedAt); err != nil {
		return "", nil, err
	}
	if err := s.DB.AppendAudit(ctx, p, smp.OrgID, "inquiry", smp.InquiryID, "sample_downloaded", map[string]string{"sample_id": smp.ID, "sha256": smp.SHA256}); err != nil {
		return "", nil, err
	}
	return smp.ID + ".zip", buf.Bytes(), nil
}

// update sends an inquiry's workflow an update; refused says the workflow
// refused it without writing anything. With an Idempotency-Key the update's
// id derives from (caller, key, inquiry, update), so a retry is the same
// update and Temporal answers it with the first outcome.
func (s *Inquiries) update(ctx context.Context, p models.Principal, id, name string, cmd workflows.InquiryCommand) (*models.Inquiry, bool, error) {
	q, err := s.DB.Inquiry(ctx, p.Scope(), id)
	if err != nil {
		return nil, true, err
	}
	if name == workflows.InquiryCancel && q.Status == models.InquiryCancelled && idempotencyKey(ctx) != "" {
		// A retry (same Idempotency-Key) of a cancel that committed — after
		// which the workflow is gone: the same success.
		return q, false, nil
	}
	if !q.Status.Open() {
		return nil, true, models.Errorf(models.EINVALIDSTATE, "the inquiry is %s", q.Status)
	}
	cmd.Actor = workflows.Actor{UserID: p.UserID, Role: p.Role}
	var st workflows.InquiryState
	if refused, err := runUpdate(ctx, s.Temporal, workflows.InquiryWorkflowID(id), name, derive(ctx, p, "inquiry/"+id+"/"+name), cmd, &st, s.Crash); err != nil {
		return nil, refused, pendingStart(ctx, s.DB, "inquiry", id, err)
	}
	q, err = s.DB.Inquiry(context.WithoutCancel(ctx), "", id)
	return q, false, err
}

// rejoin answers a retry whose first attempt's change is committed (its
// text posted, its sample attached): the workflow applies an update's
// change after that commit, so the retry sends the same update again, by the
// same id, and answers once the workflow has applied it — Temporal, or the
// workflow's record of applied update ids, answers with the first outcome.
// Answering at once would let the caller's next request meet a workflow that
// has not applied it yet (the update held up by a Temporal restart). A
// refusal means the workflow moved on since: the first outcome stands. An
// outage is answered as one (503): the caller retries again.
func (s *Inquiries) rejoin(ctx context.Context, p models.Principal, id, name string, cmd workflows.InquiryCommand) (*models.Inquiry, error) {
	q, refused, err := s.update(ctx, p, id, name, cmd)
	if err != nil && refused {
		return s.DB.Inquiry(context.WithoutCancel(ctx), p.Scope(), id)
	}
	return q, err
}

// simple runs an update that stores nothing beforehand.
func (s *Inquiries) simple(ctx context.Context, p models.Principal, id, name string, cmd workflows.InquiryCommand) (*models.Inquiry, error) {
	q, _, err := s.update(ctx, p, id, name, cmd)
	return q, err
}
