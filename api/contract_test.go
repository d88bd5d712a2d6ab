package api_test

// The contract: api/openapi.yaml passes Redocly's recommended rules (checked
// here offline for the rules it once broke; `make lint-openapi` runs Redocly
// itself), documents every status the server can answer, and the response
// check that every test runs refuses an undocumented one.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

func specPath(ginPath string) string {
	for _, seg := range strings.Split(ginPath, "/") {
		if strings.HasPrefix(seg, ":") {
			ginPath = strings.Replace(ginPath, seg, "{"+seg[1:]+"}", 1)
		}
	}
	return ginPath
}

func TestOpenAPIFollowsTheLintRules(t *testing.T) {
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.License == nil || doc.Info.License.Name == "" || doc.Info.License.URL == "" {
		t.Error("info.license with a name and url is required")
	}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %s", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			if op.Summary == "" {
				t.Errorf("%s has no summary", where)
			}
			has4xx := false
			for code := range op.Responses.Map() {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx {
				t.Errorf("%s documents no 4xx response", where)
			}
		}
	}
	var walk func(where string, s *openapi3.SchemaRef)
	seen := map[*openapi3.Schema]bool{}
	walk = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		v := s.Value
		if v.Nullable && (v.Type == nil || len(*v.Type) == 0) {
			t.Errorf("%s: nullable without a type", where)
		}
		for name, p := range v.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", v.Items)
		for i, x := range v.AllOf {
			walk(fmt.Sprintf("%s.allOf[%d]", where, i), x)
		}
		if v.AdditionalProperties.Schema != nil {
			walk(where+".*", v.AdditionalProperties.Schema)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk(name, s)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt, c := range op.RequestBody.Value.Content {
					walk(method+" "+path+" "+mt, c.Schema)
				}
			}
			for _, p := range op.Parameters {
				if p.Value != nil {
					walk(method+" "+path+" ?"+p.Value.Name, p.Value.Schema)
				}
			}
		}
	}
}

// TestOpenAPIDocumentsEveryStatus derives from each route what the server's
// shared layers can answer whatever the handler does, and requires it in the
// document; what handlers answer is checked on every response of every test.
func TestOpenAPIDocumentsEveryStatus(t *testing.T) {
	f := newFixture(t, api.Config{})
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	everyone := len(models.Roles)
	for _, r := range f.srv.Routes() {
		path := specPath(r.Path)
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is not documented", r.Method, path)
			continue
		}
		op := item.GetOperation(r.Method)
		want := []int{431, 500} // headers too large (net/http), a panic or an unexpected error
		if r.Roles != nil {
			want = append(want, 401, 429, 503) // no/bad token or too many failures, rate limit, database down
			if len(r.Roles) < everyone {
				want = append(want, 403)
			}
		}
		if strings.Contains(r.Path, "/:") {
			want = append(want, 404)
		}
		if r.Create {
			want = append(want, 400, 409, 413, 422) // Idempotency-Key: too long, in progress, body read, reused
		}
		if op.RequestBody != nil {
			want = append(want, 400, 413, 415)
		}
		for _, p := range op.Parameters {
			if p.Value != nil && p.Value.In == "query" && p.Value.Name == "limit" {
				want = append(want, 400)
			}
		}
		sort.Ints(want)
		want = slices.Compact(want)
		for _, code := range want {
			if op.Responses.Status(code) == nil {
				t.Errorf("%s %s can answer %d but does not document it", r.Method, path, code)
			}
		}
	}
}

// TestMethodNotAllowedMatchesTheDocument: a 405 carries the one error shape and an
// Allow header naming exactly the documented methods (plus HEAD and OPTIONS).
func TestMethodNotAllowedMatchesTheDocument(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	doc, _, _ := loadSpec()
	for _, r := range f.srv.Routes() {
		path := specPath(r.Path)
		item := doc.Paths.Find(path)
		if item == nil {
			continue
		}
		req := httptest.NewRequest("PUT", strings.ReplaceAll(r.Path, ":id", "x"), nil)
		if item.Put != nil {
			continue
		}
		res := f.serve(req)
		checkUnrouted(t, req, res)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records instead of failing.
type fatalRecorder struct {
	testing.TB
	failed string
}

type stopped struct{}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (r *fatalRecorder) Helper() {}

func contractFails(req *http.Request, res response) (msg string) {
	rec := &fatalRecorder{}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopped); !ok {
				panic(v)
			}
			msg = rec.failed
		}
	}()
	checkOpenAPI(rec, req, nil, res)
	return ""
}

func TestContractCheckRefusesWhatIsNotDocumented(t *testing.T) {
	errBody := []byte(`{"error":{"code":"conflict","message":"x"}}`)
	h := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		method, path string
		status       int
		body         []byte
	}{
		{"GET", "/api/v1/me", http.StatusTeapot, errBody},                // a status nobody documented
		{"GET", "/api/v1/me", http.StatusConflict, errBody},              // a real status, not documented for this operation
		{"GET", "/api/v1/me", http.StatusOK, []byte(`{"user":1}`)},       // a documented status with the wrong body
		{"GET", "/api/v1/orgs", http.StatusOK, []byte(`{"items":null}`)}, // null where the schema says array
		{"PUT", "/api/v1/me", http.StatusMethodNotAllowed, []byte(`not the error shape`)},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, nil)
		if msg := contractFails(req, response{Status: c.status, Header: h, Body: c.body}); msg == "" {
			t.Errorf("%s %s → %d %s passed the contract check", c.method, c.path, c.status, c.body)
		}
	}
	ok := response{Status: 200, Header: h, Body: []byte(`{"items":[]}`)}
	if msg := contractFails(httptest.NewRequest("GET", "/api/v1/orgs", nil), ok); msg != "" {
		t.Errorf("a good response failed: %s", msg)
	}
}

// checkUnrouted checks an answer to a request the document has no operation
// for: a 404 or a 405, in the one error shape; a 405's Allow header names
// exactly the documented methods of the path, plus HEAD (with GET) and
// OPTIONS.
func checkUnrouted(t testing.TB, req *http.Request, res response) {
	t.Helper()
	if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
		t.Fatalf("%s %s answered %d but is not in openapi.yaml", req.Method, req.URL.Path, res.Status)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(res.Body), `"code":"`) {
		t.Fatalf("%s %s → %d without the error shape: %s", req.Method, req.URL.Path, res.Status, res.Body)
	}
	if res.Status != http.StatusMethodNotAllowed {
		return
	}
	doc, _, _ := loadSpec()
	var item *openapi3.PathItem
	for path, it := range doc.Paths.Map() {
		if matchesTemplate(path, req.URL.Path) {
			item = it
		}
	}
	if item == nil {
		t.Fatalf("%s %s → 405 on a path that is not documented", req.Method, req.URL.Path)
	}
	want := map[string]bool{"OPTIONS": true}
	for m := range item.Operations() {
		want[m] = true
		if m == "GET" {
			want["HEAD"] = true
		}
	}
	got := map[string]bool{}
	for _, m := range strings.Split(res.Header.Get("Allow"), ",") {
		got[strings.TrimSpace(m)] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s %s → 405 Allow %q, the document says %v", req.Method, req.URL.Path, res.Header.Get("Allow"), want)
	}
}

func matchesTemplate(tmpl, path string) bool {
	a, b := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !strings.HasPrefix(a[i], "{") {
			return false
		}
	}
	return true
}
