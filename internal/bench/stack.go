package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	_ "github.com/jackc/pgx/v5/stdlib"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
	"github.com/huntdesk/huntdesk/internal/store"
)

// stack is the production shape on one machine: `huntdesk temporal` (the
// single-node Temporal server) on PostgreSQL, `huntdesk api` and `huntdesk
// worker`, each a process of its own; PostgreSQL (databases fresh for the
// run); and an SMTP sink that only counts.
type stack struct {
	cfg      Config
	dir      string
	dbName   string
	dbURL    string
	db       *store.DB
	temporal *procs.Proc
	tc       sdkclient.Client
	sink     *sink
	api      *procs.Proc
	worker   *procs.Proc
	apiURL   string
	pprof    map[string]string // process name → its /debug/pprof address
}

func startStack(ctx context.Context, cfg Config) (_ *stack, err error) {
	s := &stack{cfg: cfg}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "huntdesk-bench-"); err != nil {
		return nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s.dbName = "huntdesk_bench_" + hex.EncodeToString(b)
	if s.dbURL, err = procs.WithDatabase(cfg.DatabaseURL, s.dbName); err != nil {
		return nil, err
	}
	if err := adminExec(ctx, cfg.DatabaseURL, "CREATE DATABASE "+s.dbName); err != nil {
		return nil, fmt.Errorf("create database (is PostgreSQL up at %s?): %w", cfg.DatabaseURL, err)
	}
	if s.db, err = store.Open(s.dbURL); err != nil {
		return nil, err
	}
	if err := s.db.Migrate(ctx); err != nil {
		return nil, err
	}
	tdbURL, err := procs.WithDatabase(cfg.DatabaseURL, s.dbName+"_temporal")
	if err != nil {
		return nil, err
	}
	tPort, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	tAddr := "127.0.0.1:" + strconv.Itoa(tPort)
	if s.tc, err = sdkclient.NewLazyClient(sdkclient.Options{HostPort: tAddr, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}); err != nil {
		return nil, err
	}
	s.temporal = &procs.Proc{Name: "temporal", Bin: cfg.Bin, Args: []string{"temporal", "--temporal-database-url", tdbURL, "--listen", tAddr},
		Log: filepath.Join(s.dir, "temporal.log"), Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "HUNTDESK_LOG_LEVEL=warn"},
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := s.tc.CheckHealth(ctx, &sdkclient.CheckHealthRequest{})
			return err
		}}
	if err := s.temporal.Start(ctx); err != nil {
		return nil, err
	}
	if s.sink, err = startSink(); err != nil {
		return nil, err
	}
	httpPort, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	s.apiURL = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	s.pprof = map[string]string{}
	for _, name := range []string{"api", "worker"} {
		port, err := procs.FreePort()
		if err != nil {
			return nil, err
		}
		s.pprof[name] = "127.0.0.1:" + strconv.Itoa(port)
	}
	smtpHost, smtpPort, _ := net.SplitHostPort(s.sink.addr())
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "HUNTDESK_LOG_LEVEL=warn",
		"DATABASE_URL=" + s.dbURL, "TEMPORAL_ADDRESS=" + tAddr,
		"HUNTDESK_SMTP_HOST=" + smtpHost, "HUNTDESK_SMTP_PORT=" + smtpPort, "HUNTDESK_SMTP_TLS=none",
		"HUNTDESK_PUBLIC_URL=" + s.apiURL, "HUNTDESK_RATE_LIMIT=-1"}
	s.api = &procs.Proc{Name: "api", Bin: cfg.Bin, Args: []string{"api"}, Log: filepath.Join(s.dir, "api.log"),
		Env: append(env, "HUNTDESK_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(httpPort), "HUNTDESK_HTTP_MAX_CONNS=4096", "HUNTDESK_PPROF_ADDR="+s.pprof["api"]), Ready: procs.HTTPReady(s.apiURL + "/readyz")}
	s.worker = &procs.Proc{Name: "worker", Bin: cfg.Bin, Args: []string{"worker"}, Log: filepath.Join(s.dir, "worker.log"),
		Env: append(env, "HUNTDESK_WORKER_METRICS_ADDR=127.0.0.1:"+strconv.Itoa(metricsPort), "HUNTDESK_PPROF_ADDR="+s.pprof["worker"]), Ready: procs.HTTPReady("http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics")}
	if err := s.api.Start(ctx); err != nil {
		return nil, err
	}
	if err := s.worker.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *stack) close() {
	for _, p := range []*procs.Proc{s.worker, s.api} {
		if p != nil {
			p.Stop()
		}
	}
	if s.sink != nil {
		s.sink.close()
	}
	if s.tc != nil {
		s.tc.Close()
	}
	if s.temporal != nil {
		s.temporal.Stop()
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.dbName != "" && !s.cfg.Keep {
		for _, name := range []string{s.dbName, s.dbName + "_temporal", s.dbName + "_temporal_visibility"} {
			if err := adminExec(context.Background(), s.cfg.DatabaseURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				slog.Warn("drop a bench database", "name", name, "err", err)
			}
		}
	}
	if s.dir != "" && !s.cfg.Keep {
		os.RemoveAll(s.dir)
	}
}

// profile saves a profile of process name to path: "profile" (CPU, over
// d) or "goroutine" (where every goroutine waits, now, as text).
func (s *stack) profile(ctx context.Context, name, kind string, d time.Duration, path string) error {
	u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprof[name], int(d.Seconds()))
	if kind == "goroutine" {
		u = fmt.Sprintf("http://%s/debug/pprof/goroutine?debug=1", s.pprof[name])
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func adminExec(ctx context.Context, url, stmt string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// sink is an SMTP server that keeps, for each email, only when it arrived,
// by huntdesk's X-Huntdesk-Event header (entity/event/audience): enough to
// know that an acknowledgement went out, without disk or parsing costs of
// its own in the measurement.
type sink struct {
	srv *smtp.Server
	ln  net.Listener

	mu      sync.Mutex
	arrived map[string]time.Time
	changed chan struct{}
}

func startSink() (*sink, error) {
	s := &sink{arrived: map[string]time.Time{}, changed: make(chan struct{})}
	s.srv = smtp.NewServer(s)
	s.srv.Domain, s.srv.AllowInsecureAuth = "localhost", true
	s.srv.MaxMessageBytes, s.srv.MaxRecipients = 1<<20, 100
	var err error
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go s.srv.Serve(s.ln)
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }
func (s *sink) close()       { s.srv.Close() }

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct{ s *sink }

func (x *session) Mail(string, *smtp.MailOptions) error { return nil }
func (x *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *session) Reset()                               {}
func (x *session) Logout() error                        { return nil }
func (x *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, m.Body)
	ev := m.Header.Get("X-Huntdesk-Event")
	x.s.mu.Lock()
	if _, seen := x.s.arrived[ev]; !seen {
		x.s.arrived[ev] = time.Now()
	}
	close(x.s.changed)
	x.s.changed = make(chan struct{})
	x.s.mu.Unlock()
	return nil
}

// waitAll waits until an email for each event has arrived and returns when
// each did.
func (s *sink) waitAll(ctx context.Context, events []string) ([]time.Time, error) {
	out := make([]time.Time, len(events))
	for {
		s.mu.Lock()
		missing := 0
		for i, ev := range events {
			if t, ok := s.arrived[ev]; ok {
				out[i] = t
			} else {
				missing++
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if missing == 0 {
			return out, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d emails did not arrive: %w", missing, len(events), ctx.Err())
		}
	}
}

// count is how many emails whose event starts with prefix arrived.
func (s *sink) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ev := range s.arrived {
		if strings.HasPrefix(ev, prefix) {
			n++
		}
	}
	return n
}
