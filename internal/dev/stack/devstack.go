// Package devstack runs all of huntdesk in one process for development and
// end-to-end tests: an in-process Temporal server on a SQLite file, GORM on
// another SQLite file, the worker, the API, and an SMTP sink whose mail is
// readable at /dev/mail. Everything lives under one data dir and survives a
// restart.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	devmail "github.com/huntdesk/huntdesk/internal/dev/mail"
	devtemporal "github.com/huntdesk/huntdesk/internal/dev/temporal"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/metrics"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/web"
	"github.com/huntdesk/huntdesk/worker"
	"github.com/huntdesk/huntdesk/workflows"
)

// DefaultHTTPAddr is where the dev stack's API listens unless told
// otherwise: loopback only, since the stack serves /dev/mail (every email it
// sent, magic links included) without a token and seeds well-known demo
// users. Listening on all interfaces is a deliberate HUNTDESK_HTTP_ADDR=:8080.
const DefaultHTTPAddr = "127.0.0.1:8080"

// Config is the dev stack's configuration; `huntdesk dev` fills it from flags
// and HUNTDESK_* variables.
type Config struct {
	DataDir      string // default ./.huntdesk
	DatabaseURL  string // huntdesk's database; default: a SQLite file in DataDir
	HTTPAddr     string // API; default DefaultHTTPAddr (loopback)
	SMTPAddr     string // SMTP sink; default 127.0.0.1:2525
	TemporalAddr string // Temporal frontend gRPC; default 127.0.0.1:7233
	UIAddr       string // Temporal Web UI; "" disables it
	Namespace    string // default "default"
	PublicURL    string // base of links in emails; default http://<HTTPAddr>
	MailFrom     string // default huntdesk@huntdesk.example
	ReviewSLA    time.Duration
	Inquiries    cases.Inquiries // Process B's durations (DB and Temporal are filled in)
	API          api.Config
	Logger       *slog.Logger
	// ReconcileEvery is how often the worker starts recorded workflow starts
	// nobody finished (0: worker.ReconcileEvery; negative: never, for tests
	// that drive worker.ReconcileOnce themselves).
	ReconcileEvery time.Duration
}

// Stack is a running dev stack.
type Stack struct {
	cfg      Config
	DB       *store.DB
	Temporal *devtemporal.Server
	Client   sdkclient.Client
	Mail     *devmail.Sink
	Tokens   map[string]string // demo user email → bearer token
	URL      string            // the API's base URL

	worker  sdkworker.Worker
	http    *http.Server
	closers []func()
}

