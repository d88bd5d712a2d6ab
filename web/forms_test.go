package web_test

import (
	"bytes"
	"context"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// TestEveryConsoleFormByRole: who may send each form, by hand from SPEC.md.
// A role that may not gets 403 before anything is read; a role that may is
// let through to the service, which answers 404 for the missing case the
// form names (so nothing reaches a workflow here).
func TestEveryConsoleFormByRole(t *testing.T) {
	f := newFixture(t)
	// viewer admin expert manager
	matrix := []roleRow{
		{"/app/inquiries/inq_0/responses", false, true, false, false},
		{"/app/inquiries/inq_0/claim", false, false, true, true},
		{"/app/inquiries/inq_0/reports", false, false, true, true},
		{"/app/inquiries/inq_0/cancel", false, true, false, false},
		{"/app/inquiries/inq_0/assign", false, false, false, true},
		{"/app/rules/rul_0/delete", false, true, false, false},
		{"/app/alerts/alr_0", false, true, true, true},
		{"/app/applications/app_0/approve", false, false, false, true},
		{"/app/applications/app_0/reject", false, false, false, true},
		{"/app/orgs/org_0/users", false, false, false, true},
		{"/app/users/usr_0/tokens", false, false, false, true},
		{"/app/tokens/tok_0/revoke", false, false, false, true},
	}
	// Forms that name no case: allowed roles get a validation error (400).
	create := []roleRow{
		{"/app/inquiries", false, true, false, false},
		{"/app/rules", false, true, false, false},
		{"/app/settings/application", false, true, false, false},
		{"/app/settings/notifications", false, true, false, false},
		{"/app/orgs", false, false, false, true},
	}
	forms := map[string]bool{}
	for _, r := range f.console.Routes() {
		if strings.HasPrefix(r.Pattern, "POST ") && r.Roles != nil {
			forms[r.Pattern] = true
		}
	}
	// + sign-out (everyone), samples (multipart: its own test), withdraw
	// (no application: below), preferences (staff: below and their test).
	if want := len(matrix) + len(create) + 4; len(forms) != want {
		t.Fatalf("the console has %d signed-in forms, the tests %d: add a row from SPEC.md", len(forms), want)
	}
	browsers := map[string]*http.Client{}
	for _, who := range []string{"viewer", "admin", "expert", "manager"} {
		browsers[who] = f.signIn(who) // signing in is audited: before the count
	}
	before := tableCounts(t, f.db)
	for _, who := range []string{"viewer", "admin", "expert", "manager"} {
		b := browsers[who]
		for _, row := range matrix {
			want := row.allows(who)
			p := f.post(b, row.path, url.Values{"message": {"x"}, "category": {"concluded"}, "user_id": {f.users["expert"].ID}, "reason": {"r"}, "name": {"n"}, "email": {"n@test.example"}, "role": {"customer_viewer"}, "status": {"resolved"}})
			if want && p.status != http.StatusNotFound || !want && p.status != http.StatusForbidden {
				t.Errorf("%s posts %s: %d, want allowed=%v", who, row.path, p.status, want)
			}
		}
		for _, row := range create {
			want := row.allows(who)
			p := f.post(b, row.path, url.Values{})
			if want && p.status != http.StatusBadRequest || !want && p.status != http.StatusForbidden {
				t.Errorf("%s posts an empty %s: %d, want allowed=%v", who, row.path, p.status, want)
			}
		}
		if who == "viewer" || who == "admin" {
			if p := f.post(b, "/app/me", nil); p.status != http.StatusForbidden {
				t.Errorf("%s saves email preferences: %d", who, p.status)
			}
		}
		p := f.post(b, "/app/settings/application/withdraw", nil)
		if who == "admin" && p.status != http.StatusConflict || who != "admin" && p.status != http.StatusForbidden {
			t.Errorf("%s withdraws no application: %d", who, p.status)
		}
	}
	if after := tableCounts(t, f.db); after != before {
		t.Fatalf("refused forms changed the database:\n%s\n%s", before, after)
	}
}

// roleRow says which of the four roles may use a path.
type roleRow struct {
	path                           string
	viewer, admin, expert, manager bool
}

func (r roleRow) allows(who string) bool {
	return map[string]bool{"viewer": r.viewer, "admin": r.admin, "expert": r.expert, "manager": r.manager}[who]
}

// tableCounts is the row count of every table a console form can write.
func tableCounts(t *testing.T, db *store.DB) string {
	t.Helper()
	var out []string
	for _, table := range []string{"orgs", "users", "tokens", "inquiries", "applications", "notification_rules", "samples", "audit_log"} {
		var n int64
		if err := db.Gorm().Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out = append(out, table+"="+strconv.FormatInt(n, 10))
	}
	return strings.Join(out, " ")
}

// Advanced features: the apply form shows the API's validation beside its
// fields and stores nothing; an approved org's admin switches notifications
// off and on.
func TestAdvancedFeaturesForm(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("admin")
	p := f.get(b, "/app/settings")
	if p.status != 200 || !strings.Contains(p.body, `id="ean-state">not_applied`) || !strings.Contains(p.body, `id="apply-form"`) {
		t.Fatalf("settings before applying: %d %s", p.status, p.body)
	}
	p = f.post(b, "/app/settings/application", url.Values{"contact_name": {"Sam"}, "contact_email": {"not an email"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `value="Sam"`) || !strings.Contains(p.body, "privacy statement has to be accepted") {
		t.Fatalf("an application without the privacy statement: %d %s", p.status, p.body)
	}
	if l, _ := f.db.Applications(context.Background(), models.ApplicationFilter{}); len(l.Items) != 0 {
		t.Fatal("an invalid application was stored")
	}
	// A viewer reads the state but gets no form.
	if p := f.get(f.signIn("viewer"), "/app/settings"); strings.Contains(p.body, `id="apply-form"`) {
		t.Fatal("a viewer is offered the apply form")
	}
	// Approved (as the workflow would record it): the toggle.
	ctx := context.Background()
	yes := true
	app, _, err := f.db.CreateApplication(ctx, models.Principal{UserID: f.users["admin"].ID, OrgID: f.orgA.ID, Role: models.RoleCustomerAdmin},
		models.ApplicationInput{ContactName: "Sam", ContactEmail: "sam@test.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.get(b, "/app/settings"); !strings.Contains(p.body, `id="app-status">submitted`) || !strings.Contains(p.body, `id="withdraw"`) {
		t.Fatalf("settings while applied: %s", p.body)
	}
	if err := f.db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: f.users["manager"].ID, Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	p = f.get(b, "/app/settings")
	if !strings.Contains(p.body, `id="ean-enabled">on`) || !strings.Contains(p.body, "Turn notifications off") {
		t.Fatalf("settings once approved: %s", p.body)
	}
	if p := f.post(b, "/app/settings/notifications", url.Values{"enabled": {"off"}}); p.status != http.StatusSeeOther {
		t.Fatalf("switch off: %d %s", p.status, p.body)
	}
	if o, _ := f.db.Org(ctx, "", f.orgA.ID); o.EAN().Enabled {
		t.Fatal("still enabled after switching off")
	}
	if p := f.post(b, "/app/settings/notifications", url.Values{"enabled": {"maybe"}}); p.status != http.StatusBadRequest {
		t.Fatalf("enabled=maybe: %d", p.status)
	}
}

// Notification rules: admins add one (errors beside fields, from the API's
// validation) and delete it; the list is the org's own.
func TestRuleForm(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("admin")
	p := f.post(b, "/app/rules", url.Values{"name": {"SOC"}, "recipients": {"soc@test.example, bad address"}, "min_severity": {"high"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `value="soc@test.example, bad address"`) || !strings.Contains(p.body, `class="error"`) {
		t.Fatalf("a bad recipient: %d %s", p.status, p.body)
	}
	if p := f.post(b, "/app/rules", url.Values{"name": {"SOC"}, "recipients": {"soc@test.example, cert@test.example"}, "min_severity": {"medium"}, "include_device_details": {"on"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add a rule: %d %s", p.status, p.body)
	}
	p = f.get(b, "/app/rules")
	if !strings.Contains(p.body, "soc@test.example, cert@test.example") || !strings.Contains(p.body, "<td>medium</td>") {
		t.Fatalf("the rule is not listed: %s", p.body)
	}
	if p := f.get(f.signIn("admin_b"), "/app/rules"); strings.Contains(p.body, "soc@test.example") {
		t.Fatal("Bravo sees Alpha's rule")
	}
	id := regexp.MustCompile(`/app/rules/(nr_[A-Za-z0-9]+)/delete`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no delete button: %s", p.body)
	}
	if p := f.post(f.signIn("admin_b"), "/app/rules/"+id[1]+"/delete", nil); p.status != http.StatusNotFound {
		t.Fatalf("Bravo deletes Alpha's rule: %d", p.status)
	}
	if p := f.post(b, "/app/rules/"+id[1]+"/delete", nil); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if p := f.get(b, "/app/rules"); strings.Contains(p.body, "cert@test.example") {
		t.Fatal("the deleted rule is still listed")
	}
}

// Managers administer orgs, people and tokens; a token's secret is shown
// once, and it works until revoked.
func TestOrgsUsersAndTokens(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("manager")
	p := f.post(b, "/app/orgs", url.Values{"name": {"Contoso"}, "devices_enrolled": {"many"}, "plan": {"trial"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "must be a whole number") {
		t.Fatalf("devices=many: %d %s", p.status, p.body)
	}
	p = f.post(b, "/app/orgs", url.Values{"name": {"Contoso"}, "devices_enrolled": {"40"}, "plan": {"trial"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "is required for a trial") {
		t.Fatalf("a trial without its end: %d %s", p.status, p.body)
	}
	p = f.post(b, "/app/orgs", url.Values{"name": {"Contoso"}, "devices_enrolled": {"40"}, "plan": {"trial"}, "trial_ends_at": {"2027-01-31"}, "trial_allowance": {"3"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/app/orgs/org_") {
		t.Fatalf("create an org: %d %s", p.status, p.body)
	}
	orgPage := p.location
	if p := f.get(b, orgPage); !strings.Contains(p.body, "Contoso") || !strings.Contains(p.body, "trial") {
		t.Fatalf("the org page: %s", p.body)
	}
	p = f.post(b, orgPage+"/users", url.Values{"name": {"Ana"}, "email": {"ana@contoso"}, "role": {"customer_admin"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `value="Ana"`) || !strings.Contains(p.body, `class="error"`) {
		t.Fatalf("a bad email: %d %s", p.status, p.body)
	}
	p = f.post(b, orgPage+"/users", url.Values{"name": {"Ana"}, "email": {"ana@contoso.example"}, "role": {"manager"}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("a manager in a customer org: %d %s", p.status, p.body)
	}
	if p := f.post(b, orgPage+"/users", url.Values{"name": {"Ana"}, "email": {"ana@contoso.example"}, "role": {"customer_admin"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add a person: %d %s", p.status, p.body)
	}
	p = f.get(b, orgPage)
	user := regexp.MustCompile(`/app/users/(usr_[A-Za-z0-9]+)">Ana`).FindStringSubmatch(p.body)
	if user == nil {
		t.Fatalf("Ana is not listed: %s", p.body)
	}
	p = f.post(b, "/app/users/"+user[1]+"/tokens", url.Values{"name": {"ci"}})
	secret := regexp.MustCompile(`id="token-secret">([^<]+)<`).FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || secret == nil {
		t.Fatalf("create a token: %d %s", p.status, p.body)
	}
	if _, err := f.db.Authenticate(context.Background(), secret[1]); err != nil {
		t.Fatalf("the new token does not authenticate: %v", err)
	}
	p = f.get(b, "/app/users/"+user[1])
	if strings.Contains(p.body, secret[1]) {
		t.Fatal("the secret is shown again")
	}
	tok := regexp.MustCompile(`/app/tokens/(tok_[A-Za-z0-9]+)/revoke`).FindStringSubmatch(p.body)
	if tok == nil {
		t.Fatalf("no revoke button: %s", p.body)
	}
	if p := f.post(b, "/app/tokens/"+tok[1]+"/revoke", nil); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.status)
	}
	if _, err := f.db.Authenticate(context.Background(), secret[1]); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	// The audit log shows what the manager did, filtered by org.
	p = f.get(b, "/app/audit?org_id="+strings.TrimPrefix(orgPage, "/app/orgs/"))
	if p.status != 200 || !strings.Contains(p.body, "<td>created</td>") {
		t.Fatalf("the org's audit log: %d %s", p.status, p.body)
	}
	if p := f.get(b, "/app/audit?since=yesterday"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "must be a date") {
		t.Fatalf("since=yesterday: %d", p.status)
	}
}

// The queue shows each inquiry's SLA at a glance: on time, warned (in the
// last quarter of its 48 h), breached; and filters by org.
func TestQueueShowsSLAState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fresh, late, gone := f.ask("admin", 48*time.Hour), f.ask("admin", 5*time.Hour), f.ask("admin_b", time.Hour)
	if err := f.db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: gone.ID, Key: "b", Action: "sla_breached", At: time.Now(), Actor: models.System,
		Status: models.InquirySubmitted, Breached: true, DueAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	b := f.signIn("expert")
	p := f.get(b, "/app/queue")
	for id, state := range map[string]string{fresh.ID: "on-time", late.ID: "warned", gone.ID: "breached"} {
		row := regexp.MustCompile(`<tr class="([a-z-]+)">\s*<td><a href="/app/inquiries/` + id).FindStringSubmatch(p.body)
		if row == nil || row[1] != state {
			t.Errorf("%s: %v, want %s", id, row, state)
		}
	}
	p = f.get(b, "/app/queue?org_id="+f.orgB.ID)
	if strings.Contains(p.body, fresh.ID) || !strings.Contains(p.body, gone.ID) {
		t.Fatalf("the org filter: %s", p.body)
	}
}

// The SLA report page draws each expert's median time to the first report
// as an SVG bar beside the SLA line; a bar past the SLA is red.
func TestSLAReportChart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	expert := models.Principal{UserID: f.users["expert"].ID, OrgID: f.users["expert"].OrgID, Role: models.RoleExpert}
	q := f.ask("admin", 48*time.Hour)
	now := time.Now().UTC()
	msg, err := f.db.DraftMessage(ctx, expert, q.ID, "report", models.ReportConcluded, "Benign.")
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []store.InquiryChange{
		{InquiryID: q.ID, Key: "c", Action: "claimed", At: now, Actor: expert, Status: models.InquiryInProgress, Assignee: expert.UserID},
		{InquiryID: q.ID, Key: "r", Action: "reported", At: q.CreatedAt.Add(60 * time.Hour), Actor: expert, Status: models.InquiryConcluded, Assignee: expert.UserID, Category: models.ReportConcluded, MessageID: msg},
	} {
		if err := f.db.ApplyInquiryChange(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	b := f.signIn("manager")
	p := f.get(b, "/app/sla/report?month="+q.CreatedAt.UTC().Format("2006-01"))
	if p.status != 200 || !strings.Contains(p.body, `<svg class="chart"`) || !strings.Contains(p.body, "expert@test.example") {
		t.Fatalf("the report: %d %s", p.status, p.body)
	}
	if !strings.Contains(p.body, `fill="#b42318"`) || !strings.Contains(p.body, "60.0 h") || !strings.Contains(p.body, "SLA 48.0 h") {
		t.Fatalf("a 60 h first report is not drawn past the 48 h SLA: %s", p.body)
	}
	if p := f.get(b, "/app/sla/report?month=November"); p.status != http.StatusBadRequest {
		t.Fatalf("month=November: %d", p.status)
	}
}

// A sample larger than the limit is refused with the limit in words, and
// nothing is stored; the form says the limit before anyone tries.
func TestSampleUploadLimit(t *testing.T) {
	f := newFixture(t, func(d *fixtureOptions) { d.sampleMax = 1 << 10 })
	ctx := context.Background()
	q := f.ask("admin", 48*time.Hour)
	b := f.signIn("admin")
	if p := f.get(b, "/app/inquiries/"+q.ID); !strings.Contains(p.body, "at most 1 KiB") {
		t.Fatalf("the upload form does not show the limit: %s", p.body)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(bytes.Repeat([]byte("A"), 4<<10))
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/app/inquiries/"+q.ID+"/samples", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a 4 KiB sample over a 1 KiB limit: %d", res.StatusCode)
	}
	if n, _, _ := f.db.SampleUsage(ctx, q.ID); n != 0 {
		t.Fatalf("%d samples stored", n)
	}
}

// An expert switches the "queued" email off in the console; the store's
// preferences (read by the email activity) follow, and the page shows them.
func TestExpertEmailPreferences(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("expert")
	if p := f.get(b, "/app/me"); strings.Count(p.body, " checked>") != 4 {
		t.Fatalf("every switch starts on: %s", p.body)
	}
	if p := f.post(b, "/app/me", url.Values{"assigned": {"on"}, "customer_activity": {"on"}, "cancelled": {"on"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	u, err := f.db.User(context.Background(), "", f.users["expert"].ID)
	if err != nil || u.Notifications.Wants("queued") || !u.Notifications.Wants("assigned") || !u.Notifications.Wants("sample") {
		t.Fatalf("stored preferences: %+v %v", u.Notifications, err)
	}
	if p := f.get(b, "/app/me?saved=1"); strings.Count(p.body, " checked>") != 3 || !strings.Contains(p.body, "Saved.") {
		t.Fatalf("the page after saving: %s", p.body)
	}
}

// Triage from the alert page: the API's validation (a determination must
// belong to its classification) shows beside the field and changes
// nothing; a valid verdict is saved; another org's admin gets 404.
func TestAlertTriageForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.raiseAlert(f.orgA, "admin")
	b := f.signIn("admin")
	p := f.post(b, "/app/alerts/"+a.ID, url.Values{"status": {"resolved"}, "classification": {"false_positive"}, "determination": {"malware"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "under false_positive must be one of") {
		t.Fatalf("a determination of another classification: %d %s", p.status, p.body)
	}
	if got, _ := f.db.Alert(ctx, "", a.ID); got.Status != models.AlertNew {
		t.Fatalf("a refused triage changed the alert: %s", got.Status)
	}
	if p := f.post(f.signIn("admin_b"), "/app/alerts/"+a.ID, url.Values{"status": {"resolved"}}); p.status != http.StatusNotFound {
		t.Fatalf("another org's admin triages: %d", p.status)
	}
	if p := f.post(b, "/app/alerts/"+a.ID, url.Values{"status": {"resolved"}, "classification": {"true_positive"}, "determination": {"malware"}}); p.status != http.StatusSeeOther {
		t.Fatalf("triage: %d %s", p.status, p.body)
	}
	got, _ := f.db.Alert(ctx, "", a.ID)
	if got.Status != models.AlertResolved || got.Classification == nil || *got.Classification != "true_positive" || *got.Determination != "malware" {
		t.Fatalf("after triage: %+v", got)
	}
	if p := f.get(b, "/app/alerts/"+a.ID); !strings.Contains(p.body, `<option value="malware" selected>`) {
		t.Fatalf("the saved verdict is not shown: %s", p.body)
	}
}

// TestHostileFormsChangeNothing: the hostile-input catalogue against every
// console form, sent by a role that may use it — NUL bytes, invalid UTF-8,
// CR/LF that would reach an email header, 20,000-character strings, SQL in
// path ids, a cross-site origin, a wrong method — each gets a 4xx and every
// table stays byte for byte as it was.
func TestHostileFormsChangeNothing(t *testing.T) {
	f := newFixture(t)
	q := f.ask("admin", 48*time.Hour)
	f.raiseAlert(f.orgA, "admin")
	who := map[string]*http.Client{}
	for _, w := range []string{"admin", "expert", "manager"} {
		who[w] = f.signIn(w)
	}
	before := storetest.Dump(t, f.db)
	as := func(roles []models.Role) string {
		for _, w := range []string{"admin", "expert", "manager"} {
			for _, r := range roles {
				if f.users[w].Role == r {
					return w
				}
			}
		}
		return ""
	}
	// Every field any console form reads.
	fields := []string{"topic_url", "topic_group", "context", "contact_email", "contact_name", "accept_privacy_statement", "message", "category",
		"user_id", "reason", "note", "name", "email", "role", "recipients", "min_severity", "service_sources", "enabled", "status",
		"classification", "determination", "devices_enrolled", "plan", "trial_ends_at", "trial_allowance", "expires_at"}
	values := map[string]string{"NUL": "a\x00b", "invalid UTF-8": "\xff\xfe\xfd", "CR/LF header injection": "x@test.example\r\nBcc: evil@evil.example",
		"20,000 characters": strings.Repeat("A", 20_000)}
	ids := map[string]string{"{id}": q.ID}
	sqlID := url.PathEscape("' OR 1=1 --")
	for _, r := range f.console.Routes() {
		method, pattern, _ := strings.Cut(r.Pattern, " ")
		if method != "POST" || r.Roles == nil || pattern == "/app/sign-out" || pattern == "/app/me" || strings.HasSuffix(pattern, "/samples") {
			continue // sign-out and the preference checkboxes take no text; uploads have their own tests
		}
		w := as(r.Roles)
		b := who[w]
		// Forms that carry no text (claim, cancel, withdraw, delete,
		// revoke) have nothing to be hostile in; their ids and origin are.
		noText := strings.HasSuffix(pattern, "/claim") || strings.HasSuffix(pattern, "/cancel") || strings.HasSuffix(pattern, "/withdraw") ||
			strings.HasSuffix(pattern, "/delete") || strings.HasSuffix(pattern, "/revoke")
		for name, v := range values {
			if noText {
				break
			}
			form := url.Values{}
			for _, fld := range fields {
				form.Set(fld, v)
			}
			path := pattern
			for k, id := range ids {
				path = strings.ReplaceAll(path, k, id)
			}
			if p := f.post(b, path, form); p.status < 400 || p.status >= 500 {
				t.Errorf("%s %s as %s with %s: %d", method, path, w, name, p.status)
			}
		}
		if strings.Contains(pattern, "{id}") {
			path := strings.ReplaceAll(pattern, "{id}", sqlID)
			if p := f.post(b, path, url.Values{"status": {"resolved"}, "message": {"hello"}, "category": {"concluded"}, "user_id": {f.users["expert"].ID}, "reason": {"r"}, "name": {"n"}, "email": {"n@test.example"}, "role": {"customer_viewer"}}); p.status != http.StatusNotFound {
				t.Errorf("POST %s as %s: %d, want 404", path, w, p.status)
			}
		}
		path := strings.ReplaceAll(pattern, "{id}", q.ID)
		if p := f.post(b, path, url.Values{"message": {"hello from elsewhere"}}, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden {
			t.Errorf("a cross-site POST %s: %d", path, p.status)
		}
		req, _ := http.NewRequest("DELETE", f.srv.URL+path, nil)
		if res, err := b.Do(req); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("DELETE %s: %v %v", path, res.StatusCode, err)
		} else {
			res.Body.Close()
		}
	}
	if after := storetest.Dump(t, f.db); !maps.Equal(after, before) {
		t.Fatal("hostile forms changed the database")
	}
}
