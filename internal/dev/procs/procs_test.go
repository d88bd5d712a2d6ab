package procs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
)

// A process starts once it is ready, is measured, answers signals, and its
// output lands in its log across a kill and a restart.
func TestProcLifecycle(t *testing.T) {
	log := filepath.Join(t.TempDir(), "p.log")
	// Ready when this start's "up" is in the log, and not before the third
	// poll of the first start: Start must keep polling until it answers nil.
	ready, starts := 0, 0
	p := &procs.Proc{Name: "sleeper", Bin: "/bin/sh", Args: []string{"-c", "echo up; exec sleep 30"}, Log: log,
		Ready: func(context.Context) error {
			ready++
			b, _ := os.ReadFile(log)
			if strings.Count(string(b), "up\n") < starts || ready < 3 {
				return errors.New("not yet")
			}
			return nil
		}}
	starts = 1
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ready < 3 {
		t.Fatalf("ready polled %d times, want until it answered nil (3 at least)", ready)
	}
	if rss, err := procs.RSS(p.PID()); err != nil || rss <= 0 {
		t.Fatalf("RSS of a running process: %d %v", rss, err)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("kill a stopped process: %v", err)
	}
	starts = 2
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if got := procs.Tail(log, 10); strings.Count(got, "up") != 2 || !strings.Contains(got, "start 2 of sleeper") {
		t.Fatalf("the log across two starts:\n%s", got)
	}
}

func TestWithDatabase(t *testing.T) {
	got, err := procs.WithDatabase("postgres://postgres@127.0.0.1:5432/postgres?search_path=x", "run_1")
	if err != nil || got != "postgres://postgres@127.0.0.1:5432/run_1?sslmode=disable" {
		t.Fatalf("%s %v", got, err)
	}
}
