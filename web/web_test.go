package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/mocks"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/web"
)

// fixture is the console over a real store, the real services (their
// Temporal client a mock expecting no call: pages here stop before a
// workflow) and the real mailer whose SMTP is a recorder.
type fixture struct {
	t       *testing.T
	db      *store.DB
	srv     *httptest.Server
	console *web.Console
	mu      sync.Mutex
	sent    []mail.Outgoing
	users   map[string]*models.User
	orgA    *models.Org
	orgB    *models.Org
}

// fixtureOptions change the console's configuration for one test.
type fixtureOptions struct{ sampleMax int64 }

func newFixture(t *testing.T, opts ...func(*fixtureOptions)) *fixture {
	t.Helper()
	var o fixtureOptions
	for _, fn := range opts {
		fn(&o)
	}
	f := &fixture{t: t, db: storetest.Open(t), users: map[string]*models.User{}}
	ctx := context.Background()
	mkOrg := func(name string, kind models.OrgKind) *models.Org {
		devices := 5
		o, err := f.db.CreateOrg(ctx, models.System, kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	prov := mkOrg("provider", models.OrgProvider)
	f.orgA, f.orgB = mkOrg("Alpha", models.OrgCustomer), mkOrg("Bravo", models.OrgCustomer)
	for key, u := range map[string]struct {
		org  *models.Org
		role models.Role
	}{"viewer": {f.orgA, models.RoleCustomerViewer}, "admin": {f.orgA, models.RoleCustomerAdmin}, "expert": {prov, models.RoleExpert},
		"manager": {prov, models.RoleManager}, "admin_b": {f.orgB, models.RoleCustomerAdmin}} {
		user, err := f.db.CreateUser(ctx, models.System, models.UserInput{OrgID: u.org.ID, Email: key + "@test.example", Name: key, Role: u.role})
		if err != nil {
			t.Fatal(err)
		}
		f.users[key] = user
	}
	m, err := mail.New(mail.Config{Host: "smtp.invalid", Port: 25, TLSPolicy: "none", From: "huntdesk@huntdesk.example"}, f.db.Outbox(),
		mail.WithSender(func(ctx context.Context, o mail.Outgoing) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sent = append(f.sent, o)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	tc := mocks.NewClient(t)
	inq := &cases.Inquiries{DB: f.db, Temporal: tc}
	f.console, err = web.New(web.Deps{DB: f.db, Apps: &cases.Applications{DB: f.db, Temporal: tc}, Inq: inq, Alerts: &cases.Alerts{DB: f.db, Temporal: tc}, SLA: &cases.SLA{DB: f.db}, Mail: m, PublicURL: "https://huntdesk.example", SampleMaxBytes: o.sampleMax})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.console)
	t.Cleanup(f.srv.Close)
	return f
}

// raiseAlert enrolls org (its admin applies, the manager approves, as the
// workflow would record them) and raises an expert's alert for it.
func (f *fixture) raiseAlert(org *models.Org, admin string) *models.Alert {
	f.t.Helper()
	ctx := context.Background()
	yes := true
	app, _, err := f.db.CreateApplication(ctx, models.Principal{UserID: f.users[admin].ID, OrgID: org.ID, Role: models.RoleCustomerAdmin},
		models.ApplicationInput{ContactName: "C", ContactEmail: "c@test.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: f.users["manager"].ID, Role: models.RoleManager}, "", "", time.Now()); err != nil {
		f.t.Fatal(err)
	}
	a, err := f.db.RaiseAlert(ctx, models.Principal{UserID: f.users["expert"].ID, Role: models.RoleExpert}, store.NewAlert{AlertInput: models.AlertInput{
		OrgID: org.ID, Title: "Credential theft", Severity: models.SeverityHigh, Category: "c", Devices: []models.AlertDevice{{ID: "d", Name: "n"}}}}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// ask stores an inquiry of who's org (as a submission would, before its
// workflow) with a progress report due in sla.
func (f *fixture) ask(who string, sla time.Duration) *models.Inquiry {
	f.t.Helper()
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@test.example"}
	kind, _ := in.Validate()
	u := f.users[who]
	q, err := f.db.CreateInquiry(context.Background(), models.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}, in, kind, sla)
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}

// browser is a client with its own cookies that follows no redirect.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status   int
	body     string
	location string
}

func (f *fixture) get(b *http.Client, path string) page {
	f.t.Helper()
	res, err := b.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(body), res.Header.Get("Location")}
}

func (f *fixture) post(b *http.Client, path string, form url.Values, header ...string) page {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(body), res.Header.Get("Location")}
}

var linkRe = regexp.MustCompile(`https://huntdesk\.example(/app/sign-in/hdl_[A-Za-z0-9_-]+)`)

// signIn asks for a link as a person would, reads it from the email, and
// spends it: the browser then holds the session cookie.
func (f *fixture) signIn(who string) *http.Client {
	f.t.Helper()
	b := f.browser()
	f.mu.Lock()
	n := len(f.sent)
	f.mu.Unlock()
	if p := f.post(b, "/app/sign-in", url.Values{"email": {f.users[who].Email}}); p.status != 200 || !strings.Contains(p.body, "Check your mailbox") {
		f.t.Fatalf("request a link: %d %s", p.status, p.body)
	}
	f.mu.Lock()
	if len(f.sent) != n+1 {
		f.t.Fatalf("%d emails, want one more", len(f.sent))
	}
	m := f.sent[len(f.sent)-1]
	f.mu.Unlock()
	link := linkRe.FindStringSubmatch(m.Text)
	if link == nil || m.To[0] != f.users[who].Email {
		f.t.Fatalf("no sign-in link for %s in %q", who, m.Text)
	}
	if p := f.get(b, link[1]); p.status != 200 || !strings.Contains(p.body, `id="sign-in"`) {
		f.t.Fatalf("open the link: %d", p.status)
	}
	p := f.post(b, link[1], url.Values{"next": {"/app/"}})
	if p.status != http.StatusSeeOther || p.location != "/app/" {
		f.t.Fatalf("spend the link: %d %s", p.status, p.body)
	}
	if again := f.post(f.browser(), link[1], nil); again.status != http.StatusUnauthorized {
		f.t.Fatalf("a link spent twice: %d", again.status)
	}
	return b
}

func TestSignInByEmailedLink(t *testing.T) {
	f := newFixture(t)
	stranger := f.browser()
	if p := f.get(stranger, "/app/inquiries"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/app/sign-in?next=") {
		t.Fatalf("a stranger: %d %q", p.status, p.location)
	}
	// An unknown address gets the same page, and no email.
	if p := f.post(stranger, "/app/sign-in", url.Values{"email": {"nobody@test.example"}}); p.status != 200 || !strings.Contains(p.body, "Check your mailbox") || len(f.sent) != 0 {
		t.Fatalf("unknown email: %d, %d emails", p.status, len(f.sent))
	}
	b := f.signIn("admin")
	if p := f.get(b, "/app/"); p.status != 200 || !strings.Contains(p.body, "Alpha") || !strings.Contains(p.body, "admin@test.example") {
		t.Fatalf("home: %d %s", p.status, p.body)
	}
	// A cross-site form post is refused (CSRF), a same-site one works.
	if p := f.post(b, "/app/sign-out", nil, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden {
		t.Fatalf("a cross-site sign-out: %d", p.status)
	}
	if p := f.post(b, "/app/sign-out", nil); p.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.status)
	}
	if p := f.get(b, "/app/"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.status)
	}
}

