package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

// TestNamesAreOneLineAndTextsHoldNoNUL: a name with CR/LF would be stored
// and then block every email whose subject carries it; a NUL makes
// PostgreSQL answer 500. Each is a 400 naming its field, and changes nothing.
func TestNamesAreOneLineAndTextsHoldNoNUL(t *testing.T) {
	f := newFixture(t, api.Config{})
	viewer := f.users["customer_viewer"].ID
	for _, c := range []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{"POST", "/api/v1/orgs", map[string]any{"name": "Evil\r\nCorp"}, "name"},
		{"POST", "/api/v1/orgs", map[string]any{"name": "Evil\x00Corp"}, "name"},
		{"POST", "/api/v1/orgs", map[string]any{"name": "Evil\u2028Corp"}, "name"},
		{"PATCH", "/api/v1/orgs/" + f.orgA.ID, map[string]any{"name": "Alpha\nBcc: x@y.example"}, "name"},
		{"PATCH", "/api/v1/orgs/" + f.orgA.ID, map[string]any{"name": "Alpha\x1b[2J"}, "name"},
		{"POST", "/api/v1/users", map[string]any{"org_id": f.orgA.ID, "email": "new@alpha.example", "name": "New\rUser", "role": "customer_viewer"}, "name"},
		{"POST", "/api/v1/users", map[string]any{"org_id": f.orgA.ID + "\x00", "email": "new@alpha.example", "name": "New", "role": "customer_viewer"}, "org_id"},
		{"PATCH", "/api/v1/users/" + viewer, map[string]any{"name": "Re\r\nnamed"}, "name"},
		{"PATCH", "/api/v1/users/" + viewer, map[string]any{"name": "Re\x00named"}, "name"},
		{"POST", "/api/v1/users/" + viewer + "/tokens", map[string]any{"name": "laptop\x00"}, "name"},
		{"POST", "/api/v1/users/" + viewer + "/tokens", map[string]any{"name": "lap\ntop"}, "name"},
	} {
		r := f.do(request{method: c.method, path: c.path, token: f.as("manager"), body: c.body})
		if code, fields := r.errorOf(t); r.Status != 400 || code != models.EINVALID || fields[c.field] == "" {
			t.Errorf("%s %s %q: %d %s, want 400 naming %s", c.method, c.path, c.body, r.Status, r.Body, c.field)
		}
	}
	var org models.Org
	f.do(request{method: "GET", path: "/api/v1/orgs/" + f.orgA.ID, token: f.as("manager")}).json(t, &org)
	var user models.User
	f.do(request{method: "GET", path: "/api/v1/users/" + viewer, token: f.as("manager")}).json(t, &user)
	if org.Name != "Alpha" || user.Name != "customer_viewer" {
		t.Fatalf("refused input changed something: org %q, user %q", org.Name, user.Name)
	}
	orgs := f.do(request{method: "GET", path: "/api/v1/orgs", token: f.as("manager")})
	var l models.List[models.Org]
	orgs.json(t, &l)
	if len(l.Items) != 3 {
		t.Fatalf("refused orgs were created: %s", orgs.Body)
	}
}

// TestNULInPathOrQueryNeverReachesTheDatabase: PostgreSQL refuses NUL in a
// query's parameters with an error (a 500). An id holding one names nothing
// (404, like a missing id); a query parameter holding one is a 400 naming it.
func TestNULInPathOrQueryNeverReachesTheDatabase(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	for _, r := range f.srv.Routes() {
		role := string(r.Roles[0])
		switch {
		case strings.Contains(r.Path, ":id"):
			path := strings.Replace(r.Path, ":id", "x%00y", 1)
			var body any
			if r.Method == "POST" || r.Method == "PATCH" {
				body = "{}"
			}
			res := f.do(request{method: r.Method, path: path, token: f.as(role), body: body})
			if res.Status != http.StatusNotFound {
				t.Errorf("%s %s as %s: %d %s, want 404", r.Method, path, role, res.Status, res.Body)
			} else if code, _ := res.errorOf(t); code != models.ENOTFOUND {
				t.Errorf("%s %s as %s: %d %s, want 404", r.Method, path, role, res.Status, res.Body)
			}
		case r.Method == "GET" && r.Path != "/api/v1/me":
			path := r.Path + "?org_id=%00&limit=10"
			res := f.do(request{method: r.Method, path: path, token: f.as(role)})
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s %s as %s: %d %s, want 400 naming org_id", r.Method, path, role, res.Status, res.Body)
			} else if code, fields := res.errorOf(t); code != models.EINVALID || fields["org_id"] == "" {
				t.Errorf("%s %s as %s: %d %s, want 400 naming org_id", r.Method, path, role, res.Status, res.Body)
			}
		}
	}
}