// Start starts everything and seeds the demo data. Close stops it.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg.defaults()
	s := &Stack{cfg: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	log := cfg.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}

	if s.DB, err = store.Open(cfg.DatabaseURL); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.DB.Close() })
	if err = s.DB.Migrate(ctx); err != nil {
		return nil, err
	}
	if s.Tokens, err = Seed(ctx, s.DB, filepath.Join(cfg.DataDir, "demo-tokens.json")); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}

	if s.Mail, err = devmail.Start(cfg.SMTPAddr, filepath.Join(cfg.DataDir, "mail"), log); err != nil {
		return nil, fmt.Errorf("start SMTP sink: %w", err)
	}
	s.closers = append(s.closers, func() { s.Mail.Close() })

	if s.Temporal, err = devtemporal.Start(devtemporal.Options{
		DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"),
		FrontendAddr: cfg.TemporalAddr,
		UIAddr:       cfg.UIAddr,
		Namespace:    cfg.Namespace,
		// Registered with the namespace, before any workflow runs; a data
		// directory from before them gets them from RegisterSearchAttributes.
		SearchAttributes: workflows.SearchAttributeTypes(),
		Logger:           log,
		LogLevel:         slog.LevelWarn,
	}); err != nil {
		return nil, fmt.Errorf("start Temporal server: %w", err)
	}
	s.closers = append(s.closers, s.Temporal.Stop)

	met := metrics.New(s.DB) // one process: API, worker and SDK share one registry
	if s.Client, err = sdkclient.DialContext(ctx, sdkclient.Options{
		HostPort:       s.Temporal.FrontendAddr(),
		Namespace:      cfg.Namespace,
		MetricsHandler: met.SDK,
		Logger:         sdklog.NewStructuredLogger(log.With("component", "temporal-client")),
	}); err != nil {
		return nil, fmt.Errorf("dial Temporal: %w", err)
	}
	s.closers = append(s.closers, s.Client.Close)
	if err := RegisterSearchAttributes(ctx, s.Client, s.Temporal.Namespace()); err != nil {
		return nil, fmt.Errorf("register search attributes: %w", err)
	}

	host, port, _ := net.SplitHostPort(s.Mail.Addr())
	p, _ := strconv.Atoi(port)
	mailer, err := mail.New(mail.Config{Host: host, Port: p, TLSPolicy: "none", From: cfg.MailFrom, Timeout: 10 * time.Second}, s.DB.Outbox(),
		mail.WithObserver(met.Emails.Observe))
	if err != nil {
		return nil, err
	}

	ln, err := api.Listen(cfg.HTTPAddr, cfg.API.MaxConns)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	s.URL = "http://" + hostPort(ln.Addr())
	if cfg.PublicURL == "" {
		cfg.PublicURL = s.URL
	}

	s.worker = worker.New(s.Client, &activities.Activities{DB: s.DB, Mail: mailer, PublicURL: cfg.PublicURL})
	if err = s.worker.Start(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	s.closers = append(s.closers, s.worker.Stop)
	hkCtx, stopHK := context.WithCancel(context.Background())
	go worker.Housekeeping(hkCtx, s.DB, time.Hour)
	if cfg.ReconcileEvery >= 0 {
		every := cfg.ReconcileEvery
		if every == 0 {
			every = worker.ReconcileEvery
		}
		go worker.Reconcile(hkCtx, s.DB, s.Client, every)
	}
	s.closers = append(s.closers, stopHK)

	alerts := &cases.Alerts{DB: s.DB, Temporal: s.Client}
	inq := cfg.Inquiries
	inq.DB, inq.Temporal, inq.SearchAttributes = s.DB, s.Client, true
	apps := &cases.Applications{DB: s.DB, Temporal: s.Client, ReviewSLA: cfg.ReviewSLA, SearchAttributes: true}
	console, err := web.New(web.Deps{DB: s.DB, Apps: apps, Inq: &inq, Alerts: alerts, SLA: &cases.SLA{DB: s.DB}, Mail: mailer, PublicURL: cfg.PublicURL, SampleMaxBytes: cfg.API.SampleMaxBytes, Logger: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := api.New(cfg.API, api.Deps{
		DB:       s.DB,
		Temporal: s.Client,
		Apps:     apps,
		Inq:      &inq,
		Console:  console,
		Registry: met.Registry,
		SLA:      &cases.SLA{DB: s.DB},
		Alerts:   alerts,
		Conn:     alerts,
		Logger:   log,
		Extra:    s.Mail.Register,
	})
	s.http = srv.HTTPServer()
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.http.Shutdown(ctx)
	})
	return s, nil
}

// Close stops everything in reverse order of starting.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = ".huntdesk"
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "huntdesk.db")
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.SMTPAddr == "" {
		c.SMTPAddr = "127.0.0.1:2525"
	}
	if c.TemporalAddr == "" {
		c.TemporalAddr = "127.0.0.1:7233"
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.MailFrom == "" {
		c.MailFrom = "huntdesk@huntdesk.example"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// hostPort renders a listener address a client can dial ("[::]:8080" →
// "127.0.0.1:8080").
func hostPort(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// RegisterSearchAttributes adds the case workflows' search attributes to the
// namespace; the ones already there are kept (a restart registers nothing).
func RegisterSearchAttributes(ctx context.Context, c sdkclient.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return err
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range workflows.SearchAttributeTypes() {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	return err
}
