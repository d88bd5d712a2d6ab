package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"go.temporal.io/sdk/mocks"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// fixture is an API over a fresh database with two customer orgs (A: devices,
// trial; B: devices, full), the provider org, a user of every role and a
// token for each.
type fixture struct {
	t      testing.TB
	db     *store.DB
	srv    *api.Server
	orgA   *models.Org
	orgB   *models.Org
	prov   *models.Org
	users  map[string]*models.User // key: role name for org A and staff; "admin_b" for org B's admin
	tokens map[string]string
	// temporal is the services' Temporal client: a mock expecting no call.
	temporal *mocks.Client
}

func newFixture(t testing.TB, cfg api.Config) *fixture {
	t.Helper()
	db := storetest.Open(t)
	f := &fixture{t: t, db: db, users: map[string]*models.User{}, tokens: map[string]string{}}
	ctx := context.Background()
	mkOrg := func(name string, kind models.OrgKind, devices int, sub models.Subscription) *models.Org {
		o, err := db.CreateOrg(ctx, models.System, kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &sub})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	end := time.Now().Add(30 * 24 * time.Hour)
	five := 5
	f.prov = mkOrg("provider", models.OrgProvider, 0, models.Subscription{Plan: models.PlanNone})
	f.orgA = mkOrg("Alpha", models.OrgCustomer, 10, models.Subscription{Plan: models.PlanTrial, TrialEndsAt: &end, TrialAllowance: &five})
	f.orgB = mkOrg("Bravo", models.OrgCustomer, 20, models.Subscription{Plan: models.PlanFull})
	mkUser := func(key string, org *models.Org, role models.Role) {
		u, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: org.ID, Email: key + "@test.example", Name: key, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := db.CreateToken(ctx, models.System, u.ID, models.TokenInput{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		f.users[key], f.tokens[key] = u, secret
	}
	mkUser(string(models.RoleCustomerViewer), f.orgA, models.RoleCustomerViewer)
	mkUser(string(models.RoleCustomerAdmin), f.orgA, models.RoleCustomerAdmin)
	mkUser(string(models.RoleExpert), f.prov, models.RoleExpert)
	mkUser(string(models.RoleManager), f.prov, models.RoleManager)
	mkUser("admin_b", f.orgB, models.RoleCustomerAdmin)
	// The real services over the real store; their Temporal client is a mock
	// that expects no call: tests here stop at authentication, tenancy and
	// validation. Everything that runs a workflow is tested over a real
	// Temporal server in e2e/ (api_*_test.go).
	tc := mocks.NewClient(t)
	f.temporal = tc
	f.srv = api.New(cfg, api.Deps{DB: db, Apps: &cases.Applications{DB: db, Temporal: tc}, Inq: &cases.Inquiries{DB: db, Temporal: tc},
		Alerts: &cases.Alerts{DB: db, Temporal: tc}, Conn: &cases.Alerts{DB: db, Temporal: tc}, SLA: &cases.SLA{DB: db}})
	return f
}

// response is a recorded response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errorOf decodes the one error shape.
func (r response) errorOf(t *testing.T) (code string, fields map[string]string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d without the error shape: %s", r.Status, r.Body)
	}
	return e.Error.Code, e.Error.Fields
}

// request is one call; header values override the defaults.
type request struct {
	method, path, token string
	body                any // string is sent raw; anything else as JSON
	header              map[string]string
}

func (f *fixture) do(r request) response {
	f.t.Helper()
	var body io.Reader
	var raw []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	res := response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	checkOpenAPI(f.t, req, raw, res)
	return res
}

func (f *fixture) as(role string) string { return f.tokens[role] }

var (
	specOnce sync.Once
	spec     *openapi3.T
	router   routers.Router
	specErr  error
)

func loadSpec() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		l := openapi3.NewLoader()
		spec, specErr = l.LoadFromData(api.OpenAPI)
		if specErr == nil {
			specErr = spec.Validate(context.Background())
		}
		if specErr == nil {
			router, specErr = gorillamux.NewRouter(spec)
		}
	})
	return spec, router, specErr
}

// checkOpenAPI fails the test when a response of a documented route does not
// match its documented status and schema: the document is kept true by every
// test that calls the API.
func checkOpenAPI(t testing.TB, req *http.Request, body []byte, res response) {
	t.Helper()
	_, rt, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if strings.HasPrefix(req.URL.Path, "/metrics") {
		return
	}
	r2 := req.Clone(context.Background())
	r2.URL.Host, r2.URL.Scheme = "", ""
	route, params, err := rt.FindRoute(r2)
	if err != nil {
		checkUnrouted(t, req, res) // contract_test.go: a 404 or 405 in the error shape
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: r2, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.Status, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(res.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, res.Status, err, res.Body)
	}
}
