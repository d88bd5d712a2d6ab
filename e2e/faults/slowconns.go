package faults

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// slowConns holds n connections open against API 2 for d: half idle (they
// never send a byte), half slow (a header line every second, never the
// end). The API closes them at its read-header timeout; each is opened
// again at once, so about n stay open the whole time.
func slowConns(ctx context.Context, s *stack, n int, d time.Duration) *fault {
	f := &fault{Name: "connections held open against API 2", Start: time.Now(), APIs: []int{1}}
	addr := strings.TrimPrefix(s.apiURLs[1], "http://")
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var open, peak, dials, dialErrs, closedByServer atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slow := i%2 == 1
			var dialer net.Dialer
			for ctx.Err() == nil {
				c, err := dialer.DialContext(ctx, "tcp", addr)
				dials.Add(1)
				if err != nil {
					dialErrs.Add(1)
					sleep(ctx, 200*time.Millisecond)
					continue
				}
				cur := open.Add(1)
				for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
				}
				if hold(ctx, c, slow) {
					closedByServer.Add(1)
				}
				c.Close()
				open.Add(-1)
			}
		}()
	}
	// Let them all connect, then note how many are open.
	sleep(ctx, 3*time.Second)
	openAt3s := open.Load()
	<-ctx.Done()
	wg.Wait()
	f.End = time.Now()
	f.Recovered = f.End
	f.note("%d connections (%d idle, %d slow), %d open 3 s in, peak %d; %d dials, %d failed; %d closed by the API's read-header timeout and opened again",
		n, n-n/2, n/2, openAt3s, peak.Load(), dials.Load(), dialErrs.Load(), closedByServer.Load())
	return f
}

// hold keeps c open until ctx ends (false) or the server closes it (true).
func hold(ctx context.Context, c net.Conn, slow bool) bool {
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server closes (or we do)
		close(closed)
	}()
	if slow {
		if _, err := io.WriteString(c, "GET /readyz HTTP/1.1\r\nHost: faults\r\n"); err != nil {
			return true
		}
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-closed:
			return true
		case <-t.C:
			if slow {
				if _, err := io.WriteString(c, "X-Slow: 1\r\n"); err != nil {
					return true
				}
			}
		}
	}
}
