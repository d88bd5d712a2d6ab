package api_test

// A catalogue of hostile requests against every route in the route table:
// each must get a documented 4xx (the fixture checks every answer against
// openapi.yaml) and change nothing — a dump of every table is compared
// before and after.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func TestHostileRequestsChangeNothing(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1, AuthFailureRate: -1})
	ctx := context.Background()

	// Another org's things (Bravo's), made through the store.
	bAdmin := models.Principal{UserID: f.users["admin_b"].ID, OrgID: f.orgB.ID, Role: models.RoleCustomerAdmin}
	yes := true
	app, _, err := f.db.CreateApplication(ctx, bAdmin, models.ApplicationInput{ContactName: "B", ContactEmail: "b@bravo.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: f.users["manager"].ID, Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "b@bravo.example"}
	kind, _ := in.Validate()
	inq, err := f.db.CreateInquiry(ctx, bAdmin, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	alert, err := f.db.RaiseAlert(ctx, models.Principal{UserID: f.users["expert"].ID, Role: models.RoleExpert}, store.NewAlert{AlertInput: models.AlertInput{
		OrgID: f.orgB.ID, Title: "t", Severity: models.SeverityHigh, Category: "c", Devices: []models.AlertDevice{{ID: "d", Name: "n"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rule := models.RuleInput{Name: "SOC", Recipients: []string{"soc@bravo.example"}, MinSeverity: models.SeverityHigh}
	rule.Validate()
	nr, err := f.db.CreateRule(ctx, bAdmin, f.orgB.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	_, cn, err := f.db.CreateConnector(ctx, bAdmin, f.orgB.ID, models.ConnectorInput{Name: "EDR"})
	if err != nil {
		t.Fatal(err)
	}
	smp, err := f.db.DraftSample(ctx, bAdmin, inq.ID, "s.bin", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.db.Tokens(ctx, f.users["admin_b"].ID, models.Page{})
	if err != nil || len(tok.Items) == 0 {
		t.Fatalf("tokens: %v", err)
	}
	// Bravo's id of each kind, by the path segment that names it.
	foreign := map[string]string{"orgs": f.orgB.ID, "users": f.users["admin_b"].ID, "tokens": tok.Items[0].ID, "applications": app.ID, "inquiries": inq.ID,
		"samples": smp.ID, "alerts": alert.ID, "incidents": alert.IncidentID, "notification-rules": nr.ID, "connectors": cn.ID}

	// Tokens that must not work: revoked and expired.
	revoked, rt, err := f.db.CreateToken(ctx, models.System, f.users["customer_admin"].ID, models.TokenInput{Name: "revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RevokeToken(ctx, models.System, rt.ID); err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(time.Second)
	expired, _, err := f.db.CreateToken(ctx, models.System, f.users["customer_admin"].ID, models.TokenInput{Name: "expired", ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	f.db.Now = func() time.Time { return time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond) } // the expired token's hour has passed
	for _, role := range []string{"customer_viewer", "customer_admin", "expert", "manager"} {
		f.do(request{method: "GET", path: "/api/v1/me", token: f.as(role)}) // last_used_at is set once, before the dump
	}

	before := storetest.Dump(t, f.db)
	long := strings.Repeat("a", 10_001)
	bodies := map[string]string{
		"unknown field":  `{"zz_unknown": 1}`,
		"wrong type":     `[]`,
		"deep JSON":      strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000),
		"invalid UTF-8":  "{\"name\": \"\xff\xfe\", \"title\": \"\xff\", \"message\": \"\xc3\x28\"}",
		"NUL":            `{"name": "a\u0000b", "title": "a\u0000b", "message": "a\u0000b", "reason": "a\u0000b", "contact_name": "a\u0000b"}`,
		"CR/LF in names": `{"name": "a\r\nBcc: x@evil.example", "title": "a\r\nb", "contact_name": "a\r\nb", "contact_email": "a@b.example\r\nBcc: x@evil.example"}`,
		"10,000+ chars":  `{"name": "` + long + `", "title": "` + long + `", "message": "` + long + `", "context": "` + long + `"}`,
		"SQL":            `{"name": "'; DROP TABLE orgs; --", "user_id": "' OR '1'='1", "org_id": "' OR 1=1 --"}`,
	}
	ids := map[string]string{"SQL": "' OR '1'='1", "NUL": "x\x00y", "missing": "zz_0", "huge": strings.Repeat("9", 5000)}
	queries := map[string]string{
		"tampered cursor": "cursor=" + url.QueryEscape("eyJpIjoieFx1MDAwMCJ9"),
		"bad limit":       "limit=-1",
		"NUL":             "status=" + url.QueryEscape("a\x00"),
		"OData injection": url.Values{"$filter": {"severity eq 'high') OR 1=1 --"}}.Encode(),
		"bad $top":        "$top=0",
	}
	staffOrAdmin := func(r api.RouteInfo) string {
		for _, want := range []models.Role{models.RoleManager, models.RoleCustomerAdmin, models.RoleExpert, models.RoleCustomerViewer} {
			for _, role := range r.Roles {
				if role == want {
					return f.as(string(role))
				}
			}
		}
		return "" // connector-only routes: a user token is refused as it should be
	}
	path := func(r api.RouteInfo, id string) string {
		return strings.ReplaceAll(r.Path, ":id", url.PathEscape(id))
	}
	ownID := "zz_0"
	expect4xx := func(what string, res response) {
		t.Helper()
		if res.Status < 400 || res.Status >= 500 {
			t.Errorf("%s: %d %.200s, want a 4xx", what, res.Status, res.Body)
		}
	}
	for _, r := range f.srv.Routes() {
		key := r.Method + " " + r.Path
		p := path(r, ownID)
		for name, token := range map[string]string{"no token": "", "revoked token": revoked, "expired token": expired, "a guessed token": "hd_" + strings.Repeat("A", 43)} {
			if res := f.do(request{method: r.Method, path: p, token: token}); res.Status != http.StatusUnauthorized {
				t.Errorf("%s with %s: %d, want 401", key, name, res.Status)
			}
		}
		token := staffOrAdmin(r)
		if token == "" {
			continue
		}
		if strings.Contains(r.Path, ":id") {
			for name, id := range ids {
				expect4xx(key+" with a "+name+" id", f.do(request{method: r.Method, path: path(r, id), token: token, body: `{}`}))
			}
			seg := strings.Split(r.Path, "/")[3]
			if id, ok := foreign[seg]; ok {
				// Alpha's admin naming Bravo's id gets exactly what a missing id
				// gets (a 404, or the same validation error before the lookup).
				if allowed(r, models.RoleCustomerAdmin) {
					res := f.do(request{method: r.Method, path: path(r, id), token: f.as("customer_admin"), body: `{}`})
					gone := f.do(request{method: r.Method, path: path(r, "zz_0"), token: f.as("customer_admin"), body: `{}`})
					if res.Status != gone.Status || withoutRequestID(res.Body) != withoutRequestID(gone.Body) || res.Status < 400 {
						t.Errorf("%s on another org's id: %d %.200s; a missing id: %d %.200s", key, res.Status, res.Body, gone.Status, gone.Body)
					}
				}
			}
		}
		switch r.Method {
		case "POST", "PUT", "PATCH":
			for name, body := range bodies {
				expect4xx(key+" with "+name, f.do(request{method: r.Method, path: p, token: token, body: body}))
			}
		case "GET":
			for name, q := range queries {
				// A route that does not read the parameter may ignore it (200);
				// one that reads it refuses it; none answers 5xx.
				if res := f.do(request{method: "GET", path: p + "?" + q, token: token}); res.Status != http.StatusOK {
					expect4xx(key+" with "+name, res)
				}
			}
		}
		// A method the route does not have: 405 (or the path's other route).
		for _, m := range []string{"TRACE", "CONNECT", "PROPFIND"} {
			if res := f.do(request{method: m, path: p, token: token}); res.Status != http.StatusMethodNotAllowed && res.Status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 405", m, r.Path, res.Status)
			}
		}
	}
	after := storetest.Dump(t, f.db)
	for table, h := range before {
		if after[table] != h {
			t.Errorf("table %s changed: %s → %s", table, h, after[table])
		}
	}
}

func allowed(r api.RouteInfo, role models.Role) bool {
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}

func withoutRequestID(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `"request_id"`); i >= 0 {
		return s[:i]
	}
	return s
}

// Invalid UTF-8 in a JSON body is refused, not stored as U+FFFD.
func TestInvalidUTF8BodyIsRefused(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	res := f.do(request{method: "POST", path: "/api/v1/notification-rules", token: f.as("customer_admin"),
		body: "{\"name\": \"SOC \xff\", \"recipients\": [\"soc@alpha.example\"], \"min_severity\": \"high\"}"})
	if code, fields := res.errorOf(t); res.Status != http.StatusBadRequest || code != models.EINVALID || fields["body"] != "is not valid UTF-8" {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	if rs, _ := f.db.Rules(context.Background(), f.orgA.ID); len(rs) != 0 {
		t.Fatalf("a rule was stored: %+v", rs)
	}
}
