package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// attempt is one HTTP request the suite's clients made.
type attempt struct {
	Op      string
	API     int // index into the stack's APIs
	Start   time.Time
	Dur     time.Duration
	Status  int    // 0: no answer
	Err     string // transport error: refused, reset, timeout, …
	Code    string // the JSON error's code, when there is one
	BadBody bool   // an error status without the API's JSON error shape
	// InProgress: a 409 because another attempt holds the Idempotency-Key
	// (a killed API's, until its lease runs out); retried.
	InProgress bool
}

// api is the suite's client of the two APIs: it spreads requests over them,
// and retries every failed or unanswered request, with the same
// Idempotency-Key, as a real client would.
type api struct {
	urls []string
	hc   *http.Client
	next atomic.Uint32

	mu       sync.Mutex
	attempts []attempt
}

// attemptTimeout is how long a client waits for an answer before it gives
// up on the request and retries; a hang longer than this is counted.
const attemptTimeout = 25 * time.Second

func newAPI(urls []string) *api {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	return &api{urls: urls, hc: &http.Client{Transport: tr, Timeout: attemptTimeout}}
}

// req is one logical request.
type req struct {
	op          string // a name for the summary: "submit inquiry", …
	method      string
	path        string
	token       string
	key         string // Idempotency-Key; the same on every retry
	body        any    // JSON-encoded, unless raw is set
	raw         []byte
	contentType string
	// accept, when set, decides about a 4xx answer: true means done (e.g.
	// a retried decision whose first attempt landed).
	accept func(status int, body []byte) bool
}

// errGaveUp is a request that got no acceptable answer within its budget.
var errGaveUp = errors.New("gave up")

// opBudget bounds the retries of one logical request.
const opBudget = 4 * time.Minute

// do sends r until it gets a 2xx (or an accepted 4xx) and returns the
// answer. 5xx, 429, an in-progress 409, a refused, reset or unanswered
// request are retried with backoff on the next API.
func (a *api) do(ctx context.Context, r req) (int, []byte, error) {
	body := r.raw
	ct := r.contentType
	if body == nil && r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return 0, nil, err
		}
		ct = "application/json"
	}
	deadline := time.Now().Add(opBudget)
	backoff := 100 * time.Millisecond
	for {
		i := int(a.next.Add(1)) % len(a.urls)
		status, out, at := a.once(ctx, i, r, body, ct)
		a.record(at)
		switch {
		case status >= 200 && status < 300:
			return status, out, nil
		case status == 409 && strings.Contains(string(out), "still in progress"),
			status == 429, status >= 500, status == 0:
			// retried below
		case r.accept != nil && r.accept(status, out):
			return status, out, nil
		default:
			return status, out, fmt.Errorf("%s %s: %d %s", r.method, r.path, status, truncate(out))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return status, out, fmt.Errorf("%s %s: %w after %s: last %d %s %s", r.method, r.path, errGaveUp, opBudget, status, at.Err, truncate(out))
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (a *api) once(ctx context.Context, i int, r req, body []byte, ct string) (int, []byte, attempt) {
	at := attempt{Op: r.op, API: i, Start: time.Now()}
	hr, err := http.NewRequestWithContext(ctx, r.method, a.urls[i]+r.path, bytes.NewReader(body))
	if err != nil {
		at.Err = err.Error()
		return 0, nil, at
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.key != "" {
		hr.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := a.hc.Do(hr)
	if err != nil {
		at.Dur, at.Err = time.Since(at.Start), transportErr(err)
		return 0, nil, at
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	at.Dur, at.Status = time.Since(at.Start), resp.StatusCode
	if err != nil {
		at.Err = transportErr(err)
		return 0, nil, at
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(out, &e) != nil || e.Error.Code == "" || e.Error.Message == "" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			at.BadBody = true
		}
		at.Code = e.Error.Code
		at.InProgress = resp.StatusCode == 409 && strings.Contains(e.Error.Message, "still in progress")
		if resp.StatusCode >= 500 {
			slog.Debug("retrying", "op", r.op, "api", i, "status", resp.StatusCode, "body", truncate(out))
		}
	}
	return resp.StatusCode, out, at
}

func (a *api) record(at attempt) {
	a.mu.Lock()
	a.attempts = append(a.attempts, at)
	a.mu.Unlock()
}

func (a *api) log() []attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]attempt(nil), a.attempts...)
}

// transportErr names a transport failure for the summary.
func transportErr(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "Client.Timeout") || strings.Contains(s, "deadline exceeded") || strings.Contains(s, "timeout"):
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "refused"
	case strings.Contains(s, "reset by peer"), strings.Contains(s, "EOF"), strings.Contains(s, "broken pipe"):
		return "reset"
	}
	return s
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// decodeID returns the "id" of a JSON answer.
func decodeID(b []byte) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		return "", fmt.Errorf("no id in %s", truncate(b))
	}
	return v.ID, nil
}
