package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, api.Config{})
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.srv.Routes() {
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is served but not in openapi.yaml", r.Method, path)
		}
	}
	res := f.do(request{method: "GET", path: "/api/v1/openapi.yaml"})
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "openapi: 3") {
		t.Fatalf("openapi.yaml not served: %d", res.Status)
	}
}

func TestMe(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, role := range []string{"customer_viewer", "customer_admin", "expert", "manager"} {
		res := f.do(request{method: "GET", path: "/api/v1/me", token: f.as(role)})
		var me struct {
			User models.User         `json:"user"`
			Org  struct{ ID string } `json:"org"`
		}
		res.json(t, &me)
		if res.Status != 200 || string(me.User.Role) != role || me.Org.ID != f.users[role].OrgID {
			t.Fatalf("/me as %s: %d %s", role, res.Status, res.Body)
		}
	}
	for _, bad := range []string{"", "hd_nope", "Bearer", "not-a-token"} {
		res := f.do(request{method: "GET", path: "/api/v1/me", token: bad})
		if res.Status != 401 || res.Header.Get("WWW-Authenticate") == "" && bad == "" {
			t.Fatalf("token %q: %d", bad, res.Status)
		}
	}
}

func TestRevokedAndDisabledCannotSignIn(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(request{method: "POST", path: "/api/v1/users/" + f.users["customer_viewer"].ID + "/tokens", token: f.as("manager"), body: map[string]any{"name": "laptop"}})
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	res.json(t, &tok)
	if res.Status != 201 || !strings.HasPrefix(tok.Token, "hd_") {
		t.Fatalf("create token: %d %s", res.Status, res.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/me", token: tok.Token}); r.Status != 200 {
		t.Fatalf("new token should work: %d", r.Status)
	}
	list := f.do(request{method: "GET", path: "/api/v1/users/" + f.users["customer_viewer"].ID + "/tokens", token: f.as("manager")})
	if strings.Contains(string(list.Body), tok.Token) {
		t.Fatal("a token list must never show a secret")
	}
	if r := f.do(request{method: "DELETE", path: "/api/v1/tokens/" + tok.ID, token: f.as("manager")}); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/me", token: tok.Token}); r.Status != 401 {
		t.Fatalf("revoked token: %d, want 401", r.Status)
	}
	if r := f.do(request{method: "PATCH", path: "/api/v1/users/" + f.users["customer_viewer"].ID, token: f.as("manager"), body: map[string]any{"disabled": true}}); r.Status != 200 {
		t.Fatalf("disable: %d", r.Status)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/me", token: f.as("customer_viewer")}); r.Status != 401 {
		t.Fatalf("disabled user: %d, want 401", r.Status)
	}
}

func TestValidationNamesEveryBadFieldAndChangesNothing(t *testing.T) {
	f := newFixture(t, api.Config{})
	before := f.do(request{method: "GET", path: "/api/v1/users", token: f.as("manager")})
	cases := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"missing fields", map[string]any{}, 400, []string{"org_id", "email", "name", "role"}},
		{"bad email and role", map[string]any{"org_id": f.orgA.ID, "email": "x@y", "name": "X", "role": "root"}, 400, []string{"email", "role"}},
		{"header injection", map[string]any{"org_id": f.orgA.ID, "email": "a@b.example\r\nBcc: c@d.example", "name": "X", "role": "customer_viewer"}, 400, []string{"email"}},
		{"unknown field", map[string]any{"org_id": f.orgA.ID, "email": "a@b.example", "name": "X", "role": "customer_viewer", "admin": true}, 400, []string{"admin"}},
		{"wrong type", map[string]any{"org_id": 7}, 400, []string{"org_id"}},
		{"not JSON", "{nope", 400, []string{"body"}},
		{"staff role in a customer org", map[string]any{"org_id": f.orgA.ID, "email": "a@b.example", "name": "X", "role": "manager"}, 400, []string{"role"}},
		{"no such org", map[string]any{"org_id": "org_missing", "email": "a@b.example", "name": "X", "role": "customer_viewer"}, 400, []string{"org_id"}},
	}
	for _, c := range cases {
		res := f.do(request{method: "POST", path: "/api/v1/users", token: f.as("manager"), body: c.body})
		code, fields := res.errorOf(t)
		if res.Status != c.status || code != models.EINVALID {
			t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			continue
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Errorf("%s: field %q not named in %v", c.name, want, fields)
			}
		}
	}
	after := f.do(request{method: "GET", path: "/api/v1/users", token: f.as("manager")})
	if string(before.Body) != string(after.Body) {
		t.Fatal("bad input changed the user list")
	}
}

