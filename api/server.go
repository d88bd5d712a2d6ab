// Package api is huntdesk's HTTP front door (Gin). Handlers are thin: decode,
// authorize (declared per route), call one service method, encode. Errors are
// mapped to HTTP in one place (errors.go).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"golang.org/x/time/rate"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/models"
)

// Config tunes the API; zero values take the defaults.
type Config struct {
	MaxBodyBytes int64   // JSON bodies; default 1 MiB
	RateLimit    float64 // requests per second per caller; default 50; <0 disables
	RateBurst    int     // default 100
	// SampleMaxBytes is the largest sample upload; default 32 MiB.
	SampleMaxBytes int64
}

// Deps are what the API talks to.
type Deps struct {
	DB       *store.DB
	Temporal client.Client // nil: readiness skips Temporal (tests of DB-only routes)
	Apps     Applications  // Process A
	Inq      Inquiries     // Process B
	Logger   *slog.Logger
	Registry *prometheus.Registry // nil: a fresh one
	// Extra registers routes outside /api/v1, e.g. the dev mail sink.
	Extra func(r gin.IRouter)
}

// Server is the HTTP API.
type Server struct {
	Deps
	cfg     Config
	engine  *gin.Engine
	metrics *httpMetrics

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// route declares one endpoint: who may call it and how.
type route struct {
	method, path string
	roles        []models.Role // nil: public, no authentication
	create       bool          // honours Idempotency-Key
	maxBody      int64         // 0: Config.MaxBodyBytes
	handle       handler
}

// handler returns the status and body to encode, or an error to map.
type handler func(c *gin.Context, p models.Principal) (int, any, error)

var (
	anyone    = models.Roles
	customers = []models.Role{models.RoleCustomerViewer, models.RoleCustomerAdmin}
	admins    = []models.Role{models.RoleCustomerAdmin}
	staff     = []models.Role{models.RoleExpert, models.RoleManager}
	managers  = []models.Role{models.RoleManager}
)

// routes is the whole API surface. The authorization test walks it.
func (s *Server) routes() []route {
	rs := []route{
		{method: "GET", path: "/api/v1/me", roles: anyone, handle: s.me},

		{method: "GET", path: "/api/v1/orgs", roles: staff, handle: s.listOrgs},
		{method: "POST", path: "/api/v1/orgs", roles: managers, create: true, handle: s.createOrg},
		{method: "GET", path: "/api/v1/orgs/:id", roles: anyone, handle: s.getOrg},
		{method: "PATCH", path: "/api/v1/orgs/:id", roles: managers, handle: s.updateOrg},

		{method: "GET", path: "/api/v1/users", roles: managers, handle: s.listUsers},
		{method: "POST", path: "/api/v1/users", roles: managers, create: true, handle: s.createUser},
		{method: "GET", path: "/api/v1/users/:id", roles: managers, handle: s.getUser},
		{method: "PATCH", path: "/api/v1/users/:id", roles: managers, handle: s.updateUser},
		{method: "GET", path: "/api/v1/users/:id/tokens", roles: managers, handle: s.listTokens},
		{method: "POST", path: "/api/v1/users/:id/tokens", roles: managers, create: true, handle: s.createToken},
		{method: "DELETE", path: "/api/v1/tokens/:id", roles: managers, handle: s.revokeToken},

		{method: "GET", path: "/api/v1/audit", roles: managers, handle: s.listAudit},
	}
	rs = append(rs, s.applicationRoutes()...)
	return append(rs, s.inquiryRoutes()...)
}

// RouteInfo describes one route: tests walk every route with every role.
type RouteInfo struct {
	Method, Path string
	Roles        []models.Role
	Create       bool
}

// Routes lists the API's authenticated routes.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range s.routes() {
		out = append(out, RouteInfo{Method: r.method, Path: r.path, Roles: r.roles, Create: r.create})
	}
	return out
}

