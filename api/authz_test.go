package api_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

// TestEveryRouteRoleAndTenant walks every route × every role × own/other
// org: no token → 401; a role the route does not declare → 403; a customer
// naming another org's id → 404 with the very body a missing id gets; and
// every permitted call gets past authorization.
func TestEveryRouteRoleAndTenant(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	ctx := context.Background()
	yes := true
	appA, _, err := f.db.CreateApplication(ctx, principal(f, "customer_admin"), models.ApplicationInput{ContactName: "A", ContactEmail: "a@alpha.example", AcceptPrivacyStatement: &yes}, 0)
	if err != nil {
		t.Fatal(err)
	}
	appB, _, err := f.db.CreateApplication(ctx, principal(f, "admin_b"), models.ApplicationInput{ContactName: "B", ContactEmail: "b@bravo.example", AcceptPrivacyStatement: &yes}, 0)
	if err != nil {
		t.Fatal(err)
	}
	inq := newStoreInquiries(f.db)
	ask := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/da123", Context: "Is this PowerShell command line malicious?", ContactEmail: "soc@test.example"}
	inqA, err := inq.Submit(ctx, principal(f, "customer_admin"), ask)
	if err != nil {
		t.Fatal(err)
	}
	inqB, err := inq.Submit(ctx, principal(f, "admin_b"), ask)
	if err != nil {
		t.Fatal(err)
	}
	smpA, err := inq.AddSample(ctx, principal(f, "customer_admin"), inqA.ID, "a.bin", []byte("A"))
	if err != nil {
		t.Fatal(err)
	}
	smpB, err := inq.AddSample(ctx, principal(f, "admin_b"), inqB.ID, "b.bin", []byte("B"))
	if err != nil {
		t.Fatal(err)
	}
	_, tokA, _ := f.db.CreateToken(ctx, models.System, f.users["customer_viewer"].ID, models.TokenInput{Name: "target"})
	_, tokB, _ := f.db.CreateToken(ctx, models.System, f.users["admin_b"].ID, models.TokenInput{Name: "target"})

	// ids[path] = {own org's, other org's}
	ids := map[string][2]string{
		"/api/v1/orgs/:id":                  {f.orgA.ID, f.orgB.ID},
		"/api/v1/users/:id":                 {f.users["customer_viewer"].ID, f.users["admin_b"].ID},
		"/api/v1/users/:id/tokens":          {f.users["customer_viewer"].ID, f.users["admin_b"].ID},
		"/api/v1/tokens/:id":                {tokA.ID, tokB.ID},
		"/api/v1/applications/:id":          {appA.ID, appB.ID},
		"/api/v1/applications/:id/approve":  {appA.ID, appB.ID},
		"/api/v1/applications/:id/reject":   {appA.ID, appB.ID},
		"/api/v1/applications/:id/withdraw": {appA.ID, appB.ID},
		"/api/v1/inquiries/:id":             {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/claim":       {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/assign":      {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/reports":     {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/responses":   {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/samples":     {inqA.ID, inqB.ID},
		"/api/v1/inquiries/:id/cancel":      {inqA.ID, inqB.ID},
		"/api/v1/samples/:id/download":      {smpA.ID, smpB.ID},
	}
	bodies := map[string]any{
		"POST /api/v1/orgs":                    map[string]any{"name": "Charlie", "devices_enrolled": 1},
		"PATCH /api/v1/orgs/:id":               map[string]any{"devices_enrolled": 42},
		"POST /api/v1/users":                   map[string]any{"org_id": f.orgA.ID, "email": "new@alpha.example", "name": "New", "role": "customer_viewer"},
		"PATCH /api/v1/users/:id":              map[string]any{"name": "Renamed"},
		"POST /api/v1/users/:id/tokens":        map[string]any{"name": "matrix"},
		"POST /api/v1/applications":            map[string]any{"contact_name": "A", "contact_email": "a@alpha.example", "accept_privacy_statement": true},
		"POST /api/v1/applications/:id/reject": map[string]any{"reason": "not yet"},
		"PATCH /api/v1/settings/advanced-features/endpoint-attack-notifications": map[string]any{"enabled": true},
		"POST /api/v1/inquiries":               map[string]any{"topic_url": "https://security.microsoft.com/incidents/42", "context": "Twenty characters of context at least.", "contact_email": "soc@alpha.example"},
		"POST /api/v1/inquiries/:id/assign":    map[string]any{"user_id": f.users["expert"].ID},
		"POST /api/v1/inquiries/:id/reports":   map[string]any{"category": "more_time_needed", "message": "Still digging."},
		"POST /api/v1/inquiries/:id/responses": map[string]any{"message": "Here is more."},
	}
	upload, uploadType := multipartFile(t, "file", "x.bin", []byte("sample"))
	headers := map[string]map[string]string{"POST /api/v1/inquiries/:id/samples": {"Content-Type": uploadType}}
	bodies["POST /api/v1/inquiries/:id/samples"] = upload
	missing := map[string]string{ // a well-formed id that does not exist
		"/api/v1/orgs/:id": "org_0", "/api/v1/users/:id": "usr_0", "/api/v1/users/:id/tokens": "usr_0", "/api/v1/tokens/:id": "tok_0",
		"/api/v1/applications/:id": "app_0", "/api/v1/applications/:id/approve": "app_0", "/api/v1/applications/:id/reject": "app_0", "/api/v1/applications/:id/withdraw": "app_0",
		"/api/v1/inquiries/:id": "inq_0", "/api/v1/inquiries/:id/claim": "inq_0", "/api/v1/inquiries/:id/assign": "inq_0", "/api/v1/inquiries/:id/reports": "inq_0",
		"/api/v1/inquiries/:id/responses": "inq_0", "/api/v1/inquiries/:id/samples": "inq_0", "/api/v1/inquiries/:id/cancel": "inq_0", "/api/v1/samples/:id/download": "smp_0",
	}
	roles := []string{"customer_viewer", "customer_admin", "expert", "manager"}

	for _, r := range f.srv.Routes() {
		key := r.Method + " " + r.Path
		pair, hasID := ids[r.Path]
		if strings.Contains(r.Path, ":id") && !hasID {
			t.Fatalf("route %s has an id but the matrix has no fixture for it: add one", key)
		}
		path := func(id string) string {
			p := strings.Replace(r.Path, ":id", id, 1)
			if strings.HasSuffix(p, "/advanced-features") {
				p += "?org_id=" + f.orgA.ID
			}
			return p
		}
		body := bodies[key]
		t.Run(key, func(t *testing.T) {
			res := f.do(request{method: r.Method, path: path(pair[0]), body: body, header: headers[key]})
			if code, _ := res.errorOf(t); res.Status != http.StatusUnauthorized || code != models.EUNAUTHORIZED {
				t.Fatalf("no token: %d %s, want 401 unauthenticated", res.Status, code)
			}
			for _, role := range roles {
				allowed := slices.Contains(r.Roles, models.Role(role))
				targets := []bool{true}
				if hasID {
					targets = []bool{true, false}
				}
				for _, own := range targets {
					id := pair[0]
					if !own {
						id = pair[1]
					}
					res := f.do(request{method: r.Method, path: path(id), token: f.as(role), body: body, header: headers[key]})
					what := fmt.Sprintf("%s as %s on %s org's id", key, role, map[bool]string{true: "its own", false: "another"}[own])
					switch {
					case !allowed:
						if code, _ := res.errorOf(t); res.Status != http.StatusForbidden || code != models.EFORBIDDEN {
							t.Errorf("%s: %d %s, want 403", what, res.Status, res.Body)
						}
					case !own && !models.Role(role).Staff():
						code, _ := res.errorOf(t)
						gone := f.do(request{method: r.Method, path: path(missing[r.Path]), token: f.as(role), body: body, header: headers[key]})
						if res.Status != http.StatusNotFound || code != models.ENOTFOUND || gone.Status != http.StatusNotFound || message(t, res) != message(t, gone) {
							t.Errorf("%s: %d %s, want the 404 a missing id gets (%d %s)", what, res.Status, res.Body, gone.Status, gone.Body)
						}
					default:
						if res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden || res.Status == http.StatusNotFound || res.Status >= 500 {
							t.Errorf("%s: %d %s, want it let through", what, res.Status, res.Body)
						}
					}
				}
			}
		})
	}
}

func message(t *testing.T, r response) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	r.json(t, &e)
	return e.Error.Code + ": " + e.Error.Message
}

func principal(f *fixture, key string) models.Principal {
	u := f.users[key]
	return models.Principal{UserID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role}
}

// multipartFile encodes one file part.
func multipartFile(t *testing.T, field, name string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}
