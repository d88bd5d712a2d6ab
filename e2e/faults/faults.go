package faults

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
)

// fault is one harm the suite did, with its window: from the harm to the
// moment everything answered again.
type fault struct {
	Name      string
	Start     time.Time
	End       time.Time // the harm undone (process back, relay back, …)
	Recovered time.Time // every API ready again
	APIs      []int     // the APIs whose answers this fault is judged on
	Notes     []string
	Err       error
	// pending lists the workflow starts recorded but not made when an API
	// was killed: the reconciler must make them.
	pending []string
}

func (f *fault) note(format string, args ...any) {
	f.Notes = append(f.Notes, fmt.Sprintf(format, args...))
}

// waitReady waits until every API answers /readyz 200 (bounded).
func waitReady(ctx context.Context, s *stack) time.Time {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ok := true
		for _, u := range s.apiURLs {
			if procs.HTTPReady(u+"/readyz")(ctx) != nil {
				ok = false
			}
		}
		if ok {
			return time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Time{}
}

// smtpOutage makes the relay refuse every connection, then hang on every
// connection, then come back.
func smtpOutage(ctx context.Context, s *stack, each time.Duration) *fault {
	f := &fault{Name: "SMTP refuses, then hangs, then comes back", Start: time.Now(), APIs: []int{0, 1}}
	s.sink.setMode(sinkRefuse)
	sleep(ctx, each)
	s.sink.setMode(sinkHang)
	sleep(ctx, each)
	_, hung, _ := s.sink.stats()
	s.sink.setMode(sinkAccept)
	f.End = time.Now()
	f.Recovered = f.End
	refused, _, _ := s.sink.stats()
	f.note("%d connections refused (421), %d hung", refused, hung)
	return f
}

// killWorker SIGKILLs the worker and starts it again.
func killWorker(ctx context.Context, s *stack, n int) *fault {
	f := &fault{Name: fmt.Sprintf("worker SIGKILLed (%d of 2)", n), Start: time.Now(), APIs: []int{0, 1}}
	if f.Err = s.worker.Kill(); f.Err != nil {
		return f
	}
	sleep(ctx, 2*time.Second)
	f.Err = s.worker.Start(ctx)
	f.End = time.Now()
	f.Recovered = f.End
	return f
}

// killAPI freezes Temporal (SIGSTOP) so creates stall between their row and
// their workflow start, SIGKILLs API 1 with those requests in flight, thaws
// Temporal and starts API 1 again.
func killAPI(ctx context.Context, s *stack) *fault {
	f := &fault{Name: "API 1 SIGKILLed with requests in flight (Temporal frozen by SIGSTOP first, so creates wait between their row and their workflow start)",
		Start: time.Now(), APIs: []int{1}}
	if f.Err = s.temporal.Signal(syscall.SIGSTOP); f.Err != nil {
		return f
	}
	// Creates recorded their row and start and wait on the frozen server.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ids, _ := pendingStarts(ctx, s); len(ids) >= 4 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.Start = time.Now()
	killErr := s.apis[0].Kill()
	f.pending, _ = pendingStarts(ctx, s)
	if err := s.temporal.Signal(syscall.SIGCONT); err != nil {
		f.Err = err
		return f
	}
	if killErr != nil {
		f.Err = killErr
		return f
	}
	f.note("%d cases recorded without their workflow at the kill", len(f.pending))
	sleep(ctx, time.Second)
	f.Err = s.apis[0].Start(ctx)
	f.End = time.Now()
	f.Recovered = waitReady(ctx, s)
	return f
}

func pendingStarts(ctx context.Context, s *stack) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT workflow_id FROM workflow_starts WHERE started_at IS NULL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// restartPostgres restarts the local PostgreSQL cluster (pg_ctlcluster),
// under the whole stack: huntdesk's database and Temporal's.
func restartPostgres(ctx context.Context, s *stack) *fault {
	f := &fault{Name: "PostgreSQL restarted", Start: time.Now(), APIs: []int{0, 1}}
	cmd := os.Getenv("HUNTDESK_FAULTS_PG_RESTART")
	if cmd == "" {
		ver, err := os.ReadDir("/etc/postgresql")
		if err != nil || len(ver) == 0 {
			f.Err = fmt.Errorf("no /etc/postgresql: set HUNTDESK_FAULTS_PG_RESTART to the restart command")
			return f
		}
		cmd = "pg_ctlcluster --skip-systemctl-redirect " + ver[0].Name() + " main restart"
	}
	out, err := exec.CommandContext(ctx, "sh", "-c", cmd).CombinedOutput()
	if err != nil {
		f.Err = fmt.Errorf("%s: %w: %s", cmd, err, out)
		return f
	}
	f.End = time.Now()
	f.note("`%s` took %s", cmd, f.End.Sub(f.Start).Round(100*time.Millisecond))
	f.Recovered = waitReady(ctx, s)
	return f
}

// killTemporal SIGKILLs the Temporal server and starts it again after down:
// longer than the API's patience, so updates answer 503 and creates 202.
func killTemporal(ctx context.Context, s *stack, down time.Duration) *fault {
	f := &fault{Name: fmt.Sprintf("Temporal server SIGKILLed, down %s", down), Start: time.Now(), APIs: []int{0, 1}}
	if f.Err = s.temporal.Kill(); f.Err != nil {
		return f
	}
	sleep(ctx, down)
	f.Err = s.temporal.Start(ctx)
	f.End = time.Now()
	f.Recovered = waitReady(ctx, s)
	return f
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// schedule runs the faults in order at their times after t0; it returns
// when the last is over.
func schedule(ctx context.Context, s *stack, t0 time.Time, steps []step) []*fault {
	var out []*fault
	for _, st := range steps {
		sleep(ctx, time.Until(t0.Add(st.at)))
		if ctx.Err() != nil {
			break
		}
		slog.Info("fault", "name", st.name)
		f := st.do(ctx, s)
		if f.Err != nil {
			slog.Error("fault failed", "name", f.Name, "err", f.Err)
		}
		slog.Info("fault over", "name", f.Name, "took", f.End.Sub(f.Start).Round(time.Millisecond), "notes", strings.Join(f.Notes, "; "))
		out = append(out, f)
	}
	return out
}

type step struct {
	at   time.Duration
	name string
	do   func(ctx context.Context, s *stack) *fault
}
