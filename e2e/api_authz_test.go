package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
)

// routeRoles is who may call each route: written by hand from SPEC.md's
// roles table ("People and roles") and the README's API route table, never
// taken from the route table it checks (api/server.go, api/*.go routes()).
//
//   - customer_viewer reads its own org's inquiries, applications, settings;
//   - customer_admin also applies, withdraws, switches the feature, submits
//     inquiries, answers experts, uploads samples, cancels;
//   - expert works the queue of every org: claims, reports (as the assignee),
//     downloads samples; never assigns, decides or administers;
//   - manager may do everything an expert may, plus assign, decide
//     applications, read the audit log, manage orgs, users and tokens.
var routeRoles = []struct {
	route                          string
	viewer, admin, expert, manager bool
}{
	//                                                             viewer admin  expert manager
	{"GET /api/v1/me", true, true, true, true},
	{"PATCH /api/v1/me", true, true, true, true}, // one's own preferences
	{"GET /api/v1/orgs", false, false, true, true},
	{"POST /api/v1/orgs", false, false, false, true},
	{"GET /api/v1/orgs/{id}", true, true, true, true}, // customers: their own org
	{"PATCH /api/v1/orgs/{id}", false, false, false, true},
	{"GET /api/v1/users", false, false, false, true},
	{"POST /api/v1/users", false, false, false, true},
	{"GET /api/v1/users/{id}", false, false, false, true},
	{"PATCH /api/v1/users/{id}", false, false, false, true},
	{"GET /api/v1/users/{id}/tokens", false, false, false, true},
	{"POST /api/v1/users/{id}/tokens", false, false, false, true},
	{"DELETE /api/v1/tokens/{id}", false, false, false, true},
	{"GET /api/v1/audit", false, false, false, true},
	{"POST /api/v1/applications", false, true, false, false},
	{"GET /api/v1/applications", true, true, true, true},
	{"GET /api/v1/applications/{id}", true, true, true, true},
	{"POST /api/v1/applications/{id}/approve", false, false, false, true},
	{"POST /api/v1/applications/{id}/reject", false, false, false, true},
	{"POST /api/v1/applications/{id}/withdraw", false, true, false, false},
	{"GET /api/v1/settings/advanced-features", true, true, true, true},
	{"PATCH /api/v1/settings/advanced-features/endpoint-attack-notifications", false, true, false, false},
	{"POST /api/v1/inquiries", false, true, false, false},
	{"GET /api/v1/inquiries", true, true, true, true},
	{"GET /api/v1/inquiries/{id}", true, true, true, true},
	{"GET /api/v1/queue", false, false, true, true},
	{"POST /api/v1/inquiries/{id}/claim", false, false, true, true},
	{"POST /api/v1/inquiries/{id}/assign", false, false, false, true},
	{"POST /api/v1/inquiries/{id}/reports", false, false, true, true}, // the expert as the assignee
	{"POST /api/v1/inquiries/{id}/responses", false, true, false, false},
	{"POST /api/v1/inquiries/{id}/samples", false, true, false, false},
	{"GET /api/v1/samples/{id}/download", false, false, true, true},
	{"POST /api/v1/inquiries/{id}/cancel", false, true, false, false}, // it closes the inquiry
	// Process C: experts raise attack notifications; customers read their
	// org's alerts, incidents and hunting table; an admin triages and
	// manages the email notification rules, which a viewer only reads.
	{"POST /api/v1/alerts", false, false, true, true},
	{"GET /api/v1/alerts", true, true, true, true},
	{"GET /api/v1/alerts/{id}", true, true, true, true},
	{"PATCH /api/v1/alerts/{id}", false, true, true, true},
	{"GET /api/v1/incidents", true, true, true, true},
	{"GET /api/v1/incidents/{id}", true, true, true, true},
	{"PATCH /api/v1/incidents/{id}", false, true, true, true},
	{"GET /api/v1/hunting/device-alert-events", true, true, true, true},
	{"GET /api/v1/notification-rules", true, true, true, true},
	{"POST /api/v1/notification-rules", false, true, false, false},
	{"GET /api/v1/notification-rules/{id}", true, true, true, true},
	{"PUT /api/v1/notification-rules/{id}", false, true, false, false},
	{"POST /api/v1/notification-rules/{id}/test", false, true, false, false},
	// The org's own alerts: an admin (or a manager, for any org) keeps the
	// connector credentials; only a connector may push alerts.
	{"POST /api/v1/connectors", false, true, false, true},
	{"GET /api/v1/connectors", false, true, false, true},
	{"POST /api/v1/connector/alerts", false, false, false, false},
	// What managers audit.
	{"GET /api/v1/sla/timers", false, false, false, true},
	{"GET /api/v1/reports/sla", false, false, false, true},
	{"DELETE /api/v1/notification-rules/{id}", false, true, false, false}, // last: these delete their fixture
	{"DELETE /api/v1/connectors/{id}", false, true, false, true},
}

