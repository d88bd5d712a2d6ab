package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"sync"
	"time"
)

// The load: at least 300 cases of every kind, paced over the run so every
// fault meets requests in flight.
const (
	alertOrgs       = 20 // approved for attack notifications early; they get the alerts
	appOrgs         = 20 // apply, get rejected or withdraw, apply again; the last stays open
	appsPerOrg      = 15 // in each appOrg: 20 × 15 + the 20 approvals = 320 applications
	inquiries       = 320
	inquiryWorkers  = 8
	leaveAloneEvery = 5 // every 5th inquiry (of the first 80 %) is left unclaimed: its clock warns and breaches
	raisedPerOrg    = 8 // alerts raised by experts, per alert org
	batchSize       = 10
	batchesPerOrg   = 1 // connector batches per alert org: 20 × (8 + 10) = 360 alerts
)

// created is a case a create request got a 2xx for.
type created struct {
	Kind   string // application, inquiry, alert
	Key    string // the Idempotency-Key (or the connector's external id)
	ID     string
	Status int
	At     time.Time
	// LeftAlone: an inquiry nobody claims, or an application nobody
	// decides: its clock runs out.
	LeftAlone bool
}

// ledger is what the load did, for the checks.
type ledger struct {
	mu       sync.Mutex
	creates  []created
	failures []string
	ops      map[string]int // logical requests done, by op
}

func (l *ledger) add(c created) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.At = time.Now()
	l.creates = append(l.creates, c)
}

func (l *ledger) done(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops[op]++
}

func (l *ledger) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	slog.Error("load", "failure", msg)
	l.failures = append(l.failures, msg)
}

type org struct {
	id, name   string
	admin      string // customer_admin's token
	adminEmail string
	connector  string // connector token (alert orgs)
}

// world is the load's actors.
type world struct {
	api     *api
	manager string
	experts []string
	orgs    []*org // alert orgs first, then app orgs
	led     *ledger
	run     string // unique per run: keys and markers
	t0      time.Time
	span    time.Duration
}

// setup creates the experts, the orgs and their admins through the API,
// and approves the alert orgs for attack notifications (their applications
// are the first 20).
func setup(ctx context.Context, a *api, manager, run string) (*world, error) {
	w := &world{api: a, manager: manager, led: &ledger{ops: map[string]int{}}, run: run}
	var provider struct {
		OrgID string `json:"org_id"`
		Org   struct {
			ID string `json:"id"`
		} `json:"org"`
	}
	_, b, err := a.do(ctx, req{op: "me", method: "GET", path: "/api/v1/me", token: manager})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &provider); err != nil {
		return nil, err
	}
	for i := range 2 {
		tok, err := w.user(ctx, provider.Org.ID, fmt.Sprintf("expert%d@huntdesk.example", i+1), "expert")
		if err != nil {
			return nil, err
		}
		w.experts = append(w.experts, tok)
	}
	for i := range alertOrgs + appOrgs {
		o := &org{name: fmt.Sprintf("Org %02d", i)}
		_, b, err := a.do(ctx, req{op: "create org", method: "POST", path: "/api/v1/orgs", token: manager, key: run + "/org/" + o.name,
			body: map[string]any{"name": o.name, "devices_enrolled": 100, "subscription": map[string]any{"plan": "full"}}})
		if err != nil {
			return nil, err
		}
		if o.id, err = decodeID(b); err != nil {
			return nil, err
		}
		o.adminEmail = fmt.Sprintf("admin@org%02d.example", i)
		if o.admin, err = w.user(ctx, o.id, o.adminEmail, "customer_admin"); err != nil {
			return nil, err
		}
		w.orgs = append(w.orgs, o)
	}
	return w, nil
}

// user creates a user and a token for them, returning the token.
func (w *world) user(ctx context.Context, orgID, email, role string) (string, error) {
	_, b, err := w.api.do(ctx, req{op: "create user", method: "POST", path: "/api/v1/users", token: w.manager, key: w.run + "/user/" + email,
		body: map[string]any{"org_id": orgID, "email": email, "name": "User " + email, "role": role}})
	if err != nil {
		return "", err
	}
	id, err := decodeID(b)
	if err != nil {
		return "", err
	}
	_, b, err = w.api.do(ctx, req{op: "create token", method: "POST", path: "/api/v1/users/" + id + "/tokens", token: w.manager, key: w.run + "/token/" + email,
		body: map[string]any{"name": "faults"}})
	if err != nil {
		return "", err
	}
	var t struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.Token == "" {
		return "", fmt.Errorf("no token in %s", truncate(b))
	}
	return t.Token, nil
}

// at waits until the fraction f of the span has passed.
func (w *world) at(ctx context.Context, f float64) {
	d := time.Until(w.t0.Add(time.Duration(f * float64(w.span))))
	if d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
}

