// Package web is huntdesk's console: server-rendered pages for customers,
// expert hunters and managers, under /app/. It calls the same services as
// the API (internal/cases) with the same models.Principal, and declares who
// may open each page in one route table, as the API does: there is no second
// authorization model. Sign-in is by a one-time link sent by email; a
// server-side session keeps the browser signed in.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Mailer sends one email per (entity, event); *mail.Mailer is the real one.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// Deps are the services the console calls.
type Deps struct {
	DB     *store.DB
	Apps   *cases.Applications
	Inq    *cases.Inquiries
	Alerts *cases.Alerts
	SLA    *cases.SLA
	Mail   Mailer
	// PublicURL is where people reach huntdesk: links in sign-in emails, and
	// https there makes the session cookie Secure.
	PublicURL string
	// SampleMaxBytes is the largest sample a customer may upload (the API's
	// HUNTDESK_SAMPLE_MAX_BYTES); 0 means 32 MiB.
	SampleMaxBytes int64
	Logger         *slog.Logger
}

// Console is the web console's handler.
type Console struct {
	Deps
	pages   *template.Template
	handler http.Handler

	mu     sync.Mutex
	byAddr map[string]*rate.Limiter // sign-in requests per client address
}

// route is one console page or form: who may use it, and its handler.
type route struct {
	pattern string        // a net/http pattern: "GET /app/inquiries/{id}"
	roles   []models.Role // nil: public
	maxBody int64         // 0: 64 KiB, enough for any form but a file
	handle  func(w http.ResponseWriter, r *http.Request, p models.Principal)
}

var (
	everyone  = models.Roles
	customers = []models.Role{models.RoleCustomerViewer, models.RoleCustomerAdmin}
	admins    = []models.Role{models.RoleCustomerAdmin}
	staff     = []models.Role{models.RoleExpert, models.RoleManager}
	managers  = []models.Role{models.RoleManager}
	triagers  = []models.Role{models.RoleCustomerAdmin, models.RoleExpert, models.RoleManager}
)

func (c *Console) routes() []route {
	return []route{
		{pattern: "GET /app/sign-in", handle: c.signInForm},
		{pattern: "POST /app/sign-in", handle: c.requestLink},
		{pattern: "GET /app/sign-in/{link}", handle: c.confirmLink},
		{pattern: "POST /app/sign-in/{link}", handle: c.useLink},
		{pattern: "POST /app/sign-out", roles: everyone, handle: c.signOut},
		{pattern: "GET /app/{$}", roles: everyone, handle: c.home},
		{pattern: "GET /app/me", roles: everyone, handle: c.me},
		{pattern: "POST /app/me", roles: staff, handle: c.setNotifications},
		{pattern: "GET /app/inquiries", roles: everyone, handle: c.inquiries},
		{pattern: "GET /app/inquiries/new", roles: admins, handle: c.askForm},
		{pattern: "POST /app/inquiries", roles: admins, handle: c.ask},
		{pattern: "GET /app/inquiries/{id}", roles: everyone, handle: c.inquiry},
		{pattern: "POST /app/inquiries/{id}/responses", roles: admins, handle: c.respond},
		{pattern: "POST /app/inquiries/{id}/claim", roles: staff, handle: c.claim},
		{pattern: "POST /app/inquiries/{id}/reports", roles: staff, handle: c.report},
		{pattern: "GET /app/queue", roles: staff, handle: c.queue},
		{pattern: "GET /app/alerts", roles: everyone, handle: c.alerts},
		{pattern: "GET /app/alerts/{id}", roles: everyone, handle: c.alert},
		{pattern: "POST /app/alerts/{id}", roles: triagers, handle: c.triage},
		{pattern: "POST /app/inquiries/{id}/samples", roles: admins, maxBody: c.SampleMaxBytes + 64<<10, handle: c.uploadSample},
		{pattern: "POST /app/inquiries/{id}/cancel", roles: admins, handle: c.cancel},
		{pattern: "POST /app/inquiries/{id}/assign", roles: managers, handle: c.assign},
		{pattern: "GET /app/samples/{id}", roles: staff, handle: c.downloadSample},
		{pattern: "GET /app/incidents", roles: everyone, handle: c.incidents},
		{pattern: "GET /app/incidents/{id}", roles: everyone, handle: c.incident},
		{pattern: "GET /app/rules", roles: everyone, handle: c.rules},
		{pattern: "POST /app/rules", roles: admins, handle: c.createRule},
		{pattern: "POST /app/rules/{id}/delete", roles: admins, handle: c.deleteRule},
		{pattern: "GET /app/settings", roles: customers, handle: c.settings},
		{pattern: "POST /app/settings/application", roles: admins, handle: c.apply},
		{pattern: "POST /app/settings/application/withdraw", roles: admins, handle: c.withdraw},
		{pattern: "POST /app/settings/notifications", roles: admins, handle: c.toggleNotifications},
		{pattern: "GET /app/applications", roles: managers, handle: c.applications},
		{pattern: "POST /app/applications/{id}/approve", roles: managers, handle: c.approve},
		{pattern: "POST /app/applications/{id}/reject", roles: managers, handle: c.reject},
		{pattern: "GET /app/sla", roles: managers, handle: c.slaBoard},
		{pattern: "GET /app/sla/report", roles: managers, handle: c.slaReport},
		{pattern: "GET /app/audit", roles: managers, handle: c.audit},
		{pattern: "GET /app/orgs", roles: managers, handle: c.orgs},
		{pattern: "POST /app/orgs", roles: managers, handle: c.createOrg},
		{pattern: "GET /app/orgs/{id}", roles: managers, handle: c.org},
		{pattern: "POST /app/orgs/{id}/users", roles: managers, handle: c.createUser},
		{pattern: "GET /app/users/{id}", roles: managers, handle: c.user},
		{pattern: "POST /app/users/{id}/tokens", roles: managers, handle: c.createToken},
		{pattern: "POST /app/tokens/{id}/revoke", roles: managers, handle: c.revokeToken},
	}
}