func TestSignInLinksExpireAndAreRateLimited(t *testing.T) {
	f := newFixture(t)
	tok, _, err := f.db.CreateSignInLink(context.Background(), "viewer@test.example")
	if err != nil {
		t.Fatal(err)
	}
	f.db.Now = func() time.Time { return time.Now().UTC().Add(16 * time.Minute) }
	if p := f.post(f.browser(), "/app/sign-in/"+tok, nil); p.status != http.StatusUnauthorized {
		t.Fatalf("an expired link: %d", p.status)
	}
	f.db.Now = func() time.Time { return time.Now().UTC() }
	for i := range 4 {
		if _, _, err := f.db.CreateSignInLink(context.Background(), "viewer@test.example"); err != nil {
			t.Fatalf("link %d: %v", i+2, err)
		}
	}
	if _, _, err := f.db.CreateSignInLink(context.Background(), "viewer@test.example"); models.ErrorCode(err) != models.ERATELIMITED {
		t.Fatalf("a sixth link in 15 minutes: %v", err)
	}
}

// TestEveryConsoleRouteByRoleAndTenant: who may open what, written by hand
// from SPEC.md's roles (customers their org's inquiries; admins ask and
// answer; staff the queue, claims and reports; managers the applications),
// and another org's inquiry answers the same 404 page as a missing one.
func TestEveryConsoleRouteByRoleAndTenant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "b@test.example"}
	kind, _ := in.Validate()
	qb, err := f.db.CreateInquiry(ctx, models.Principal{UserID: f.users["admin_b"].ID, OrgID: f.orgB.ID, Role: models.RoleCustomerAdmin}, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	qa, err := f.db.CreateInquiry(ctx, models.Principal{UserID: f.users["admin"].ID, OrgID: f.orgA.ID, Role: models.RoleCustomerAdmin}, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// An attack notification for each org (both enrolled).
	alertA, alertB := f.raiseAlert(f.orgA, "admin"), f.raiseAlert(f.orgB, "admin_b")
	// A sample the expert can download, attached to Alpha's inquiry as its
	// workflow would.
	smp, err := f.db.DraftSample(ctx, models.Principal{UserID: f.users["admin"].ID, OrgID: f.orgA.ID, Role: models.RoleCustomerAdmin}, qa.ID, "dropper.exe", []byte("MZ sample"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: qa.ID, Key: "s1", Action: "sample_added", At: time.Now(),
		Actor: models.Principal{UserID: f.users["admin"].ID, OrgID: f.orgA.ID, Role: models.RoleCustomerAdmin}, Status: models.InquirySubmitted, SampleID: smp.ID}); err != nil {
		t.Fatal(err)
	}
	incA, incB := alertA.IncidentID, alertB.IncidentID
	// viewer admin expert manager: may the role open the page (GET)?
	// From SPEC.md: customers see their org's cases, alerts, incidents,
	// rules and Advanced features; admins ask; staff work the queue and
	// read samples; managers decide applications, audit SLAs and the log,
	// and administer orgs, people and tokens.
	matrix := []roleRow{
		{"/app/", true, true, true, true},
		{"/app/me", true, true, true, true},
		{"/app/inquiries", true, true, true, true},
		{"/app/inquiries/new", false, true, false, false},
		{"/app/inquiries/" + qa.ID, true, true, true, true},
		{"/app/queue", false, false, true, true},
		{"/app/samples/" + smp.ID, false, false, true, true},
		{"/app/alerts", true, true, true, true},
		{"/app/alerts/" + alertA.ID, true, true, true, true},
		{"/app/incidents", true, true, true, true},
		{"/app/incidents/" + incA, true, true, true, true},
		{"/app/rules", true, true, true, true},
		{"/app/settings", true, true, false, false},
		{"/app/applications", false, false, false, true},
		{"/app/sla", false, false, false, true},
		{"/app/sla/report", false, false, false, true},
		{"/app/audit", false, false, false, true},
		{"/app/orgs", false, false, false, true},
		{"/app/orgs/" + f.orgA.ID, false, false, false, true},
		{"/app/users/" + f.users["admin"].ID, false, false, false, true},
	}
	served := map[string]bool{}
	for _, r := range f.console.Routes() {
		if strings.HasPrefix(r.Pattern, "GET ") && r.Roles != nil {
			served[r.Pattern] = true
		}
	}
	if len(served) != len(matrix) {
		t.Fatalf("the console serves %d signed-in pages, the matrix has %d rows: add a row from SPEC.md", len(served), len(matrix))
	}
	for _, who := range []string{"viewer", "admin", "expert", "manager"} {
		b := f.signIn(who)
		for _, row := range matrix {
			want := row.allows(who)
			p := f.get(b, row.path)
			if want && p.status != 200 || !want && p.status != http.StatusForbidden {
				t.Errorf("%s opens %s: %d, want allowed=%v", who, row.path, p.status, want)
			}
		}
		p := f.get(b, "/app/inquiries/"+qb.ID)
		gone := f.get(b, "/app/inquiries/inq_0")
		switch who {
		case "viewer", "admin":
			if p.status != http.StatusNotFound || p.body != gone.body {
				t.Errorf("%s opens another org's inquiry: %d", who, p.status)
			}
		default:
			if p.status != 200 {
				t.Errorf("%s opens an inquiry of any org: %d", who, p.status)
			}
		}
		ap, agone := f.get(b, "/app/alerts/"+alertB.ID), f.get(b, "/app/alerts/alr_0")
		if customer := who == "viewer" || who == "admin"; customer && (ap.status != http.StatusNotFound || ap.body != agone.body) || !customer && ap.status != 200 {
			t.Errorf("%s opens another org's alert: %d", who, ap.status)
		}
		ip, igone := f.get(b, "/app/incidents/"+incB), f.get(b, "/app/incidents/inc_0")
		if customer := who == "viewer" || who == "admin"; customer && (ip.status != http.StatusNotFound || ip.body != igone.body) || !customer && ip.status != 200 {
			t.Errorf("%s opens another org's incident: %d", who, ip.status)
		}
		if al := f.get(b, "/app/alerts/"+alertA.ID); strings.Contains(al.body, `id="ask"`) != (who == "admin") ||
			who == "admin" && !strings.Contains(al.body, url.QueryEscape("https://huntdesk.example/app/alerts/"+alertA.ID)) {
			t.Errorf("%s: the alert page's Ask an expert (admins only, with the page as topic)", who)
		}
		list := f.get(b, "/app/inquiries")
		if strings.Contains(list.body, qb.ID) != (who == "expert" || who == "manager") {
			t.Errorf("%s's inquiry list and Bravo's inquiry: %v", who, strings.Contains(list.body, qb.ID))
		}
	}
}

// The ask form shows each validation error beside its field, from the same
// validation the API uses, and stores nothing.
func TestAskFormShowsErrorsBesideFields(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("admin")
	p := f.get(b, "/app/inquiries/new?topic_url="+url.QueryEscape("https://security.microsoft.com/alerts/da1"))
	if !strings.Contains(p.body, `value="https://security.microsoft.com/alerts/da1"`) {
		t.Fatalf("the topic is not filled in from the page: %s", p.body)
	}
	p = f.post(b, "/app/inquiries", url.Values{"topic_url": {"not a link"}, "context": {"too short"}, "contact_email": {"admin@test.example"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "must be an absolute http(s) link") || !strings.Contains(p.body, "must be 20 to 10,000 characters") {
		t.Fatalf("errors beside fields: %d %s", p.status, p.body)
	}
	if l, _ := f.db.Inquiries(context.Background(), models.InquiryFilter{}); len(l.Items) != 0 {
		t.Fatalf("an invalid inquiry was stored")
	}
}
