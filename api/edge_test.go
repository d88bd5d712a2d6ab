package api_test

// Tests of the API's edges: methods, metrics, idempotency under disconnects,
// failed-authentication limits and server timeouts (issue 18, items 2, 11,
// 12, 14, 17).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

// serve sends req to the server without the contract check (for requests
// the document cannot describe: odd methods, HEAD, OPTIONS).
func (f *fixture) serve(req *http.Request) response {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	for _, method := range []string{"PUT", "DELETE", "BREW"} {
		req := httptest.NewRequest(method, "/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+f.as("expert"))
		res := f.serve(req)
		if code, _ := res.errorOf(t); res.Status != http.StatusMethodNotAllowed || code != "method_not_allowed" {
			t.Fatalf("%s /api/v1/me: %d %s", method, res.Status, res.Body)
		}
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
			t.Fatalf("%s /api/v1/me: Allow %q", method, allow)
		}
	}
	// The contract documents 405 too.
	res := f.do(request{method: "DELETE", path: "/api/v1/orgs", token: f.as("manager")})
	if res.Status != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), "POST") {
		t.Fatalf("DELETE /api/v1/orgs: %d %v", res.Status, res.Header)
	}
}

func TestHeadWorksWhereGetDoes(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.yaml", "/api/v1/me", "/api/v1/orgs/" + f.orgA.ID} {
		req := httptest.NewRequest("HEAD", path, nil)
		req.Header.Set("Authorization", "Bearer "+f.as("manager"))
		if res := f.serve(req); res.Status != http.StatusOK {
			t.Fatalf("HEAD %s: %d %s", path, res.Status, res.Body)
		}
	}
	req := httptest.NewRequest("HEAD", "/api/v1/me", nil)
	if res := f.serve(req); res.Status != http.StatusUnauthorized {
		t.Fatalf("HEAD without a token: %d", res.Status)
	}
}

func TestOptionsAnswers204WithAllow(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	res := f.serve(httptest.NewRequest("OPTIONS", "/api/v1/orgs", nil))
	allow := res.Header.Get("Allow")
	if res.Status != http.StatusNoContent || !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") || !strings.Contains(allow, "OPTIONS") {
		t.Fatalf("OPTIONS /api/v1/orgs: %d Allow %q %s", res.Status, allow, res.Body)
	}
	if res := f.serve(httptest.NewRequest("OPTIONS", "/api/v1/nope", nil)); res.Status != http.StatusNotFound {
		t.Fatalf("OPTIONS on an unknown path: %d", res.Status)
	}
}

func TestMetricsCardinalityIsBounded(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	rng := rand.New(rand.NewSource(1))
	letters := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return string(b)
	}
	for i := 0; i < 1000; i++ {
		method := word(3 + rng.Intn(6))
		if i%3 == 0 {
			method = []string{"GET", "POST", "HEAD", "OPTIONS", "PATCH"}[rng.Intn(5)]
		}
		path := "/" + strings.ToLower(word(8))
		if i%2 == 0 {
			path = "/api/v1/orgs/" + word(10)
		}
		f.serve(httptest.NewRequest(method, path, nil))
	}
	m := f.do(request{method: "GET", path: "/metrics"})
	series := 0
	for _, line := range strings.Split(string(m.Body), "\n") {
		if strings.HasPrefix(line, "huntdesk_http_requests_total{") {
			series++
			if !strings.Contains(line, `method="`) {
				t.Fatalf("no method label: %s", line)
			}
			method := line[strings.Index(line, `method="`)+8:]
			method = method[:strings.Index(method, `"`)]
			switch method {
			case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other":
			default:
				t.Fatalf("method label %q escaped the fixed set: %s", method, line)
			}
		}
	}
	// routes × 8 methods × a handful of statuses, far below 1000.
	if series == 0 || series > 40 {
		t.Fatalf("%d request series after 1000 random requests", series)
	}
}

// cancellingApps is an Applications whose Submit sees the client go away:
// the request's context is cancelled mid-create. created decides whether the
// create landed before that (the response is then lost) or not.
type cancellingApps struct {
	api.Applications // nil: only Submit is called
	f                *fixture
	cancel           context.CancelFunc
	created          bool
	calls            int
}

func (a *cancellingApps) Submit(ctx context.Context, p models.Principal, in models.ApplicationInput) (*models.Application, bool, error) {
	a.calls++
	if a.calls == 1 {
		a.cancel()
		if !a.created {
			return nil, false, ctx.Err()
		}
	}
	app, created, err := a.f.db.CreateApplication(context.WithoutCancel(ctx), p, in, 0)
	if err != nil {
		return nil, false, err
	}
	return app, created, nil
}

func TestIdempotencyKeyIsNeverLeftLockedByADisconnect(t *testing.T) {
	for _, created := range []bool{false, true} {
		t.Run(fmt.Sprintf("created=%v", created), func(t *testing.T) {
			f := newFixture(t, api.Config{RateLimit: -1})
			apps := &cancellingApps{f: f, created: created}
			srv := api.New(api.Config{RateLimit: -1}, api.Deps{DB: f.db, Apps: apps})
			body := `{"contact_name":"Casey","contact_email":"casey@alpha.example","accept_privacy_statement":true}`
			send := func(ctx context.Context) *httptest.ResponseRecorder {
				req := httptest.NewRequest("POST", "/api/v1/applications", bytes.NewReader([]byte(body))).WithContext(ctx)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+f.as("customer_admin"))
				req.Header.Set("Idempotency-Key", "apply-1")
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				return w
			}
			ctx, cancel := context.WithCancel(context.Background())
			apps.cancel = cancel
			send(ctx)
			retry := send(context.Background())
			if retry.Code == http.StatusConflict {
				t.Fatalf("the retry found the key locked: %d %s", retry.Code, retry.Body)
			}
			if retry.Code != http.StatusCreated && retry.Code != http.StatusOK {
				t.Fatalf("retry: %d %s", retry.Code, retry.Body)
			}
			var app struct{ ID string }
			json.Unmarshal(retry.Body.Bytes(), &app)
			l, err := f.db.Applications(context.Background(), models.ApplicationFilter{OrgID: f.orgA.ID})
			if err != nil || len(l.Items) != 1 || l.Items[0].ID != app.ID {
				t.Fatalf("applications after the retry: %+v %v (retry answered %s)", l.Items, err, retry.Body)
			}
		})
	}
}

