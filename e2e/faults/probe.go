package faults

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
)

// readySample is one /readyz answer.
type readySample struct {
	At     time.Time
	API    int
	Status int // 0: no answer
	Body   map[string]string
}

// watchers poll every API's /readyz and every process's memory for the
// whole run.
type watchers struct {
	mu    sync.Mutex
	ready []readySample
	rss   map[string]int64 // max resident memory by process name
	rssIn []rssSample
}

type rssSample struct {
	At   time.Time
	Proc string
	RSS  int64
}

func watch(ctx context.Context, s *stack) *watchers {
	w := &watchers{rss: map[string]int64{}}
	c := &http.Client{Timeout: 3 * time.Second}
	for i, u := range s.apiURLs {
		go func() {
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				rs := readySample{At: time.Now(), API: i}
				if resp, err := c.Get(u + "/readyz"); err == nil {
					rs.Status = resp.StatusCode
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					_ = json.Unmarshal(b, &rs.Body)
				}
				w.mu.Lock()
				w.ready = append(w.ready, rs)
				w.mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			for _, p := range append([]*procs.Proc{s.temporal, s.worker}, s.apis...) {
				if pid := p.PID(); pid != 0 {
					if rss, err := procs.RSS(pid); err == nil {
						w.mu.Lock()
						w.rss[p.Name] = max(w.rss[p.Name], rss)
						w.rssIn = append(w.rssIn, rssSample{At: time.Now(), Proc: p.Name, RSS: rss})
						w.mu.Unlock()
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// readyIn returns the /readyz samples of api between from and to.
func (w *watchers) readyIn(api int, from, to time.Time) []readySample {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []readySample
	for _, r := range w.ready {
		if r.API == api && !r.At.Before(from) && !r.At.After(to) {
			out = append(out, r)
		}
	}
	return out
}

// maxRSS is the largest resident memory of proc between from and to.
func (w *watchers) maxRSS(proc string, from, to time.Time) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var m int64
	for _, r := range w.rssIn {
		if r.Proc == proc && !r.At.Before(from) && !r.At.After(to) {
			m = max(m, r.RSS)
		}
	}
	return m
}
