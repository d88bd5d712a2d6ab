package e2e

// Helpers for the API-over-real-services tests (api_*_test.go): the HTTP API
// in front of the real internal/cases services, the real store and a real
// Temporal server with the worker, i.e. the dev stack. Each test starts one
// stack and makes fresh orgs through the API, so its subtests do not see each
// other's cases.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/huntdesk/huntdesk/api"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
)

// apiStack starts a dev stack on this test's database (PostgreSQL when
// DATABASE_URL is set) with clocks long enough that no SLA event interleaves
// and no rate limit; tune adjusts it further. It stops with the test.
func apiStack(t *testing.T, tune ...func(*devstack.Config)) (*devstack.Stack, client) {
	t.Helper()
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	all := append([]func(*devstack.Config){fastInquiries(time.Hour), func(c *devstack.Config) { c.API.RateLimit = -1 }}, tune...)
	st := stack(t, t.TempDir(), dbURL, time.Hour, all...)
	t.Cleanup(st.Close)
	return st, client{t: t, base: st.URL}
}

// on returns the client reporting to t (a subtest).
func (c client) on(t *testing.T) client { c.t = t; return c }

// hreply is a reply with its headers.
type hreply struct {
	reply
	header http.Header
}

// raw sends body as is with the given content type (none when empty), and
// checks the answer against api/openapi.yaml.
func (c client) raw(method, path, token, contentType string, body []byte, header ...string) hreply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := hreply{reply: reply{status: res.StatusCode, body: b}, header: res.Header}
	checkContract(c.t, req, r)
	return r
}

// api is call (a JSON body, or none) with the answer checked against
// api/openapi.yaml.
func (c client) api(method, path, token string, body any, header ...string) reply {
	c.t.Helper()
	if body == nil {
		return c.raw(method, path, token, "", nil, header...).reply
	}
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(method, path, token, "application/json", b, header...).reply
}

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractErr    error
)

// checkContract fails the test when the answer of a documented route does
// not match its documented status and schema (as api/'s tests do).
func checkContract(t *testing.T, req *http.Request, res hreply) {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err == nil {
			contractRouter, err = gorillamux.NewRouter(doc)
		}
		contractErr = err
	})
	if contractErr != nil {
		t.Fatalf("openapi.yaml: %v", contractErr)
	}
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	r2 := req.Clone(context.Background())
	r2.URL.Host, r2.URL.Scheme, r2.Host = "", "", ""
	route, params, err := contractRouter.FindRoute(r2)
	if err != nil {
		t.Fatalf("%s %s answered %d but is not in openapi.yaml: %v", req.Method, req.URL.Path, res.status, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: r2, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.status, Header: res.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, res.status, err, res.body)
	}
}

// fields returns the field errors of a 400.
func (r reply) fields(t *testing.T) map[string]string {
	t.Helper()
	var e struct {
		Error struct {
			Code   string
			Fields map[string]string
		}
	}
	r.decode(t, &e)
	return e.Error.Fields
}

// multipartBody encodes one part named field with a raw Content-Disposition
// file name.
func multipartBody(t *testing.T, field, filename string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace
	disp := `form-data; name="` + quote(field) + `"; filename="` + quote(filename) + `"`
	if strings.ContainsFunc(filename, unicode.IsControl) { // only RFC 5987 encoding carries these
		disp = `form-data; name="` + quote(field) + `"; filename*=UTF-8''` + url.PathEscape(filename)
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Type", "application/octet-stream")
	pw, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// tenant is a customer org made through the API with an admin and a viewer.
type tenant struct {
	orgID, adminID, viewerID string
	admin, viewer            string // tokens
}

var tenants atomic.Int64

// newTenant makes a customer org with enrolled devices and the given
// subscription ({"plan": "full"} when nil), its customer_admin and its
// customer_viewer, each with a token, as the manager.
func newTenant(t *testing.T, c client, manager string, sub map[string]any) tenant {
	t.Helper()
	if sub == nil {
		sub = map[string]any{"plan": "full"}
	}
	n := tenants.Add(1)
	name := fmt.Sprintf("Tenant %d", n)
	var org struct{ ID string }
	r := c.api("POST", "/api/v1/orgs", manager, map[string]any{"name": name, "devices_enrolled": 10, "subscription": sub})
	r.decode(t, &org)
	if r.status != 201 {
		t.Fatalf("create org: %d %s", r.status, r.body)
	}
	tn := tenant{orgID: org.ID}
	tn.adminID, tn.admin = newUser(t, c, manager, org.ID, fmt.Sprintf("admin@tenant%d.example", n), "customer_admin")
	tn.viewerID, tn.viewer = newUser(t, c, manager, org.ID, fmt.Sprintf("viewer@tenant%d.example", n), "customer_viewer")
	return tn
}

// newUser makes a user and a token for it, as the manager.
func newUser(t *testing.T, c client, manager, orgID, email, role string) (id, token string) {
	t.Helper()
	var u struct{ ID string }
	r := c.api("POST", "/api/v1/users", manager, map[string]any{"org_id": orgID, "email": email, "name": strings.Split(email, "@")[0], "role": role})
	r.decode(t, &u)
	if r.status != 201 {
		t.Fatalf("create user %s: %d %s", email, r.status, r.body)
	}
	var tok struct{ Token string }
	r = c.api("POST", "/api/v1/users/"+u.ID+"/tokens", manager, map[string]any{"name": "e2e"})
	r.decode(t, &tok)
	if r.status != 201 || tok.Token == "" {
		t.Fatalf("token for %s: %d %s", email, r.status, r.body)
	}
	return u.ID, tok.Token
}

// me returns the caller's user id and org id.
func me(t *testing.T, c client, token string) (userID, orgID string) {
	t.Helper()
	var m struct {
		User struct{ ID string }
		Org  struct{ ID string }
	}
	r := c.api("GET", "/api/v1/me", token, nil)
	r.decode(t, &m)
	if r.status != 200 {
		t.Fatalf("/me: %d %s", r.status, r.body)
	}
	return m.User.ID, m.Org.ID
}

// apiInquiry is an inquiry as the API shows it, with what these tests read.
type apiInquiry struct {
	inquiry
	OrgID     string `json:"org_id"`
	Responses []struct{ ID, Message string }
}

// ask submits an inquiry that must be accepted.
func ask(t *testing.T, c client, token string) apiInquiry {
	t.Helper()
	var q apiInquiry
	r := c.api("POST", "/api/v1/inquiries", token, map[string]any{
		"topic_url": "https://security.microsoft.com/alerts/da42", "context": "A suspicious PowerShell command line ran; is it malicious?", "contact_email": "soc@tenant.example"})
	r.decode(t, &q)
	if r.status != 201 || q.ID == "" {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	return q
}

// step runs one command that must succeed with want and returns the inquiry.
func step(t *testing.T, c client, method, path, token string, body any, want int) apiInquiry {
	t.Helper()
	var q apiInquiry
	r := c.api(method, path, token, body)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	r.decode(t, &q)
	return q
}
