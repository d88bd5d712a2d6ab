package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

// slaReport is the managers' SLA report for a month, with a chart drawn on
// the server: each expert's and each org's median time to the first
// progress report beside the SLA.
func (c *Console) slaReport(w http.ResponseWriter, r *http.Request, p models.Principal) {
	month := r.URL.Query().Get("month")
	now := c.DB.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if month != "" {
		t, err := time.Parse("2006-01", month)
		if err != nil {
			c.render(w, r, http.StatusBadRequest, "sla-report", p, pageData{"Month": month, "Fields": map[string]string{"month": "must be a month like 2026-11"}})
			return
		}
		from = t
	}
	to := from.AddDate(0, 1, 0)
	rep, err := c.SLA.Report(r.Context(), p, &from, &to, "")
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	sla := c.Inq.SLA
	if sla <= 0 {
		sla = 48 * time.Hour
	}
	var bars []bar
	for _, e := range rep.Experts {
		bars = append(bars, bar{Label: e.Email, Seconds: e.FirstReport, Note: fmt.Sprintf("%d concluded, %d breaches", e.Concluded, e.Breaches)})
	}
	experts := newChart(bars, sla)
	bars = nil
	for _, o := range rep.Orgs {
		bars = append(bars, bar{Label: o.Name, Seconds: o.FirstReport, Note: fmt.Sprintf("%d opened, %d breaches", o.Opened, o.Breaches)})
	}
	orgs := newChart(bars, sla)
	c.render(w, r, http.StatusOK, "sla-report", p, pageData{"R": rep, "Month": from.Format("2006-01"),
		"Prev": from.AddDate(0, -1, 0).Format("2006-01"), "Next": to.Format("2006-01"), "Experts": experts, "Orgs": orgs, "SLA": sla})
}

// bar is one row of a chart: a label and a duration (nil: nothing yet).
type bar struct {
	Label   string
	Seconds *float64
	Note    string
	// Computed by newChart, in SVG user units.
	Y, W  int
	Hours string
	Over  bool // longer than the SLA
}

// chart is a horizontal bar chart drawn by the sla-chart template: bars
// scaled to the longest bar or the SLA, whichever is longer, and a line at
// the SLA.
type chart struct {
	Bars          []bar
	Width, Height int
	LabelW, PlotW int
	SLAX          int
	SLALabel      string
}

const (
	chartLabelW = 220
	chartPlotW  = 420
	chartRowH   = 26
)

func newChart(bars []bar, sla time.Duration) chart {
	scale := sla.Seconds()
	for _, b := range bars {
		if b.Seconds != nil && *b.Seconds > scale {
			scale = *b.Seconds
		}
	}
	ch := chart{LabelW: chartLabelW, PlotW: chartPlotW, Width: chartLabelW + chartPlotW + 120, Height: chartRowH*len(bars) + 30,
		SLAX: chartLabelW + int(float64(chartPlotW)*sla.Seconds()/scale), SLALabel: "SLA " + hours(sla.Seconds())}
	for i, b := range bars {
		b.Y = 20 + i*chartRowH
		if b.Seconds != nil {
			b.W = max(1, int(float64(chartPlotW)**b.Seconds/scale))
			b.Hours = hours(*b.Seconds)
			b.Over = *b.Seconds > sla.Seconds()
		} else {
			b.Hours = "no report yet"
		}
		if len(b.Label) > 30 {
			b.Label = b.Label[:29] + "…"
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

func hours(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.0f s", s)
	}
	if s < 3600 {
		return fmt.Sprintf("%.0f min", s/60)
	}
	return fmt.Sprintf("%.1f h", s/3600)
}

// audit is the audit log with the API's filters.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, p models.Principal) {
	q := r.URL.Query()
	f := models.AuditFilter{Entity: q.Get("entity"), EntityID: q.Get("entity_id"), OrgID: q.Get("org_id"), ActorID: q.Get("actor_id"),
		Page: models.Page{Limit: 100, Cursor: q.Get("cursor")}}
	fields := map[string]string{}
	for _, k := range []string{"since", "until"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				fields[k] = "must be a date like 2026-11-24"
				continue
			}
			if k == "since" {
				f.Since = &t
			} else {
				t = t.AddDate(0, 0, 1) // through the end of that day
				f.Until = &t
			}
		}
	}
	data := pageData{"F": q, "Fields": fields}
	if len(fields) > 0 {
		c.render(w, r, http.StatusBadRequest, "audit", p, data)
		return
	}
	l, err := c.DB.Audit(r.Context(), f)
	if err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			data["Fields"] = fieldsOf(err)
			c.render(w, r, http.StatusBadRequest, "audit", p, data)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	data["List"], data["NextURL"] = l, nextURL("/app/audit", q, l.NextCursor)
	c.render(w, r, http.StatusOK, "audit", p, data)
}

// orgs lists every org, with a form for a new customer org.
func (c *Console) orgs(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.renderOrgs(w, r, p, http.StatusOK, nil, orgForm{Plan: string(models.PlanFull)})
}

type orgForm struct{ Name, Devices, Plan, TrialEnds, TrialAllowance string }