// RouteInfo is one console route, for tests that walk every route.
type RouteInfo struct {
	Pattern string
	Roles   []models.Role
}

// Routes lists the console's routes.
func (c *Console) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range c.routes() {
		out = append(out, RouteInfo{Pattern: r.pattern, Roles: r.roles})
	}
	return out
}

// New builds the console.
func New(d Deps) (*Console, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.SampleMaxBytes <= 0 {
		d.SampleMaxBytes = 32 << 20
	}
	pages, err := template.New("").Funcs(funcs).Funcs(template.FuncMap{"slaState": d.slaState}).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	c := &Console{Deps: d, pages: pages, byAddr: map[string]*rate.Limiter{}}
	mux := http.NewServeMux()
	for _, r := range c.routes() {
		mux.Handle(r.pattern, c.wrap(r))
	}
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /app/static/", http.StripPrefix("/app/static/", http.FileServerFS(static)))
	// Only GET falls through to the "no such page" page: a known page asked
	// with another method gets the mux's 405 with its Allow header.
	mux.HandleFunc("GET /app/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", models.Principal{}, pageData{"Message": "There is no such page."})
	})
	// Forms are refused when a browser says they come from another site
	// (Fetch metadata / Origin): cross-site request forgery protection.
	c.handler = http.NewCrossOriginProtection().Handler(mux)
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

const sessionCookie = "hd_session"