func TestFailedAuthenticationsAreLimitedPerClientIP(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1, AuthFailureRate: 0.001, AuthFailureBurst: 3})
	get := func(ip, token string) response {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.RemoteAddr = ip + ":40000"
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("X-Forwarded-For", "203.0.113.77") // not trusted: no proxy is configured
		return f.serve(req)
	}
	for i := 0; i < 3; i++ {
		if r := get("198.51.100.1", "hd_guess"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := get("198.51.100.1", "hd_guess")
	if code, _ := r.errorOf(t); r.Status != http.StatusTooManyRequests || code != models.ERATELIMITED || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth failure: %d %v %s", r.Status, r.Header, r.Body)
	}
	// Refused before the token is even looked at.
	if r := get("198.51.100.1", f.as("expert")); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a blocked address with a good token: %d", r.Status)
	}
	// Another address, and successes, are not counted against anyone.
	for i := 0; i < 5; i++ {
		if r := get("198.51.100.2", f.as("expert")); r.Status != http.StatusOK {
			t.Fatalf("another address: %d %s", r.Status, r.Body)
		}
	}
	if r := get("198.51.100.2", "hd_guess"); r.Status != http.StatusUnauthorized {
		t.Fatalf("another address's first failure: %d", r.Status)
	}
	// The contract documents the 429.
	f2 := newFixture(t, api.Config{RateLimit: -1, AuthFailureRate: 0.001, AuthFailureBurst: 1})
	f2.do(request{method: "GET", path: "/api/v1/me", token: "hd_guess"})
	if r := f2.do(request{method: "GET", path: "/api/v1/orgs", token: "hd_guess"}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("after the burst: %d", r.Status)
	}
}

// The contract says array: an empty one is [], never null or missing.
func TestEmptyListsAreArrays(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(&mocks.WorkflowRun{}, nil).Once()
	arrays := func(what string, res response, fields ...string) {
		t.Helper()
		var m map[string]json.RawMessage
		res.json(t, &m)
		for _, k := range fields {
			if v := strings.TrimSpace(string(m[k])); !strings.HasPrefix(v, "[") {
				t.Errorf("%s: %s is %q, want an array (status %d)", what, k, v, res.Status)
			}
		}
	}
	res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: map[string]any{
		"topic_url": "https://security.microsoft.com/alerts/da637", "context": "A suspicious PowerShell command line ran on a laptop.",
		"contact_email": "secops@alpha.example"}})
	if res.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", res.Status, res.Body)
	}
	arrays("POST /inquiries", res, "reports", "responses", "samples", "timeline")
	var q struct{ ID string }
	res.json(t, &q)
	arrays("GET /inquiries/{id}", f.do(request{method: "GET", path: "/api/v1/inquiries/" + q.ID, token: f.as("customer_admin")}), "reports", "responses", "samples", "timeline")

	for _, path := range []string{"/api/v1/inquiries?status=concluded", "/api/v1/queue?status=concluded", "/api/v1/applications",
		"/api/v1/audit?entity=nothing", "/api/v1/users/" + f.users["expert"].ID + "/tokens?cursor=" + "eyJpIjoiMCJ9"} {
		role := "manager"
		arrays("GET "+path, f.do(request{method: "GET", path: path, token: f.as(role)}), "items")
	}
}

// stuckApps is an Applications whose Submit hangs on a dependency (Temporal
// unreachable, a worker down) until its context ends.
type stuckApps struct{ api.Applications }

func (stuckApps) Submit(ctx context.Context, p models.Principal, in models.ApplicationInput) (*models.Application, bool, error) {
	select {
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-time.After(20 * time.Second): // a guard: the test fails instead of hanging
		return nil, false, fmt.Errorf("the handler was never told to stop")
	}
}

// A handler stuck on a dependency answers 503 before the write deadline cuts
// the connection (and releases its Idempotency-Key), instead of holding a
// goroutine for as long as the dependency hangs.
func TestStuckHandlerAnswers503WithinTheWriteTimeout(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	srv := api.New(api.Config{RateLimit: -1, WriteTimeout: 200 * time.Millisecond}, api.Deps{DB: f.db, Apps: stuckApps{}})
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/applications", strings.NewReader(`{"contact_name":"C","contact_email":"c@alpha.example","accept_privacy_statement":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.as("customer_admin"))
		req.Header.Set("Idempotency-Key", "stuck-1")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w
	}
	for i := 0; i < 2; i++ { // the second finds the key released, not locked
		w := send()
		res := response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
		if code, _ := res.errorOf(t); w.Code != http.StatusServiceUnavailable || code != models.EUNAVAILABLE {
			t.Fatalf("attempt %d: %d %s", i+1, w.Code, w.Body)
		}
	}
}
