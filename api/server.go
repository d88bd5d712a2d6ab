// Package api is huntdesk's HTTP front door (Gin). Handlers are thin: decode,
// authorize (declared per route), call one service method, encode. Errors are
// mapped to HTTP in one place (errors.go).
package api

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

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

	// Failed authentications per client address, counted before a token is
	// looked at: AuthFailureRate a second (default 0.1, one every 10 s; <0
	// disables) with AuthFailureBurst (default 10) in a row allowed.
	AuthFailureRate  float64
	AuthFailureBurst int
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For names
	// the client; default none (the TCP peer is the client).
	TrustedProxies []string
	// MaxLimiters bounds each set of rate limiters (per caller, per address);
	// default 100,000.
	MaxLimiters int

	// The HTTP server (HTTPServer, Listen). Timeouts < 0 disable.
	ReadHeaderTimeout time.Duration // default 10 s
	ReadTimeout       time.Duration // whole request, body included; default 30 s
	UploadTimeout     time.Duration // whole request on routes taking more than MaxBodyBytes (sample uploads); default 10 min
	WriteTimeout      time.Duration // from the end of the request to the end of the response; default 60 s
	IdleTimeout       time.Duration // keep-alive connection with no request; default 120 s
	MaxHeaderBytes    int           // default 64 KiB
	MaxConns          int           // open connections per listener; default 4096; <0: no cap
}

func (cfg *Config) defaults() {
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
	if cfg.AuthFailureRate == 0 {
		cfg.AuthFailureRate = 0.1
	}
	if cfg.AuthFailureBurst <= 0 {
		cfg.AuthFailureBurst = 10
	}
	if cfg.MaxLimiters <= 0 {
		cfg.MaxLimiters = 100_000
	}
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0 // net/http: no timeout
		}
	}
	dur(&cfg.ReadHeaderTimeout, 10*time.Second)
	dur(&cfg.ReadTimeout, 30*time.Second)
	dur(&cfg.UploadTimeout, 10*time.Minute)
	dur(&cfg.WriteTimeout, 60*time.Second)
	dur(&cfg.IdleTimeout, 120*time.Second)
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 4096
	}
}

// Deps are what the API talks to.
type Deps struct {
	DB       *store.DB
	Temporal client.Client // nil: readiness skips Temporal (tests of DB-only routes)
	Apps     Applications  // Process A
	Inq      Inquiries     // Process B
	Alerts   Alerts        // Process C
	Conn     Connectors    // Process C: the org's own alerts
	SLA      SLA           // what managers audit
	Logger   *slog.Logger
	Registry *prometheus.Registry // nil: a fresh one
	// Console is the web console, served under /app/ ("/" leads there);
	// nil: none.
	Console http.Handler
	// Extra registers routes outside /api/v1, e.g. the dev mail sink.
	Extra func(r gin.IRouter)
}

// Server is the HTTP API.
type Server struct {
	Deps
	cfg     Config
	engine  *gin.Engine
	metrics *httpMetrics

	callers      *limiterSet // requests per authenticated caller
	authFailures *limiterSet // failed authentications per client address
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
		{method: "PATCH", path: "/api/v1/me", roles: anyone, handle: s.patchMe},

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
	rs = append(rs, s.inquiryRoutes()...)
	rs = append(rs, s.alertRoutes()...)
	rs = append(rs, s.connectorRoutes()...)
	return append(rs, s.slaRoutes()...)
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
	cfg.defaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{Deps: d, cfg: cfg,
		callers:      newLimiterSet(cfg.RateLimit, cfg.RateBurst, cfg.MaxLimiters),
		authFailures: newLimiterSet(cfg.AuthFailureRate, cfg.AuthFailureBurst, cfg.MaxLimiters)}
	s.metrics = newHTTPMetrics(d.Registry)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Gin trusts every proxy's X-Forwarded-For by default, which would let a
	// client pick the address its failed authentications count against.
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		d.Logger.Error("HUNTDESK_TRUSTED_PROXIES ignored", "err", err)
		e.SetTrustedProxies(nil)
	}
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
	if d.Console != nil {
		console := gin.WrapH(d.Console)
		e.Any("/app/*page", console)
		e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/app/") })
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
	// A route whose body may be larger than a JSON body (a sample upload)
	// gets the upload deadline instead of the server's ReadTimeout; the
	// response deadline moves with it.
	var readFor time.Duration
	if limit > s.cfg.MaxBodyBytes && s.cfg.UploadTimeout > 0 {
		readFor = s.cfg.UploadTimeout
	}
	return func(c *gin.Context) {
		if readFor > 0 {
			rc := http.NewResponseController(c.Writer)
			_ = rc.SetReadDeadline(time.Now().Add(readFor)) // not every writer supports it (tests' recorders)
			if s.cfg.WriteTimeout > 0 {
				_ = rc.SetWriteDeadline(time.Now().Add(readFor + s.cfg.WriteTimeout))
			}
		}
		// The handler gets the write deadline too, a little before the server
		// cuts the connection: one stuck on a dependency (Temporal, the
		// database) answers 503 and frees its goroutine and its
		// Idempotency-Key instead of hanging for as long as the dependency.
		if s.cfg.WriteTimeout > 0 {
			ctx, cancel := context.WithTimeout(c.Request.Context(), readFor+s.cfg.WriteTimeout*9/10)
			defer cancel()
			c.Request = c.Request.WithContext(ctx)
			c.Writer = newProgressWriter(c.Writer, s.cfg.WriteTimeout)
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		var p models.Principal
		if r.roles != nil {
			ip := clientKey(c.ClientIP())
			if wait, blocked := s.authFailures.blocked(ip); blocked && s.cfg.AuthFailureRate > 0 {
				c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
				writeError(c, models.Errorf(models.ERATELIMITED, "too many failed authentications from your address; retry later"))
				return
			}
			var err error
			if p, err = s.authenticate(c); err != nil {
				// A guessed or stolen-and-revoked token counts; a request with no
				// token at all (a browser, a probe) guesses nothing.
				if models.ErrorCode(err) == models.EUNAUTHORIZED && s.cfg.AuthFailureRate > 0 && c.GetHeader("Authorization") != "" {
					s.authFailures.allow(ip)
				}
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
		if err := checkParams(c, r); err != nil {
			writeError(c, err)
			return
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
	c.JSON(status, jsonBody(body))
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
	return s.callers.allow(key)
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
