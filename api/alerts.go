package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// Alerts is Process C as the API needs it; *cases.Alerts implements it.
type Alerts interface {
	Raise(ctx context.Context, p models.Principal, in models.AlertInput) (*models.Alert, error)
	List(ctx context.Context, p models.Principal, q url.Values) (models.CountedList[models.Alert], error)
	Get(ctx context.Context, p models.Principal, id string) (*models.Alert, error)
	Patch(ctx context.Context, p models.Principal, id string, in models.AlertPatch) (*models.Alert, error)
	Incidents(ctx context.Context, p models.Principal, q url.Values) (models.CountedList[models.Incident], error)
	Incident(ctx context.Context, p models.Principal, id string) (*models.Incident, error)
	PatchIncident(ctx context.Context, p models.Principal, id string, in models.AlertPatch) (*models.Incident, error)
	Hunting(ctx context.Context, p models.Principal, f models.HuntingFilter, limit int, fn func(models.HuntingRow) error) (string, error)
	Rules(ctx context.Context, p models.Principal, orgID string) (models.List[models.NotificationRule], error)
	Rule(ctx context.Context, p models.Principal, id string) (*models.NotificationRule, error)
	CreateRule(ctx context.Context, p models.Principal, in models.RuleInput) (*models.NotificationRule, error)
	ReplaceRule(ctx context.Context, p models.Principal, id string, in models.RuleInput) (*models.NotificationRule, error)
	DeleteRule(ctx context.Context, p models.Principal, id string) error
	TestRule(ctx context.Context, p models.Principal, id, nonce string) (string, error)
}

var (
	raisers  = []models.Role{models.RoleExpert, models.RoleManager}
	triagers = []models.Role{models.RoleCustomerAdmin, models.RoleExpert, models.RoleManager}
)

func (s *Server) alertRoutes() []route {
	return []route{
		{method: "POST", path: "/api/v1/alerts", roles: raisers, create: true, handle: s.raiseAlert},
		{method: "GET", path: "/api/v1/alerts", roles: anyone, handle: s.listAlerts},
		{method: "GET", path: "/api/v1/alerts/:id", roles: anyone, handle: s.getAlert},
		{method: "PATCH", path: "/api/v1/alerts/:id", roles: triagers, handle: s.patchAlert},
		{method: "GET", path: "/api/v1/incidents", roles: anyone, handle: s.listIncidents},
		{method: "GET", path: "/api/v1/incidents/:id", roles: anyone, handle: s.getIncident},
		{method: "PATCH", path: "/api/v1/incidents/:id", roles: triagers, handle: s.patchIncident},
		{method: "GET", path: "/api/v1/hunting/device-alert-events", roles: anyone, handle: s.hunting},
		{method: "GET", path: "/api/v1/notification-rules", roles: anyone, handle: s.listRules},
		{method: "POST", path: "/api/v1/notification-rules", roles: admins, create: true, handle: s.createRule},
		{method: "GET", path: "/api/v1/notification-rules/:id", roles: anyone, handle: s.getRule},
		{method: "PUT", path: "/api/v1/notification-rules/:id", roles: admins, handle: s.replaceRule},
		{method: "DELETE", path: "/api/v1/notification-rules/:id", roles: admins, handle: s.deleteRule},
		{method: "POST", path: "/api/v1/notification-rules/:id/test", roles: admins, create: true, handle: s.testRule},
	}
}

func (s *Server) raiseAlert(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.AlertInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	a, err := s.Alerts.Raise(idem(c), p, in)
	return http.StatusCreated, a, err
}

func (s *Server) listAlerts(c *gin.Context, p models.Principal) (int, any, error) {
	l, err := s.Alerts.List(c, p, c.Request.URL.Query())
	return http.StatusOK, l, err
}

func (s *Server) getAlert(c *gin.Context, p models.Principal) (int, any, error) {
	a, err := s.Alerts.Get(c, p, c.Param("id"))
	return http.StatusOK, a, err
}

func (s *Server) patchAlert(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.AlertPatch
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	a, err := s.Alerts.Patch(c, p, c.Param("id"), in)
	return http.StatusOK, a, err
}

func (s *Server) listIncidents(c *gin.Context, p models.Principal) (int, any, error) {
	l, err := s.Alerts.Incidents(c, p, c.Request.URL.Query())
	return http.StatusOK, l, err
}

func (s *Server) getIncident(c *gin.Context, p models.Principal) (int, any, error) {
	i, err := s.Alerts.Incident(c, p, c.Param("id"))
	return http.StatusOK, i, err
}