// New builds the API.
func New(cfg Config, d Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 50
	}
	if cfg.SampleMaxBytes <= 0 {
		cfg.SampleMaxBytes = 32 << 20
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 100
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{Deps: d, cfg: cfg, limiters: map[string]*rate.Limiter{}}
	s.metrics = newHTTPMetrics(d.Registry)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(s.observe, s.recover)
	e.NoRoute(func(c *gin.Context) { writeError(c, models.Errorf(models.ENOTFOUND, "no such route")) })
	// Gin calls NoMethod when the path exists under other methods, with Allow
	// already set to them. OPTIONS is answered 204 with Allow (no CORS: the
	// console is served from the same origin); anything else is 405.
	e.NoMethod(func(c *gin.Context) {
		allow := c.Writer.Header().Get("Allow") + ", OPTIONS"
		if c.Request.Method == http.MethodOptions {
			c.Header("Allow", allow)
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Header("Allow", allow)
		writeError(c, &models.Error{Code: eMethodNotAllowed, Message: c.Request.Method + " is not allowed here; allowed: " + allow})
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET("/api/v1/openapi.yaml", serveOpenAPI)
	for _, r := range s.routes() {
		e.Handle(r.method, r.path, s.wrap(r))
	}
	if d.Extra != nil {
		d.Extra(e)
	}
	// HEAD works wherever GET does (net/http drops the body).
	head := map[string]bool{}
	for _, ri := range e.Routes() {
		if ri.Method == http.MethodHead {
			head[ri.Path] = true
		}
	}
	for _, ri := range e.Routes() {
		if ri.Method == http.MethodGet && !head[ri.Path] {
			e.HEAD(ri.Path, ri.HandlerFunc)
		}
	}
	s.engine = e
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// wrap turns a route into a Gin handler: body limit, authentication, role
// check, rate limit, idempotency, then the handler and its encoding.
func (s *Server) wrap(r route) gin.HandlerFunc {
	limit := r.maxBody
	if limit == 0 {
		limit = s.cfg.MaxBodyBytes
	}
	allowed := map[models.Role]bool{}
	for _, role := range r.roles {
		allowed[role] = true
	}
	return func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		var p models.Principal
		if r.roles != nil {
			var err error
			if p, err = s.authenticate(c); err != nil {
				writeError(c, err)
				return
			}
			c.Set(ctxPrincipal, p)
			c.Set(ctxLogger, logger(c).With("user_id", p.UserID))
			if !allowed[p.Role] {
				writeError(c, models.Errorf(models.EFORBIDDEN, "role %s may not do this", p.Role))
				return
			}
			if !s.allow(p.UserID) {
				c.Header("Retry-After", "1")
				writeError(c, models.Errorf(models.ERATELIMITED, "too many requests; slow down"))
				return
			}
		}
		if r.create && c.GetHeader("Idempotency-Key") != "" {
			s.idempotent(c, p, r.handle)
			return
		}
		status, body, err := r.handle(c, p)
		respond(c, status, body, err)
	}
}

func respond(c *gin.Context, status int, body any, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	if body == nil {
		if !c.Writer.Written() {
			c.Status(status)
		}
		return
	}
	c.JSON(status, body)
}

func (s *Server) authenticate(c *gin.Context) (models.Principal, error) {
	h := c.GetHeader("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !equalFold(h[:len(prefix)], prefix) {
		c.Header("WWW-Authenticate", `Bearer realm="huntdesk"`)
		return models.Principal{}, models.Errorf(models.EUNAUTHORIZED, "missing or invalid bearer token")
	}
	return s.DB.Authenticate(c, h[len(prefix):])
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// allow applies the per-caller token bucket.
func (s *Server) allow(key string) bool {
	if s.cfg.RateLimit < 0 {
		return true
	}
	s.mu.Lock()
	l, ok := s.limiters[key]
	if !ok {
		if len(s.limiters) > 100_000 { // bound memory: forget everyone, rarely
			s.limiters = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), s.cfg.RateBurst)
		s.limiters[key] = l
	}
	s.mu.Unlock()
	return l.Allow()
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz reports whether the database and Temporal answer; a load balancer
// takes the instance out of rotation while either is down.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"], ok = "unavailable", false
	} else {
		checks["database"] = "ok"
	}
	if s.Temporal != nil {
		if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			checks["temporal"], ok = "unavailable", false
		} else {
			checks["temporal"] = "ok"
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
		checks["status"] = "unavailable"
	} else {
		checks["status"] = "ok"
	}
	c.JSON(status, checks)
}
