package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/huntdesk/huntdesk/models"
)

// SLA is what managers audit; *cases.SLA implements it.
type SLA interface {
	Timers(ctx context.Context, p models.Principal, f models.SLATimerFilter) (models.List[models.SLATimer], error)
	Report(ctx context.Context, p models.Principal, from, to *time.Time, orgID string) (*models.SLAReport, error)
}

func (s *Server) slaRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/sla/timers", roles: managers, handle: s.slaTimers},
		{method: "GET", path: "/api/v1/reports/sla", roles: managers, handle: s.slaReport},
	}
}

func (s *Server) slaTimers(c *gin.Context, p models.Principal) (int, any, error) {
	pg, err := page(c)
	if err != nil {
		return 0, nil, err
	}
	l, err := s.SLA.Timers(c, p, models.SLATimerFilter{Kind: c.Query("kind"), State: c.Query("state"), OrgID: c.Query("org_id"),
		AssigneeID: c.Query("assignee_id"), Page: pg})
	return http.StatusOK, l, err
}

func (s *Server) slaReport(c *gin.Context, p models.Principal) (int, any, error) {
	from, err := queryTime(c, "from")
	if err != nil {
		return 0, nil, err
	}
	to, err := queryTime(c, "to")
	if err != nil {
		return 0, nil, err
	}
	rep, err := s.SLA.Report(c, p, from, to, c.Query("org_id"))
	if err != nil || c.NegotiateFormat(gin.MIMEJSON, "text/csv") != "text/csv" || strings.Contains(c.GetHeader("Accept"), gin.MIMEJSON) {
		return http.StatusOK, rep, err
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="sla-report.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	for _, row := range slaReportRows(rep) {
		_ = w.Write(row)
	}
	w.Flush()
	return http.StatusOK, nil, nil
}

// slaReportRows is the report as CSV rows: a header, then one row per
// section (summary, each expert, each org, applications); cells that do not
// apply to a section are empty.
func slaReportRows(r *models.SLAReport) [][]string {
	cols := []string{"section", "id", "name", "opened", "open", "concluded", "breaches", "breach_rate", "progress_reports_sent",
		"first_report_p50_s", "first_report_p90_s", "first_report_max_s", "conclusion_p50_s", "conclusion_p90_s",
		"answers_awaited", "customer_wait_p50_s", "decided", "decided_late", "decision_p50_s"}
	at := map[string]int{}
	for i, c := range cols {
		at[c] = i
	}
	row := func(kv map[string]string) []string {
		out := make([]string, len(cols))
		for k, v := range kv {
			out[at[k]] = v
		}
		return out
	}
	num := func(n int) string { return strconv.Itoa(n) }
	sec := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	i := r.Inquiries
	rows := [][]string{cols, row(map[string]string{"section": "inquiries", "opened": num(i.Opened), "breaches": num(i.Breaches), "breach_rate": sec(i.BreachRate),
		"progress_reports_sent": num(i.ReportsSent), "first_report_p50_s": sec(i.FirstReport.P50), "first_report_p90_s": sec(i.FirstReport.P90),
		"first_report_max_s": sec(i.FirstReport.Max), "conclusion_p50_s": sec(i.Conclusion.P50), "conclusion_p90_s": sec(i.Conclusion.P90),
		"answers_awaited": num(i.AnswersAwaited), "customer_wait_p50_s": sec(i.CustomerWait.P50)})}
	for _, e := range r.Experts {
		rows = append(rows, row(map[string]string{"section": "expert", "id": e.UserID, "name": e.Email, "open": num(e.Open), "concluded": num(e.Concluded),
			"breaches": num(e.Breaches), "first_report_p50_s": sec(e.FirstReport)}))
	}
	for _, o := range r.Orgs {
		rows = append(rows, row(map[string]string{"section": "org", "id": o.OrgID, "name": o.Name, "opened": num(o.Opened), "breaches": num(o.Breaches),
			"first_report_p50_s": sec(o.FirstReport)}))
	}
	a := r.Applications
	return append(rows, row(map[string]string{"section": "applications", "decided": num(a.Decided), "decided_late": num(a.DecidedLate), "decision_p50_s": sec(a.ToDecision.P50)}))
}