// wrap signs the caller in from the session cookie and checks the route's
// roles: a stranger is sent to sign in, a role that may not is shown 403.
func (c *Console) wrap(rt route) http.Handler {
	allowed := map[models.Role]bool{}
	for _, role := range rt.roles {
		allowed[role] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		limit := rt.maxBody
		if limit <= 0 {
			limit = 64 << 10
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		var p models.Principal
		if ck, err := r.Cookie(sessionCookie); err == nil {
			p, _ = c.DB.Session(r.Context(), ck.Value)
		}
		if rt.roles != nil {
			if p.UserID == "" {
				http.Redirect(w, r, "/app/sign-in?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
				return
			}
			if !allowed[p.Role] {
				c.render(w, r, http.StatusForbidden, "error", p, pageData{"Message": "Your role may not open this page."})
				return
			}
		}
		rt.handle(w, r, p)
	})
}

// pageData is what a page template sees besides the caller.
type pageData map[string]any

// render executes a page inside the layout.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, p models.Principal, data pageData) {
	if data == nil {
		data = pageData{}
	}
	data["Me"] = p
	data["Page"] = page
	data["Staff"] = p.Role.Staff()
	data["Manager"] = p.Role == models.RoleManager
	data["Admin"] = p.Role == models.RoleCustomerAdmin
	// Rendered whole before a byte goes out: a template that fails is a
	// 500, not half a page with a 200.
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, page+".html", data); err != nil {
		c.Logger.Error("render console page", "page", page, "err", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail shows an error the way people read it: not found as 404, a refusal
// as 403, a conflict or bad input as a message on the page they came from.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, p models.Principal, err error) {
	status := http.StatusInternalServerError
	switch models.ErrorCode(err) {
	case models.ENOTFOUND:
		status = http.StatusNotFound
	case models.EFORBIDDEN, models.ESUBSCRIPTION, models.ETRIALEXHAUSTED:
		status = http.StatusForbidden
	case models.ECONFLICT, models.EINVALIDSTATE:
		status = http.StatusConflict
	case models.EINVALID, models.EUNPROCESSABLE, models.EPREREQUISITE, models.ECUSTOMTI, models.ETOOLARGE:
		status = http.StatusBadRequest
	case models.ERATELIMITED:
		status = http.StatusTooManyRequests
	case models.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusInternalServerError {
		c.Logger.Error("console", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", p, pageData{"Message": models.ErrorMessage(err), "Fields": fieldsOf(err)})
}

func fieldsOf(err error) map[string]string {
	var e *models.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// allowAddr limits sign-in requests per client address (the store limits
// them per person too).
func (c *Console) allowAddr(r *http.Request) bool {
	addr := r.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		addr = addr[:i]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.byAddr[addr]
	if !ok {
		if len(c.byAddr) >= 10_000 { // bounded: forget everyone, rarely
			c.byAddr = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Every(time.Minute/5), 5)
		c.byAddr[addr] = l
	}
	return l.Allow()
}

// slaState is an inquiry's SLA at a glance: breached, paused (waiting on
// the customer), warned (into the last quarter of the period, when the
// workflow warns the expert), on time, or closed.
func (d Deps) slaState(v any) string {
	var q *models.Inquiry
	switch x := v.(type) {
	case models.Inquiry:
		q = &x
	case *models.Inquiry:
		q = x
	default:
		return ""
	}
	sla := d.Inq.SLA
	if sla <= 0 {
		sla = 48 * time.Hour
	}
	switch {
	case !q.Status.Open():
		return "closed"
	case q.SLA.Breached:
		return "breached"
	case q.SLA.Paused:
		return "paused"
	case q.SLA.Seconds != nil && time.Duration(*q.SLA.Seconds)*time.Second <= sla/4:
		return "warned"
	}
	return "on-time"
}

var funcs = template.FuncMap{
	// left is time left as people read it: "31h 12m left", "2h 5m overdue".
	"left": func(s *int64) string {
		if s == nil {
			return ""
		}
		d, word := time.Duration(*s)*time.Second, "left"
		if d < 0 {
			d, word = -d, "overdue"
		}
		h, m := int(d.Hours()), int(d.Minutes())%60
		if h == 0 {
			return fmt.Sprintf("%dm %s", m, word)
		}
		return fmt.Sprintf("%dh %dm %s", h, m, word)
	},
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"categories": func() []models.ReportCategory {
		return []models.ReportCategory{models.ReportMoreInfo, models.ReportSamples, models.ReportMoreTime, models.ReportConcluded}
	},
	"add":     func(a, b int) int { return a + b },
	"sub":     func(a, b int) int { return a - b },
	"percent": func(f *float64) string { return fmt.Sprintf("%.1f %%", *f*100) },
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(s *float64) string {
		if s == nil {
			return "—"
		}
		return (time.Duration(*s) * time.Second).String()
	},
	"orgName": func(names map[string]string, id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	},
	"plans": func() []models.Plan { return []models.Plan{models.PlanNone, models.PlanTrial, models.PlanFull} },
	"groups": func() []models.TopicGroup {
		return []models.TopicGroup{models.GroupAlertInformation, models.GroupPossibleDeviceCompromise, models.GroupThreatIntelligence, models.GroupAlertCommunications}
	},
}