func (s *Server) patchIncident(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.AlertPatch
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	i, err := s.Alerts.PatchIncident(c, p, c.Param("id"), in)
	return http.StatusOK, i, err
}

// Limits of the hunting table: a JSON page, and a CSV export (streamed, so
// memory stays flat; bounded so one request cannot scan for ever).
const (
	huntingPage      = 100
	huntingMaxPage   = 1000
	huntingCSVMaxRow = 100_000
)

var huntingHeader = []string{"Timestamp", "AlertId", "Title", "Severity", "Category", "DeviceId", "DeviceName", "ServiceSource", "DetectionSource", "IncidentId"}

// hunting serves the DeviceAlertEvents-style table: a JSON page, or the
// whole selection as CSV (RFC 4180) when the client accepts text/csv.
func (s *Server) hunting(c *gin.Context, p models.Principal) (int, any, error) {
	f := models.HuntingFilter{DeviceID: c.Query("device_id"), Page: models.Page{Cursor: c.Query("cursor")}}
	if p.Role.Staff() {
		f.OrgID = c.Query("org_id")
	}
	var err error
	if f.From, err = queryTime(c, "from"); err != nil {
		return 0, nil, err
	}
	if f.To, err = queryTime(c, "to"); err != nil {
		return 0, nil, err
	}
	limit := huntingPage
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > huntingMaxPage {
			return 0, nil, invalid("limit", "must be a whole number from 1 to 1000")
		}
	}
	if c.NegotiateFormat(gin.MIMEJSON, "text/csv") == "text/csv" && !strings.Contains(c.GetHeader("Accept"), gin.MIMEJSON) {
		return s.huntingCSV(c, p, f)
	}
	rows := []models.HuntingRow{}
	next, err := s.Alerts.Hunting(c, p, f, limit, func(r models.HuntingRow) error { rows = append(rows, r); return nil })
	return http.StatusOK, models.List[models.HuntingRow]{Items: rows, NextCursor: next}, err
}

func (s *Server) huntingCSV(c *gin.Context, p models.Principal, f models.HuntingFilter) (int, any, error) {
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true // RFC 4180
	started := false
	_, err := s.Alerts.Hunting(c, p, f, huntingCSVMaxRow, func(r models.HuntingRow) error {
		if !started {
			c.Header("Content-Type", "text/csv; charset=utf-8")
			c.Header("Content-Disposition", `attachment; filename="device-alert-events.csv"`)
			c.Status(http.StatusOK)
			started = true
			if err := w.Write(huntingHeader); err != nil {
				return err
			}
		}
		return w.Write([]string{r.Timestamp.UTC().Format(time.RFC3339Nano), r.AlertID, cell(r.Title), string(r.Severity), cell(r.Category),
			cell(r.DeviceID), cell(r.DeviceName), cell(r.ServiceSource), cell(r.DetectionSource), r.IncidentID})
	})
	if err != nil && !started {
		return 0, nil, err
	}
	if !started {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		_ = w.Write(huntingHeader)
	}
	w.Flush()
	return http.StatusOK, nil, nil
}

// cell defuses a value a spreadsheet would run as a formula (OWASP's CSV
// injection advice): a leading = + - @ tab or CR gets a quote in front.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) listRules(c *gin.Context, p models.Principal) (int, any, error) {
	l, err := s.Alerts.Rules(c, p, c.Query("org_id"))
	return http.StatusOK, l, err
}

func (s *Server) getRule(c *gin.Context, p models.Principal) (int, any, error) {
	r, err := s.Alerts.Rule(c, p, c.Param("id"))
	return http.StatusOK, r, err
}

func (s *Server) createRule(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.RuleInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	r, err := s.Alerts.CreateRule(c, p, in)
	return http.StatusCreated, r, err
}

func (s *Server) replaceRule(c *gin.Context, p models.Principal) (int, any, error) {
	var in models.RuleInput
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	r, err := s.Alerts.ReplaceRule(c, p, c.Param("id"), in)
	return http.StatusOK, r, err
}

func (s *Server) deleteRule(c *gin.Context, p models.Principal) (int, any, error) {
	return http.StatusNoContent, nil, s.Alerts.DeleteRule(c, p, c.Param("id"))
}

func (s *Server) testRule(c *gin.Context, p models.Principal) (int, any, error) {
	id, err := s.Alerts.TestRule(c, p, c.Param("id"), c.GetHeader("Idempotency-Key"))
	return http.StatusAccepted, gin.H{"status": "queued", "workflow_id": id}, err
}