func (c *Console) renderOrgs(w http.ResponseWriter, r *http.Request, p models.Principal, status int, fields map[string]string, in orgForm) {
	l, err := c.DB.Orgs(r.Context(), models.Page{Limit: 200, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, status, "orgs", p, pageData{"List": l, "In": in, "Fields": fields})
}

func (c *Console) createOrg(w http.ResponseWriter, r *http.Request, p models.Principal) {
	f := orgForm{Name: r.FormValue("name"), Devices: r.FormValue("devices_enrolled"), Plan: r.FormValue("plan"),
		TrialEnds: r.FormValue("trial_ends_at"), TrialAllowance: r.FormValue("trial_allowance")}
	in, fields := f.input()
	if len(fields) > 0 {
		c.renderOrgs(w, r, p, http.StatusBadRequest, fields, f)
		return
	}
	o, err := c.DB.CreateOrg(r.Context(), p, models.OrgCustomer, in)
	if err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			c.renderOrgs(w, r, p, http.StatusBadRequest, fieldsOf(err), f)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/orgs/"+o.ID, http.StatusSeeOther)
}

// input reads the form's text into the API's OrgInput; the numbers and the
// date that do not parse are field errors here, the rest is OrgInput's.
func (f orgForm) input() (models.OrgInput, map[string]string) {
	fields := map[string]string{}
	name := f.Name
	in := models.OrgInput{Name: &name, Subscription: &models.Subscription{Plan: models.Plan(f.Plan)}}
	if f.Devices != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.Devices))
		if err != nil {
			fields["devices_enrolled"] = "must be a whole number"
		}
		in.DevicesEnrolled = &n
	}
	if f.TrialEnds != "" {
		t, err := time.Parse("2006-01-02", f.TrialEnds)
		if err != nil {
			fields["subscription.trial_ends_at"] = "must be a date like 2026-12-31"
		}
		in.Subscription.TrialEndsAt = &t
	}
	if f.TrialAllowance != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.TrialAllowance))
		if err != nil {
			fields["subscription.trial_allowance"] = "must be a whole number"
		}
		in.Subscription.TrialAllowance = &n
	}
	return in, fields
}

// org shows one org with its people, and a form to add someone.
func (c *Console) org(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.renderOrg(w, r, p, http.StatusOK, nil, models.UserInput{Role: models.RoleCustomerViewer})
}

func (c *Console) renderOrg(w http.ResponseWriter, r *http.Request, p models.Principal, status int, fields map[string]string, in models.UserInput) {
	o, err := c.DB.Org(r.Context(), p.Scope(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	users, err := c.DB.Users(r.Context(), o.ID, models.Page{Limit: 200})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	roles := []models.Role{models.RoleCustomerViewer, models.RoleCustomerAdmin}
	if o.Kind == models.OrgProvider {
		roles = []models.Role{models.RoleExpert, models.RoleManager}
	}
	c.render(w, r, status, "org", p, pageData{"O": o, "Sub": o.Subscription(), "EAN": o.EAN(), "Users": users, "In": in, "Fields": fields, "Roles": roles})
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request, p models.Principal) {
	in := models.UserInput{OrgID: r.PathValue("id"), Email: r.FormValue("email"), Name: r.FormValue("name"), Role: models.Role(r.FormValue("role"))}
	if _, err := c.DB.Org(r.Context(), p.Scope(), in.OrgID); err != nil {
		c.fail(w, r, p, err)
		return
	}
	if _, err := c.DB.CreateUser(r.Context(), p, in); err != nil {
		if code := models.ErrorCode(err); code == models.EINVALID || code == models.ECONFLICT {
			c.renderOrg(w, r, p, http.StatusBadRequest, fieldsOr(err, "email"), in)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/orgs/"+in.OrgID, http.StatusSeeOther)
}

// fieldsOr is err's field errors, or its message beside field.
func fieldsOr(err error, field string) map[string]string {
	if f := fieldsOf(err); len(f) > 0 {
		return f
	}
	return map[string]string{field: models.ErrorMessage(err)}
}

// user shows one person's API tokens; a new token's secret is shown once.
func (c *Console) user(w http.ResponseWriter, r *http.Request, p models.Principal) {
	c.renderUser(w, r, p, http.StatusOK, pageData{})
}

func (c *Console) renderUser(w http.ResponseWriter, r *http.Request, p models.Principal, status int, data pageData) {
	u, err := c.DB.User(r.Context(), p.Scope(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	toks, err := c.DB.Tokens(r.Context(), u.ID, models.Page{Limit: 200})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	data["U"], data["Tokens"] = u, toks
	c.render(w, r, status, "user", p, data)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, p models.Principal) {
	in := models.TokenInput{Name: r.FormValue("name")}
	if d := r.FormValue("expires_at"); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			c.renderUser(w, r, p, http.StatusBadRequest, pageData{"Fields": map[string]string{"expires_at": "must be a date like 2027-01-31"}, "Name": in.Name})
			return
		}
		in.ExpiresAt = &t
	}
	err := in.Validate()
	var secret string
	if err == nil {
		secret, _, err = c.DB.CreateToken(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			c.renderUser(w, r, p, http.StatusBadRequest, pageData{"Fields": fieldsOf(err), "Name": in.Name})
			return
		}
		c.fail(w, r, p, err)
		return
	}
	// The secret exists only in this response: shown once, never stored.
	c.renderUser(w, r, p, http.StatusCreated, pageData{"Secret": secret})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, p models.Principal) {
	t, err := c.DB.RevokeToken(r.Context(), p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/app/users/"+t.UserID, http.StatusSeeOther)
}