func TestBodyLimitsAndContentType(t *testing.T) {
	f := newFixture(t, api.Config{MaxBodyBytes: 256})
	big := `{"name":"` + strings.Repeat("x", 1000) + `"}`
	res := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: big})
	if code, _ := res.errorOf(t); res.Status != http.StatusRequestEntityTooLarge || code != models.ETOOLARGE {
		t.Fatalf("large body: %d %s", res.Status, res.Body)
	}
	res = f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: `{"name":"X"}`, header: map[string]string{"Content-Type": "text/plain"}})
	if code, _ := res.errorOf(t); res.Status != http.StatusUnsupportedMediaType || code != models.EUNSUPPORTED {
		t.Fatalf("text/plain: %d %s", res.Status, res.Body)
	}
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t, api.Config{})
	body := map[string]any{"name": "Delta", "devices_enrolled": 3}
	key := map[string]string{"Idempotency-Key": "create-delta-1"}
	first := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: body, header: key})
	again := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: body, header: key})
	if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	other := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: map[string]any{"name": "Echo"}, header: key})
	if code, _ := other.errorOf(t); other.Status != 422 || code != models.EIDEMPOTENCY {
		t.Fatalf("same key, other body: %d %s", other.Status, other.Body)
	}
	list := f.do(request{method: "GET", path: "/api/v1/orgs?limit=200", token: f.as("manager")})
	if n := strings.Count(string(list.Body), `"Delta"`); n != 1 {
		t.Fatalf("Delta exists %d times, want 1", n)
	}
	// Keys belong to their caller: another manager's same key is a new request.
	if r := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("expert"), body: body, header: key}); r.Status != 403 {
		t.Fatalf("expert: %d", r.Status)
	}
}

