// Package faults is the fault suite (issue 16): the production shape as real
// processes — one `huntdesk temporal` on PostgreSQL, two `huntdesk api`, one
// `huntdesk worker`, an SMTP relay the suite controls, huntdesk's database
// on PostgreSQL — driven by concurrent clients that retry as real clients
// do, while the suite kills, restarts, refuses and hangs things under them.
// Then it checks every promise and prints a summary table.
//
// It runs only with HUNTDESK_FAULTS=1 (make test-faults): it builds the
// binary, needs a local PostgreSQL it may restart (pg_ctlcluster), and takes
// a few minutes. It links nothing but the API's client side: every part of
// the stack is a subprocess.
package faults

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
)

func TestFaults(t *testing.T) {
	if os.Getenv("HUNTDESK_FAULTS") != "1" {
		t.Skip("the fault suite runs the stack as processes and restarts PostgreSQL: run it with HUNTDESK_FAULTS=1 (make test-faults)")
	}
	began := time.Now()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "huntdesk-faults-")
	if err != nil {
		t.Fatal(err)
	}
	keep := false
	defer func() {
		if keep || t.Failed() {
			t.Logf("logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	bin := os.Getenv("HUNTDESK_FAULTS_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "huntdesk")
		out, err := exec.Command("go", "build", "-o", bin, "../../cmd/huntdesk").CombinedOutput()
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	adminURL := os.Getenv("HUNTDESK_FAULTS_PG")
	if adminURL == "" {
		adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	span := spanDefault
	if v := os.Getenv("HUNTDESK_FAULTS_SPAN"); v != "" {
		if span, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}

	s, err := newStack(ctx, dir, bin, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	manager, err := s.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("stack up", "took", time.Since(began).Round(time.Second), "dir", dir)

	b := make([]byte, 3)
	_, _ = rand.Read(b)
	a := newAPI(s.apiURLs)
	w, err := setup(ctx, a, manager, "faults-"+hex.EncodeToString(b))
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch := watch(wctx, s)

	// The faults, one after another, while the load runs over span.
	steps := []step{
		{at: span * 5 / 100, name: "worker kill 1", do: func(ctx context.Context, s *stack) *fault { return killWorker(ctx, s, 1) }},
		{at: span * 12 / 100, name: "SMTP outage", do: func(ctx context.Context, s *stack) *fault { return smtpOutage(ctx, s, span*13/100) }},
		{at: span * 40 / 100, name: "API kill", do: killAPI},
		{at: span * 47 / 100, name: "PostgreSQL restart", do: restartPostgres},
		{at: span * 55 / 100, name: "Temporal kill", do: func(ctx context.Context, s *stack) *fault { return killTemporal(ctx, s, 20*time.Second) }},
		{at: span * 75 / 100, name: "worker kill 2", do: func(ctx context.Context, s *stack) *fault { return killWorker(ctx, s, 2) }},
		{at: span * 82 / 100, name: "slow connections", do: func(ctx context.Context, s *stack) *fault { return slowConns(ctx, s, 3000, span*15/100) }},
	}
	if os.Getenv("HUNTDESK_FAULTS_NONE") == "1" {
		steps = nil // the load alone: a baseline
	}
	faultsDone := make(chan []*fault, 1)
	loadStart := time.Now()
	go func() { faultsDone <- schedule(ctx, s, loadStart, steps) }()
	w.drive(ctx, span)
	loadEnd := time.Now()
	faults := <-faultsDone
	slog.Info("load done", "took", loadEnd.Sub(loadStart).Round(time.Second), "attempts", len(a.log()))

	// Let the stack settle: every workflow where its case says, every email
	// out, every clock due by now fired.
	var r *results
	deadline := time.Now().Add(settleBound)
	for {
		r, err = check(ctx, s, w.led)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.problems) == 0 && slaComplete(r, w.led) || time.Now().After(deadline) {
			break
		}
		slog.Info("settling", "problems", len(r.problems), "first", first(r.problems))
		sleep(ctx, 3*time.Second)
	}
	settled := time.Now()
	stopWatch()

	rows := verdicts(faults, a.log(), watch, r, w.led, settled)
	table := markdown(rows)
	fmt.Printf("\nFault suite: %d cases, %d requests (%d attempts), load %s, settled %s later, whole run %s\n\n%s\n",
		len(w.led.creates), sum(w.led.ops), len(a.log()), loadEnd.Sub(loadStart).Round(time.Second), settled.Sub(loadEnd).Round(time.Second),
		time.Since(began).Round(time.Second), table)
	if out := os.Getenv("HUNTDESK_FAULTS_SUMMARY"); out != "" {
		_ = os.WriteFile(out, []byte(table), 0o644)
	}
	for _, f := range w.led.failures {
		t.Errorf("load: %s", f)
	}
	for _, v := range rows {
		for _, p := range v.Problems {
			name := v.Name
			if v.Fault != nil {
				name = v.Fault.Name
			}
			t.Errorf("%s: %s", name, p)
		}
	}
	if t.Failed() {
		for _, p := range append([]*procs.Proc{s.temporal, s.worker}, s.apis...) {
			t.Logf("--- %s (last lines of %s)\n%s", p.Name, p.Log, procs.Tail(p.Log, 15))
		}
	}
}

// slaComplete reports whether every untouched case's last clock event
// (breach, or escalation) has fired.
func slaComplete(r *results, led *ledger) bool {
	led.mu.Lock()
	alone := 0
	for _, c := range led.creates {
		if c.LeftAlone {
			alone++
		}
	}
	led.mu.Unlock()
	last := 0
	for _, e := range r.sla {
		if e.What == "breach" || e.What == "escalation" {
			last++
		}
	}
	return last >= alone
}

// verdicts judges every fault and every promise.
func verdicts(faults []*fault, att []attempt, w *watchers, r *results, led *ledger, settled time.Time) []*verdict {
	var rows []*verdict
	for _, f := range faults {
		red := strings.HasPrefix(f.Name, "PostgreSQL") || strings.HasPrefix(f.Name, "Temporal")
		v := judge(f, att, w, red)
		clocksIn(v, r)
		switch {
		case strings.HasPrefix(f.Name, "API 1"):
			v.Checked += "; the cases it recorded without a workflow were started by the reconciler"
			started := 0
			for _, id := range f.pending {
				for _, c := range r.cases {
					if c.WorkflowID == id && c.Started {
						started++
					}
				}
			}
			inflight := 0
			for _, x := range att {
				if x.API == 0 && x.Status == 0 && x.Start.Before(f.Start) && !x.Start.Add(x.Dur).Before(f.Start) {
					inflight++
				}
			}
			v.count("%d requests in flight on API 1 at the kill, retried on API 2", inflight)
			v.count("%d of %d started", started, len(f.pending))
			if inflight == 0 {
				v.fail("no request was in flight on API 1 at the kill")
			}
			if len(f.pending) == 0 {
				v.fail("no case was caught between its row and its workflow start")
			} else if started != len(f.pending) {
				v.fail("%d of %d cases recorded at the kill have no started workflow", len(f.pending)-started, len(f.pending))
			}
		}
		rows = append(rows, v)
	}

	load := &verdict{Name: "load", Checked: "every create answered 2xx has its case, exactly once; no other case exists; every logical request eventually succeeded"}
	for _, k := range []string{"application", "inquiry", "alert"} {
		load.count("%s: %d rows / %d answered 2xx", table(k), r.counts[k+" rows"], r.counts[k+" 2xx"])
		if r.counts[k+" 2xx"] < 300 {
			load.fail("only %d %s", r.counts[k+" 2xx"], table(k))
		}
	}
	load.count("%d logical requests", sum(led.ops))
	load.count("%d failed", len(led.failures))
	wf := &verdict{Name: "workflows", Checked: "each case has one recorded start, made; open cases' workflows running, closed cases' (and alerts') completed; none stuck"}
	for _, k := range []string{"application", "inquiry", "alert"} {
		wf.count("%s: %d running, %d completed", k, r.counts[k+" workflows running"], r.counts[k+" workflows completed"])
	}
	wf.count("%d starts pending", r.counts["pending starts"])
	wf.count("%d ingested alerts no rule matched (no workflow, by design)", r.counts["alerts nobody to notify"])
	em := &verdict{Name: "emails", Checked: "every email the cases' states require was recorded; every recorded email was sent and arrived exactly once by Message-ID; nothing else arrived"}
	em.count("%d required by the cases, %d recorded, %d arrived once", r.emails.MustHave, r.emails.Expected, r.emails.Arrived)
	em.count("%d duplicates, %d missing, %d unexpected, %d unsent", r.emails.Duplicates, r.emails.Missing, r.emails.Unexpected, r.emails.Unsent)
	// SMTP is at-least-once: a worker killed after the relay took a message
	// and before the outbox recorded it (a few milliseconds) sends it again
	// when the activity is retried; receivers drop it by its Message-ID.
	// Only that is tolerated.
	explained := 0
	for _, d := range r.dups {
		if killedMidSend(d, faults) {
			explained++
			continue
		}
		var at []string
		for _, t := range d.At {
			at = append(at, t.Format("15:04:05.000"))
		}
		em.fail("email %s (%s) arrived %d times, at %s", d.ID, d.Event, len(d.At), strings.Join(at, ", "))
	}
	if explained > 0 {
		em.count("%d sent again because the worker was killed between the relay's answer and the outbox record (same Message-ID)", explained)
	}
	for _, p := range r.problems {
		switch {
		case strings.HasPrefix(p, "email"), strings.Contains(p, "emails differ"):
			em.fail("%s", p)
		case strings.Contains(p, "workflow"):
			wf.fail("%s", p)
		default:
			load.fail("%s", p)
		}
	}
	mem := &verdict{Name: "memory", Checked: "each API's resident memory stayed under " + mib(rssBound) + " for the whole run (sampled every 0.5 s)"}
	w.mu.Lock()
	for _, p := range []string{"api-1", "api-2", "worker", "temporal"} {
		mem.count("%s max %s", p, mib(w.rss[p]))
		if strings.HasPrefix(p, "api") && w.rss[p] > rssBound {
			mem.fail("%s reached %s", p, mib(w.rss[p]))
		}
	}
	w.mu.Unlock()
	rows = append(rows, load, wf, em, judgeSLA(r, led, faults), mem)
	return rows
}

// killedMidSend reports whether d's first copy arrived just before a
// worker was SIGKILLed.
func killedMidSend(d dup, faults []*fault) bool {
	for _, f := range faults {
		if strings.HasPrefix(f.Name, "worker") && d.At[0].Before(f.Start.Add(100*time.Millisecond)) && f.Start.Sub(d.At[0]) < time.Second {
			return true
		}
	}
	return false
}

func first(p []string) string {
	if len(p) == 0 {
		return ""
	}
	return p[0]
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