// TestAuthorizationMatrix calls every route as nobody, as every role, on an
// id of the caller's own org (Contoso's, for staff too) and of another org
// (Fabrikam's), over the real services: no token is 401; a role the matrix
// denies is 403 forbidden; an allowed role is let through (no 401/403, no
// 5xx, no 404 on its own org's id); a customer naming another org's id gets
// the very 404 a missing id gets.
func TestAuthorizationMatrix(t *testing.T) {
	st, c := apiStack(t)
	tok := st.Tokens
	manager, expert := tok["manager@huntdesk.example"], tok["expert@huntdesk.example"]
	contoso, fabrikam := tok["admin@contoso.example"], tok["admin@fabrikam.example"]
	roleTokens := map[string]string{"customer_viewer": tok["analyst@contoso.example"], "customer_admin": contoso, "expert": expert, "manager": manager}
	expertID, providerID := me(t, c, expert)
	viewerID, contosoID := me(t, c, roleTokens["customer_viewer"])
	fabrikamAdminID, fabrikamID := me(t, c, fabrikam)

	// Every served route is in the matrix, and the matrix has no stale route.
	served := map[string]bool{}
	for _, r := range api.New(api.Config{}, api.Deps{}).Routes() {
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		served[r.Method+" "+p] = true
	}
	for _, e := range routeRoles {
		if !served[e.route] {
			t.Errorf("the matrix names %s, which is not served", e.route)
		}
		delete(served, e.route)
	}
	for r := range served {
		t.Errorf("%s is served but has no row in the matrix: add who may call it, from SPEC.md", r)
	}

	// Fixtures: one of each kind per org.
	token := func(userID string) string {
		var tk struct{ ID string }
		c.api("POST", "/api/v1/users/"+userID+"/tokens", manager, map[string]any{"name": "target"}).decode(t, &tk)
		return tk.ID
	}
	apply := func(admin string) string {
		var app struct{ ID string }
		r := c.api("POST", "/api/v1/applications", admin, map[string]any{"contact_name": "C", "contact_email": "c@tenant.example", "accept_privacy_statement": true})
		r.decode(t, &app)
		if r.status != 201 {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		return app.ID
	}
	sample := func(admin, inquiryID string) string {
		var smp struct{ ID string }
		body, ct := multipartBody(t, "file", "s.bin", []byte("sample"))
		r := c.raw("POST", "/api/v1/inquiries/"+inquiryID+"/samples", admin, ct, body)
		r.decode(t, &smp)
		if r.status != 201 {
			t.Fatalf("sample: %d %s", r.status, r.body)
		}
		return smp.ID
	}
	// Both orgs are enrolled for attack notifications (their applications
	// approved), each with an alert in an incident and a notification rule.
	approved := func(admin string) string {
		id := apply(admin)
		step(t, c, "POST", "/api/v1/applications/"+id+"/approve", manager, map[string]any{}, 200)
		return id
	}
	appA, appB := approved(contoso), approved(fabrikam)
	alert := func(org string) (string, string) {
		var a struct {
			ID         string
			IncidentID string `json:"incident_id"`
		}
		r := c.api("POST", "/api/v1/alerts", expert, map[string]any{"org_id": org, "title": "t", "severity": "high", "category": "c",
			"devices": []map[string]string{{"id": "d", "name": "n"}}})
		r.decode(t, &a)
		if r.status != 201 {
			t.Fatalf("alert: %d %s", r.status, r.body)
		}
		return a.ID, a.IncidentID
	}
	alertA, incA := alert(contosoID)
	alertB, incB := alert(fabrikamID)
	rule := func(admin string) string {
		var nr struct{ ID string }
		r := c.api("POST", "/api/v1/notification-rules", admin, map[string]any{"name": "SOC", "recipients": []string{"soc@tenant.example"}, "min_severity": "high"})
		r.decode(t, &nr)
		if r.status != 201 {
			t.Fatalf("rule: %d %s", r.status, r.body)
		}
		return nr.ID
	}
	connector := func(admin string) string {
		var cn struct{ ID string }
		r := c.api("POST", "/api/v1/connectors", admin, map[string]any{"name": "EDR"})
		r.decode(t, &cn)
		if r.status != 201 {
			t.Fatalf("connector: %d %s", r.status, r.body)
		}
		return cn.ID
	}
	inqA, inqB := ask(t, c, contoso).ID, ask(t, c, fabrikam).ID
	for _, id := range []string{inqA, inqB} { // the expert is the assignee: it may report
		step(t, c, "POST", "/api/v1/inquiries/"+id+"/claim", expert, nil, 200)
	}
	ids := map[string][2]string{ // {own org's, another org's}
		"orgs":               {contosoID, fabrikamID},
		"users":              {viewerID, fabrikamAdminID},
		"tokens":             {token(viewerID), token(fabrikamAdminID)},
		"applications":       {appA, appB}, // decided: approve, reject, withdraw answer 409 to those let through
		"alerts":             {alertA, alertB},
		"incidents":          {incA, incB},
		"notification-rules": {rule(contoso), rule(fabrikam)},
		"connectors":         {connector(contoso), connector(fabrikam)},
		"inquiries":          {inqA, inqB},
		"samples":            {sample(contoso, inqA), sample(fabrikam, inqB)},
	}
	missing := map[string]string{"orgs": "org_0", "users": "usr_0", "tokens": "tok_0", "applications": "app_0", "inquiries": "inq_0", "samples": "smp_0",
		"alerts": "alr_0", "incidents": "inc_0", "notification-rules": "nr_0", "connectors": "cnr_0"}
	upload, uploadType := multipartBody(t, "file", "x.bin", []byte("sample"))
	bodies := map[string]any{
		"POST /api/v1/orgs":                     map[string]any{"name": "Charlie", "devices_enrolled": 1},
		"PATCH /api/v1/me":                      map[string]any{"notifications": map[string]any{"queued": true}},
		"PATCH /api/v1/orgs/{id}":               map[string]any{"devices_enrolled": 42},
		"POST /api/v1/users":                    map[string]any{"org_id": contosoID, "email": "new@contoso.example", "name": "New", "role": "customer_viewer"},
		"PATCH /api/v1/users/{id}":              map[string]any{"name": "Renamed"},
		"POST /api/v1/users/{id}/tokens":        map[string]any{"name": "matrix"},
		"POST /api/v1/applications":             map[string]any{"contact_name": "A", "contact_email": "a@contoso.example", "accept_privacy_statement": true},
		"POST /api/v1/applications/{id}/reject": map[string]any{"reason": "not yet"},
		"PATCH /api/v1/settings/advanced-features/endpoint-attack-notifications": map[string]any{"enabled": true},
		"POST /api/v1/inquiries":                map[string]any{"topic_url": "https://security.microsoft.com/incidents/42", "context": "Twenty characters of context at least.", "contact_email": "soc@contoso.example"},
		"POST /api/v1/inquiries/{id}/assign":    map[string]any{"user_id": expertID},
		"POST /api/v1/inquiries/{id}/reports":   map[string]any{"category": "more_time_needed", "message": "Still digging."},
		"POST /api/v1/inquiries/{id}/responses": map[string]any{"message": "Here is more."},
		"POST /api/v1/alerts":                   map[string]any{"org_id": contosoID, "title": "t", "severity": "low", "category": "c", "devices": []map[string]string{{"id": "d", "name": "n"}}},
		"PATCH /api/v1/alerts/{id}":             map[string]any{"status": "in_progress"},
		"PATCH /api/v1/incidents/{id}":          map[string]any{"status": "in_progress"},
		"POST /api/v1/notification-rules":       map[string]any{"name": "More", "recipients": []string{"more@tenant.example"}, "min_severity": "low"},
		"PUT /api/v1/notification-rules/{id}":   map[string]any{"name": "SOC", "recipients": []string{"soc2@tenant.example"}, "min_severity": "medium"},
		"POST /api/v1/connectors":               map[string]any{"name": "More"},
		"POST /api/v1/connector/alerts":         map[string]any{"alerts": []map[string]any{{"external_id": "x", "title": "t", "severity": "low", "category": "c", "detection_source": "EDR"}}},
	}
	send := func(c client, method, path, token string, body any) hreply {
		switch b := body.(type) {
		case nil:
			return c.raw(method, path, token, "", nil)
		case []byte:
			return c.raw(method, path, token, uploadType, b)
		default:
			r := c.api(method, path, token, b)
			return hreply{reply: r}
		}
	}
	bodies["POST /api/v1/inquiries/{id}/samples"] = upload
	errorBody := func(r hreply) string { // the error without its request id
		if i := bytes.Index(r.body, []byte(`"request_id"`)); i >= 0 {
			return string(r.body[:i])
		}
		return string(r.body)
	}

	roles := []string{"customer_viewer", "customer_admin", "expert", "manager"}
	for _, e := range routeRoles {
		method, tmpl, _ := strings.Cut(e.route, " ")
		kind := strings.Split(tmpl, "/")[3] // /api/v1/<kind>/...
		hasID := strings.Contains(tmpl, "{id}")
		path := func(id string) string {
			p := strings.Replace(tmpl, "{id}", id, 1)
			if strings.HasSuffix(p, "/advanced-features") {
				p += "?org_id=" + contosoID // staff name the org; customers' is their own
			}
			return p
		}
		allowed := map[string]bool{"customer_viewer": e.viewer, "customer_admin": e.admin, "expert": e.expert, "manager": e.manager}
		body := bodies[e.route]
		t.Run(e.route, func(t *testing.T) {
			c := c.on(t)
			if r := send(c, method, path(ids[kind][0]), "", body); r.status != 401 || r.code(t) != "unauthenticated" {
				t.Errorf("no token: %d %s, want 401", r.status, r.body)
			}
			for _, role := range roles {
				targets := []bool{true}
				if hasID {
					targets = []bool{true, false}
				}
				for _, own := range targets {
					id := ids[kind][0]
					if !own {
						id = ids[kind][1]
					}
					r := send(c, method, path(id), roleTokens[role], body)
					what := fmt.Sprintf("%s as %s on %s", e.route, role, map[bool]string{true: "its own org's id", false: "another org's id"}[own])
					forbidden := r.status == 403 && r.code(t) == "forbidden"
					switch {
					case !allowed[role]:
						if !forbidden {
							t.Errorf("%s: %d %s, want 403 forbidden (SPEC: %s may not)", what, r.status, r.body, role)
						}
					case forbidden || r.status == 401 || r.status >= 500:
						t.Errorf("%s: %d %s, want it let through (SPEC: %s may)", what, r.status, r.body, role)
					case !own && !strings.HasPrefix(role, "customer"):
						if r.status == 404 {
							t.Errorf("%s: 404; staff work every org", what)
						}
					case !own:
						gone := send(c, method, path(missing[kind]), roleTokens[role], body)
						if r.status != 404 || errorBody(r) != errorBody(gone) {
							t.Errorf("%s: %d %s, want the 404 a missing id gets (%d %s)", what, r.status, r.body, gone.status, gone.body)
						}
					case r.status == 404:
						t.Errorf("%s: 404 on its own org's id", what)
					}
				}
			}
		})
	}

	// Reports: "the assignee, or a manager" — another expert is refused.
	t.Run("a report by an expert who is not the assignee", func(t *testing.T) {
		c := c.on(t)
		_, other := newUser(t, c, manager, providerID, "second.expert@huntdesk.example", "expert")
		q := ask(t, c, fabrikam)
		step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil, 200)
		if r := c.api("POST", "/api/v1/inquiries/"+q.ID+"/reports", other, map[string]any{"category": "more_time_needed", "message": "Mine now."}); r.status != 403 {
			t.Fatalf("another expert's report: %d %s, want 403", r.status, r.body)
		}
		step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/reports", manager, map[string]any{"category": "more_time_needed", "message": "A manager may."}, 201)
	})
}
