// Package bench is huntdesk's load generator (`huntdesk bench`, `make
// bench`). It runs the production shape on one machine — `huntdesk
// temporal`, `huntdesk api` and `huntdesk worker` as processes, PostgreSQL,
// an SMTP sink — and measures it beside its physical ceiling in the same run: the
// bare Temporal client starting empty workflows on the same server, and the
// same SQL through pgx on the same data. Results go to a table on stdout and
// to JSON, Markdown and a PNG plot.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

// Config is one run.
type Config struct {
	Bin          string          // the huntdesk binary that runs `api` and `worker`
	DatabaseURL  string          // a PostgreSQL URL whose user may create databases
	OutDir       string          // where results go (bench/results)
	Concurrency  []int           // submit levels: 1, 8, 32, 128
	SubmitN      int             // inquiries per submit level
	Lifecycles   int             // full inquiry lifecycles
	Applications int             // applications submitted and approved
	OpenTarget   int             // open inquiry workflows for the footprint (10,000)
	Rows         int             // inquiries and alerts each, for reads at scale (1,000,000)
	Orgs         int             // orgs the rows spread over (1,000)
	Repeat       int             // samples per read query
	Keep         bool            // keep the database and temp dir
	Phases       map[string]bool // submit, lifecycle, footprint, reads, start; nil: all
	Logger       *slog.Logger
}

func (c *Config) defaults() {
	if len(c.Concurrency) == 0 {
		c.Concurrency = []int{1, 8, 32, 128}
	}
	if c.SubmitN == 0 {
		c.SubmitN = 400
	}
	if c.Lifecycles == 0 {
		c.Lifecycles = 200
	}
	if c.Applications == 0 {
		c.Applications = 100
	}
	if c.OpenTarget == 0 {
		c.OpenTarget = 10_000
	}
	if c.Rows == 0 {
		c.Rows = 1_000_000
	}
	if c.Orgs == 0 {
		c.Orgs = 1000
	}
	if c.Repeat == 0 {
		c.Repeat = 200
	}
	if c.OutDir == "" {
		c.OutDir = "bench/results"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Results is everything one run measured.
type Results struct {
	Date      time.Time    `json:"date"`
	Machine   string       `json:"machine"`
	Submit    []SubmitRow  `json:"submit"`
	Lifecycle []Throughput `json:"lifecycle"`
	Reads     []ReadRow    `json:"reads"`
	Footprint Footprint    `json:"footprint"`
	Load      LoadStats    `json:"load"`
}

// Latency is a distribution's p50 and p99, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

func latencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	at := func(p int) float64 {
		rank := max(1, (p*len(ds)+99)/100) // nearest rank
		return float64(ds[rank-1].Microseconds()) / 1000
	}
	return Latency{P50: at(50), P99: at(99)}
}

// Run measures, writes the results and returns them.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg.defaults()
	log := cfg.Logger
	host, _ := os.Hostname()
	res := &Results{Date: time.Now().UTC(), Machine: fmt.Sprintf("%s, %d cores, %s/%s, %s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}
	log.Info("starting the stack")
	st, err := startStack(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.close()
	people, err := seed(ctx, st, cfg)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	cl := &client{base: st.apiURL, http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}

	on := func(phase string) bool { return cfg.Phases == nil || cfg.Phases[phase] }
	if on("submit") {
		log.Info("submit: inquiries end to end, beside bare ExecuteWorkflow")
		if res.Submit, err = measureSubmit(ctx, st, cl, people, cfg); err != nil {
			return nil, fmt.Errorf("submit: %w", err)
		}
	}
	if on("lifecycle") {
		log.Info("lifecycles")
		if res.Lifecycle, err = measureLifecycles(ctx, st, cl, people, cfg); err != nil {
			return nil, fmt.Errorf("lifecycle: %w", err)
		}
	}
	if on("footprint") {
		log.Info("footprint at open workflows", "target", cfg.OpenTarget)
		if res.Footprint, err = measureFootprint(ctx, st, cl, people, cfg); err != nil {
			return nil, fmt.Errorf("footprint: %w", err)
		}
	}
	if on("reads") {
		log.Info("reads at scale: loading", "rows", cfg.Rows, "orgs", cfg.Orgs)
		if res.Load, err = load(ctx, st, cfg); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		log.Info("reads at scale: measuring")
		if res.Reads, err = measureReads(ctx, st, cl, people, cfg); err != nil {
			return nil, fmt.Errorf("reads: %w", err)
		}
	}
	st.close() // the start-time measurement runs its own `huntdesk dev`
	if on("start") {
		log.Info("start times")
		if err := measureStart(ctx, cfg, &res.Footprint); err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
	}
	return res, write(cfg.OutDir, res)
}

// client calls the API as a load generator: one shared keep-alive pool.
type client struct {
	base string
	http *http.Client
}

// call sends one request and decodes a 2xx answer into out.
func (c *client) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// people are the seeded callers: one admin per customer org, an expert and
// a manager.
type people struct {
	admins   []string // tokens, one per customer org
	orgIDs   []string
	expert   string
	manager  string
	expertID string
	manP     models.Principal
	expP     models.Principal
	custP    []models.Principal
}

// parallel runs n jobs on c goroutines and returns each job's duration.
func parallel(ctx context.Context, n, c int, job func(ctx context.Context, i int) error) ([]time.Duration, time.Duration, error) {
	ds := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for range c {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				if err := job(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
				ds[i] = time.Since(t0)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return ds, time.Since(start), first
}
