package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/huntdesk/huntdesk/models"
)

const (
	ctxRequestID = "huntdesk.request_id"
	ctxLogger    = "huntdesk.logger"
	ctxPrincipal = "huntdesk.principal"
	ctxBody      = "huntdesk.body"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	registry *prometheus.Registry
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huntdesk_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huntdesk_http_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	// The process and Go runtime collectors may already be registered by
	// whoever owns reg; registering twice is harmless to skip.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

// metricMethod bounds the method label: anyone can send any method name, and
// every distinct label value is a series kept for the life of the process.
// (The route label is bounded already: a route template, or "unmatched".)
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// observe gives every request an id (echoed as X-Request-ID and on every log
// line), logs it when done and counts it by route.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-ID")
	if !validRequestID.MatchString(id) {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Set(ctxLogger, s.Logger.With("request_id", id))
	c.Next()

	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	d := time.Since(start)
	method := metricMethod(c.Request.Method)
	s.metrics.requests.WithLabelValues(route, method, status).Inc()
	s.metrics.latency.WithLabelValues(route, method, status).Observe(d.Seconds())
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		return
	}
	logger(c).Info("http request", "method", c.Request.Method, "route", route, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration_ms", float64(d.Microseconds())/1000, "bytes", c.Writer.Size())
}

// recover answers a panic with the one error shape and logs it.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			logger(c).Error("panic", "value", v)
			writeError(c, models.Errorf(models.EINTERNAL, "internal error"))
		}
	}()
	c.Next()
}

// idempotent runs a create at most once per (caller, Idempotency-Key): the
// same key and body replay the first response; the same key with another body
// is refused. Responses worth retrying (409, 429, 5xx) are not stored, so a
// retry runs again.
func (s *Server) idempotent(c *gin.Context, p models.Principal, h handler) {
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 200 {
		writeError(c, invalid("Idempotency-Key", "must be at most 200 characters"))
		return
	}
	body, err := readBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	sum := sha256.New()
	sum.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
	sum.Write(body)
	hash := hex.EncodeToString(sum.Sum(nil))

	prev, err := s.DB.BeginIdempotent(c, p.UserID, key, hash)
	if err != nil {
		writeError(c, err)
		return
	}
	if prev != nil {
		c.Header("Idempotent-Replayed", "true")
		c.Data(prev.Status, "application/json; charset=utf-8", prev.Body)
		return
	}
	status, out, herr := h(c, p)
	var eb errorBody
	if herr != nil {
		status, eb = errorResponse(c, herr)
		stored := eb
		stored.Error.RequestID = "" // a replay is another request
		out = stored
	}
	b, _ := json.Marshal(jsonBody(out))
	// Release or complete the key even when the client has gone away: the
	// request's context may be cancelled by now, and a key left in progress
	// would answer every retry 409 until its lease runs out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
	defer cancel()
	if status >= 500 || status == http.StatusConflict || status == http.StatusTooManyRequests {
		if err := s.DB.AbortIdempotent(ctx, p.UserID, key); err != nil {
			logger(c).Error("release idempotency key", "err", err)
		}
	} else if err := s.DB.CompleteIdempotent(ctx, p.UserID, key, status, b); err != nil {
		logger(c).Error("store idempotent response", "err", err)
	}
	if herr != nil {
		c.AbortWithStatusJSON(status, eb)
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}