// drive runs the whole load over span and returns when every logical
// request got its answer (or gave up).
func (w *world) drive(ctx context.Context, span time.Duration) {
	w.t0, w.span = time.Now(), span
	var wg sync.WaitGroup
	for i, o := range w.orgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < alertOrgs {
				w.alertOrg(ctx, i, o)
			} else {
				w.appOrg(ctx, i-alertOrgs, o)
			}
		}()
	}
	jobs := make(chan int)
	for range inquiryWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				w.inquiry(ctx, i)
			}
		}()
	}
	for i := range inquiries {
		w.at(ctx, float64(i)/inquiries)
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// apply submits an application and returns its id.
func (w *world) apply(ctx context.Context, o *org, n int, leftAlone bool) (string, bool) {
	key := fmt.Sprintf("%s/app/%s/%d", w.run, o.id, n)
	st, b, err := w.api.do(ctx, req{op: "submit application", method: "POST", path: "/api/v1/applications", token: o.admin, key: key,
		body: map[string]any{"contact_name": "Contact " + key, "contact_email": o.adminEmail, "accept_privacy_statement": true}})
	if err != nil {
		w.led.fail("%s: apply: %v", o.name, err)
		return "", false
	}
	id, err := decodeID(b)
	if err != nil {
		w.led.fail("%s: apply: %v", o.name, err)
		return "", false
	}
	w.led.add(created{Kind: "application", Key: key, ID: id, Status: st, LeftAlone: leftAlone})
	w.led.done("submit application")
	return id, true
}

// decide sends one decision (approve, reject, withdraw) and reports success.
func (w *world) decide(ctx context.Context, o *org, id, what string) bool {
	token, body := w.manager, map[string]any{}
	switch what {
	case "approve":
		body["note"] = "welcome"
	case "reject":
		body["reason"] = "Not eligible in this run"
	case "withdraw":
		token = o.admin
	}
	_, _, err := w.api.do(ctx, req{op: what + " application", method: "POST", path: "/api/v1/applications/" + id + "/" + what,
		token: token, key: w.run + "/" + what + "/" + id, body: body})
	if err != nil {
		w.led.fail("%s: %s %s: %v", o.name, what, id, err)
		return false
	}
	w.led.done(what + " application")
	return true
}

// appOrg applies appsPerOrg times, alternately rejected and withdrawn; the
// last application stays open and its review clock runs out.
func (w *world) appOrg(ctx context.Context, idx int, o *org) {
	for k := range appsPerOrg {
		// Within 80 % of the span: the last one's review clock runs out
		// by the end of the load.
		w.at(ctx, 0.8*(float64(k)+float64(idx)/appOrgs)/appsPerOrg)
		last := k == appsPerOrg-1
		id, ok := w.apply(ctx, o, k, last)
		if !ok || last {
			return
		}
		what := "reject"
		if (k+idx)%2 == 1 {
			what = "withdraw"
		}
		if !w.decide(ctx, o, id, what) {
			return
		}
	}
}

// alertOrg is approved, sets a rule and a connector, then raises and
// ingests alerts over the span.
func (w *world) alertOrg(ctx context.Context, idx int, o *org) {
	id, ok := w.apply(ctx, o, 0, false)
	if !ok || !w.decide(ctx, o, id, "approve") {
		return
	}
	_, _, err := w.api.do(ctx, req{op: "create rule", method: "POST", path: "/api/v1/notification-rules", token: o.admin, key: w.run + "/rule/" + o.id,
		body: map[string]any{"name": "SOC medium+", "recipients": []string{"soc@" + o.id + ".example"}, "min_severity": "medium", "include_device_details": true}})
	if err != nil {
		w.led.fail("%s: rule: %v", o.name, err)
		return
	}
	_, b, err := w.api.do(ctx, req{op: "create connector", method: "POST", path: "/api/v1/connectors", token: o.admin, key: w.run + "/connector/" + o.id,
		body: map[string]any{"name": "EDR"}})
	if err != nil {
		w.led.fail("%s: connector: %v", o.name, err)
		return
	}
	var c struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(b, &c); c.Token == "" {
		w.led.fail("%s: connector: no token in %s", o.name, truncate(b))
		return
	}
	o.connector = c.Token
	severities := []string{"low", "medium", "high", "medium", "informational", "high", "medium", "low"}
	steps := raisedPerOrg + batchesPerOrg
	for k := range steps {
		w.at(ctx, 0.05+0.9*(float64(k)+float64(idx)/alertOrgs)/float64(steps))
		if k%(raisedPerOrg/batchesPerOrg+1) == raisedPerOrg/batchesPerOrg {
			w.ingest(ctx, o, k)
			continue
		}
		key := fmt.Sprintf("%s/alert/%s/%d", w.run, o.id, k)
		st, b, err := w.api.do(ctx, req{op: "raise alert", method: "POST", path: "/api/v1/alerts", token: w.experts[k%len(w.experts)], key: key,
			body: map[string]any{"org_id": o.id, "title": "Suspicious activity " + key, "severity": severities[k%len(severities)], "category": "Execution",
				"description": "Raised by the fault suite.", "devices": []map[string]string{{"id": fmt.Sprintf("dev-%d", k), "name": fmt.Sprintf("HOST-%d", k)}}}})
		if err != nil {
			w.led.fail("%s: raise: %v", o.name, err)
			continue
		}
		id, err := decodeID(b)
		if err != nil {
			w.led.fail("%s: raise: %v", o.name, err)
			continue
		}
		w.led.add(created{Kind: "alert", Key: key, ID: id, Status: st})
		w.led.done("raise alert")
	}
}

// ingest pushes one connector batch; items are idempotent by external id.
func (w *world) ingest(ctx context.Context, o *org, k int) {
	severities := []string{"high", "medium", "low", "high", "informational"}
	var items []map[string]any
	for j := range batchSize {
		items = append(items, map[string]any{"external_id": fmt.Sprintf("edr-%d-%d", k, j), "title": fmt.Sprintf("EDR detection %d-%d", k, j),
			"severity": severities[j%len(severities)], "category": "Malware", "detection_source": "EDR",
			"incident_external_id": fmt.Sprintf("case-%d", k), "devices": []map[string]string{{"id": fmt.Sprintf("edr-dev-%d", j), "name": "EDR-HOST"}}})
	}
	st, b, err := w.api.do(ctx, req{op: "ingest batch", method: "POST", path: "/api/v1/connector/alerts", token: o.connector,
		body: map[string]any{"alerts": items}})
	if err != nil {
		w.led.fail("%s: ingest: %v", o.name, err)
		return
	}
	var res struct {
		Created, Updated, Rejected int
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Rejected > 0 || res.Created+res.Updated != batchSize {
		w.led.fail("%s: ingest: %s", o.name, truncate(b))
		return
	}
	for j := range batchSize {
		w.led.add(created{Kind: "alert", Key: o.id + "/" + fmt.Sprintf("edr-%d-%d", k, j), Status: st})
	}
	w.led.done("ingest batch")
}

// inquiry runs one inquiry: submitted, then (unless left alone) claimed,
// asked for information, answered, asked for a sample, sent one, concluded.
func (w *world) inquiry(ctx context.Context, i int) {
	o := w.orgs[i%len(w.orgs)]
	expert := w.experts[i%len(w.experts)]
	key := fmt.Sprintf("%s/inq/%d", w.run, i)
	// Only in the first 80 % of the span: their clocks run out by the end.
	alone := i%leaveAloneEvery == leaveAloneEvery-1 && i < inquiries*8/10
	st, b, err := w.api.do(ctx, req{op: "submit inquiry", method: "POST", path: "/api/v1/inquiries", token: o.admin, key: key,
		body: map[string]any{"topic_url": fmt.Sprintf("https://security.microsoft.com/machines/dev-%d", i),
			"context": "Is this device compromised? Marker " + key, "contact_email": o.adminEmail}})
	if err != nil {
		w.led.fail("inquiry %d: submit: %v", i, err)
		return
	}
	id, err := decodeID(b)
	if err != nil {
		w.led.fail("inquiry %d: submit: %v", i, err)
		return
	}
	w.led.add(created{Kind: "inquiry", Key: key, ID: id, Status: st, LeftAlone: alone})
	w.led.done("submit inquiry")
	if alone {
		return
	}
	steps := []req{
		{op: "claim inquiry", path: "/claim", token: expert},
		{op: "report more_info_needed", path: "/reports", token: expert, body: map[string]any{"category": "more_info_needed", "message": "Which user ran it?"}},
		{op: "answer inquiry", path: "/responses", token: o.admin, body: map[string]any{"message": "The build service account."}},
		{op: "report samples_needed", path: "/reports", token: expert, body: map[string]any{"category": "samples_needed", "message": "Please send the script."}},
		{op: "upload sample", path: "/samples", token: o.admin},
		{op: "report concluded", path: "/reports", token: expert, body: map[string]any{"category": "concluded", "message": "Benign admin script."}},
	}
	for n, s := range steps {
		s.method, s.path, s.key = "POST", "/api/v1/inquiries/"+id+s.path, fmt.Sprintf("%s/%d", key, n)
		if s.op == "upload sample" {
			s.raw, s.contentType = sampleBody(i)
		}
		if _, _, err := w.api.do(ctx, s); err != nil {
			w.led.fail("inquiry %d (%s): %s: %v", i, id, s.op, err)
			return
		}
		w.led.done(s.op)
	}
}

func sampleBody(i int) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", fmt.Sprintf("script-%d.ps1", i))
	fmt.Fprintf(fw, "Get-Process | Out-File procs-%d.txt\n", i)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}
