package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
)

// Durations the stack runs with: SLAs of seconds, so clocks run out while
// the suite does harm.
const (
	slaPeriod      = 30 * time.Second // inquiries' progress report, applications' review
	reconcileEvery = 3 * time.Second  // the worker's look for cases recorded without a workflow
	writeTimeout   = 20 * time.Second // the API's; handlers answer 503 at 90 % of it
)

// stack is the production shape on one machine: one `huntdesk temporal` on
// PostgreSQL, two `huntdesk api`, one `huntdesk worker`, the SMTP sink, and
// huntdesk's own PostgreSQL database, fresh for the run.
type stack struct {
	dir, bin string
	adminURL string // PostgreSQL's maintenance database: create and drop
	dbName   string
	dbURL    string // huntdesk's database
	tdbURL   string // Temporal's (…_temporal and …_temporal_visibility)

	sink     *sink
	temporal *procs.Proc
	apis     []*procs.Proc
	apiURLs  []string
	worker   *procs.Proc
	tAddr    string

	db *sql.DB       // the suite's own reads for the checks
	tc client.Client // the suite's own Temporal client for the checks
}

// newStack prepares databases, ports and processes; start runs them.
func newStack(ctx context.Context, dir, bin, adminURL string) (*stack, error) {
	s := &stack{dir: dir, bin: bin, adminURL: adminURL}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s.dbName = "huntdesk_faults_" + hex.EncodeToString(b)
	var err error
	if s.dbURL, err = procs.WithDatabase(adminURL, s.dbName); err != nil {
		return nil, err
	}
	if s.tdbURL, err = procs.WithDatabase(adminURL, s.dbName+"_temporal"); err != nil {
		return nil, err
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+s.dbName); err != nil {
		return nil, fmt.Errorf("create database %s (is PostgreSQL up?): %w", s.dbName, err)
	}
	if s.db, err = sql.Open("pgx", s.dbURL); err != nil {
		return nil, err
	}
	s.db.SetMaxOpenConns(4)

	if s.sink, err = startSink(); err != nil {
		return nil, err
	}
	ports := make([]int, 5)
	for i := range ports {
		if ports[i], err = procs.FreePort(); err != nil {
			return nil, err
		}
	}
	s.tAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	s.apiURLs = []string{"http://127.0.0.1:" + strconv.Itoa(ports[1]), "http://127.0.0.1:" + strconv.Itoa(ports[2])}
	smtpHost, smtpPort, _ := strings.Cut(s.sink.addr(), ":")
	common := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"HUNTDESK_LOG_FORMAT=json", "HUNTDESK_LOG_LEVEL=info",
		"DATABASE_URL=" + s.dbURL, "TEMPORAL_ADDRESS=" + s.tAddr, "TEMPORAL_NAMESPACE=default",
		"HUNTDESK_SMTP_HOST=" + smtpHost, "HUNTDESK_SMTP_PORT=" + smtpPort, "HUNTDESK_SMTP_TLS=none",
		"HUNTDESK_MAIL_FROM=huntdesk@huntdesk.example", "HUNTDESK_PUBLIC_URL=" + s.apiURLs[0],
	}

	s.tc, err = client.NewLazyClient(client.Options{HostPort: s.tAddr, Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, err
	}
	s.temporal = &procs.Proc{Name: "temporal", Bin: bin, Log: filepath.Join(dir, "temporal.log"),
		Args: []string{"temporal", "--temporal-database-url", s.tdbURL, "--listen", s.tAddr},
		Env:  common, Ready: s.temporalReady}
	for i, u := range s.apiURLs {
		s.apis = append(s.apis, &procs.Proc{Name: fmt.Sprintf("api-%d", i+1), Bin: bin, Log: filepath.Join(dir, fmt.Sprintf("api-%d.log", i+1)),
			Args: []string{"api"},
			Env: append(append([]string(nil), common...),
				"HUNTDESK_HTTP_ADDR="+strings.TrimPrefix(u, "http://"),
				"HUNTDESK_RATE_LIMIT=-1", "HUNTDESK_AUTH_FAILURE_RATE=-1",
				"HUNTDESK_PROGRESS_REPORT_SLA="+slaPeriod.String(), "HUNTDESK_REVIEW_SLA="+slaPeriod.String(),
				"HUNTDESK_CUSTOMER_REMINDERS=10m", "HUNTDESK_CUSTOMER_TIMEOUT=1h",
				"HUNTDESK_HTTP_WRITE_TIMEOUT="+writeTimeout.String()),
			Ready: procs.HTTPReady(u + "/readyz")})
	}
	metrics := "127.0.0.1:" + strconv.Itoa(ports[3])
	s.worker = &procs.Proc{Name: "worker", Bin: bin, Log: filepath.Join(dir, "worker.log"), Args: []string{"worker"},
		Env:   append(append([]string(nil), common...), "HUNTDESK_WORKER_METRICS_ADDR="+metrics, "HUNTDESK_RECONCILE_EVERY="+reconcileEvery.String()),
		Ready: procs.HTTPReady("http://" + metrics + "/metrics")}
	return s, nil
}

func (s *stack) temporalReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := s.tc.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// start runs everything: Temporal, the migration, the seed, the APIs and the
// worker. It returns the manager's token.
func (s *stack) start(ctx context.Context) (string, error) {
	if err := s.temporal.Start(ctx); err != nil {
		return "", err
	}
	if _, err := s.admin(ctx, "migrate"); err != nil {
		return "", err
	}
	if _, err := s.admin(ctx, "orgs", "create", "--name", "huntdesk", "--provider"); err != nil {
		return "", err
	}
	if _, err := s.admin(ctx, "users", "create", "--org", "huntdesk", "--email", managerEmail, "--name", "Morgan Manager", "--role", "manager"); err != nil {
		return "", err
	}
	token, err := s.admin(ctx, "tokens", "create", "--user", managerEmail, "--name", "faults")
	if err != nil {
		return "", err
	}
	for _, a := range s.apis {
		if err := a.Start(ctx); err != nil {
			return "", err
		}
	}
	if err := s.worker.Start(ctx); err != nil {
		return "", err
	}
	return strings.TrimSpace(token), nil
}

// admin runs one administrative command against the database and returns
// its standard output.
func (s *stack) admin(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + s.dbURL, "HUNTDESK_LOG_FORMAT=text", "HUNTDESK_LOG_LEVEL=warn"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("huntdesk %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// close stops every process and drops the run's databases.
func (s *stack) close() {
	for _, p := range append([]*procs.Proc{s.worker}, s.apis...) {
		if p != nil {
			p.Stop()
		}
	}
	if s.temporal != nil {
		s.temporal.Stop()
	}
	if s.sink != nil {
		s.sink.close()
	}
	if s.tc != nil {
		s.tc.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	admin, err := sql.Open("pgx", s.adminURL)
	if err != nil {
		return
	}
	defer admin.Close()
	for _, name := range []string{s.dbName, s.dbName + "_temporal", s.dbName + "_temporal_visibility"} {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			slog.Warn("drop database", "name", name, "err", err)
		}
	}
}

const managerEmail = "manager@huntdesk.example"