func TestPaginationWalksEveryItemOnce(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	for i := 0; i < 7; i++ {
		name := "Org " + string(rune('a'+i))
		if r := f.do(request{method: "POST", path: "/api/v1/orgs", token: f.as("manager"), body: map[string]any{"name": name}}); r.Status != 201 {
			t.Fatal(r.Status)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/api/v1/orgs?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := f.do(request{method: "GET", path: path, token: f.as("manager")})
		var l struct {
			Items      []struct{ ID string } `json:"items"`
			NextCursor string                `json:"next_cursor"`
		}
		res.json(t, &l)
		for _, o := range l.Items {
			if seen[o.ID] {
				t.Fatalf("org %s on two pages", o.ID)
			}
			seen[o.ID] = true
		}
		pages++
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 10 || pages != 4 { // 3 fixture orgs + 7
		t.Fatalf("saw %d orgs over %d pages, want 10 over 4", len(seen), pages)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=garbage"} {
		res := f.do(request{method: "GET", path: "/api/v1/orgs?" + bad, token: f.as("manager")})
		if code, fields := res.errorOf(t); res.Status != 400 || code != models.EINVALID || len(fields) != 1 {
			t.Fatalf("%s: %d %s", bad, res.Status, res.Body)
		}
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: 0.001, RateBurst: 2})
	var last response
	for i := 0; i < 3; i++ {
		last = f.do(request{method: "GET", path: "/api/v1/me", token: f.as("expert")})
	}
	if code, _ := last.errorOf(t); last.Status != http.StatusTooManyRequests || code != models.ERATELIMITED || last.Header.Get("Retry-After") == "" {
		t.Fatalf("third request over a burst of 2: %d %s", last.Status, last.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/me", token: f.as("manager")}); r.Status != 200 {
		t.Fatalf("another caller has its own budget: %d", r.Status)
	}
}

func TestOpsEndpointsAndRequestID(t *testing.T) {
	f := newFixture(t, api.Config{})
	if r := f.do(request{method: "GET", path: "/healthz"}); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := f.do(request{method: "GET", path: "/readyz"}); r.Status != 200 || !strings.Contains(string(r.Body), `"database":"ok"`) {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	r := f.do(request{method: "GET", path: "/api/v1/me", token: f.as("expert"), header: map[string]string{"X-Request-ID": "req-42"}})
	if r.Header.Get("X-Request-ID") != "req-42" {
		t.Fatalf("request id not echoed: %q", r.Header.Get("X-Request-ID"))
	}
	if r := f.do(request{method: "GET", path: "/api/v1/nope", token: f.as("expert")}); r.Status != 404 {
		t.Fatalf("unknown route %d", r.Status)
	}
	m := f.do(request{method: "GET", path: "/metrics"})
	if m.Status != 200 || !strings.Contains(string(m.Body), `huntdesk_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1`) ||
		!strings.Contains(string(m.Body), "huntdesk_http_request_duration_seconds_bucket") {
		t.Fatalf("metrics: %s", m.Body)
	}
}

func TestReadyzReportsDatabaseDown(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.db.Close()
	r := f.do(request{method: "GET", path: "/readyz"})
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), `"database":"unavailable"`) {
		t.Fatalf("readyz with the database closed: %d %s", r.Status, r.Body)
	}
	res := f.do(request{method: "GET", path: "/api/v1/me", token: f.as("expert")})
	if code, _ := res.errorOf(t); res.Status != http.StatusServiceUnavailable || code != models.EUNAVAILABLE {
		t.Fatalf("a request with the database down: %d %s", res.Status, res.Body)
	}
}

func TestAuditLog(t *testing.T) {
	f := newFixture(t, api.Config{})
	f.do(request{method: "PATCH", path: "/api/v1/orgs/" + f.orgA.ID, token: f.as("manager"), body: map[string]any{"devices_enrolled": 99}})
	res := f.do(request{method: "GET", path: "/api/v1/audit?entity=org&entity_id=" + f.orgA.ID, token: f.as("manager")})
	var l struct {
		Items []models.AuditEntry `json:"items"`
	}
	res.json(t, &l)
	if len(l.Items) != 2 || l.Items[0].Action != "updated" || l.Items[0].ActorID != f.users["manager"].ID || l.Items[1].Action != "created" {
		t.Fatalf("audit for org A, newest first: %s", res.Body)
	}
	res = f.do(request{method: "GET", path: "/api/v1/audit?actor_id=" + f.users["manager"].ID + "&since=2000-01-01T00:00:00Z", token: f.as("manager")})
	res.json(t, &l)
	if len(l.Items) != 1 {
		t.Fatalf("filter by actor: %s", res.Body)
	}
	if r := f.do(request{method: "GET", path: "/api/v1/audit?since=yesterday", token: f.as("manager")}); r.Status != 400 {
		t.Fatalf("bad since: %d", r.Status)
	}
	// The database refuses to rewrite history.
	if err := f.db.Gorm().Exec("UPDATE audit_log SET action = 'forged'").Error; err == nil {
		t.Fatal("the audit log accepted an UPDATE")
	}
	if err := f.db.Gorm().Exec("DELETE FROM audit_log").Error; err == nil {
		t.Fatal("the audit log accepted a DELETE")
	}
}
