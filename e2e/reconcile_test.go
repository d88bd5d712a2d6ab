package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
	"github.com/huntdesk/huntdesk/worker"
	"github.com/huntdesk/huntdesk/workflows"
)

var errDied = errors.New("the process died here")

// dieAt is a CrashHook that stops a create after step.
func dieAt(step string) cases.CrashHook {
	return func(s, _ string) error {
		if s == step {
			return errDied
		}
		return nil
	}
}

// TestCrashedCreatesAreReconciled stops creates at each step — after the row
// (and its recorded start) committed, and after the workflow started but
// before the start was marked — and shows the reconciler brings every case
// to a running workflow; re-applying returns the open application, which
// then has its workflow (issue 18, item 1).
func TestCrashedCreatesAreReconciled(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, fastInquiries(10*time.Minute), func(c *devstack.Config) { c.ReconcileEvery = -1 })
	defer st.Close()
	ctx := context.Background()
	c := client{t: t, base: st.URL}
	principal := func(email string) models.Principal {
		u, err := st.DB.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return models.Principal{UserID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role}
	}
	running := func(workflowID string) bool {
		t.Helper()
		d, err := st.Client.DescribeWorkflowExecution(ctx, workflowID, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return false
		}
		if err != nil {
			t.Fatalf("describe %s: %v", workflowID, err)
		}
		return d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	}
	pending := func(entity, id string) bool {
		t.Helper()
		ws, err := st.DB.StartOf(ctx, entity, id)
		if err != nil {
			t.Fatalf("recorded start of %s %s: %v", entity, id, err)
		}
		return ws.StartedAt == nil
	}

	fabrikam := principal("admin@fabrikam.example")
	ask := func(contact string) models.InquiryInput {
		return models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/da9", Context: "A living-off-the-land binary ran on FAB-SRV-2; is it malicious?", ContactEmail: contact}
	}
	inq := func(hook cases.CrashHook) *cases.Inquiries {
		return &cases.Inquiries{DB: st.DB, Temporal: st.Client, SLA: 10 * time.Minute, Crash: hook}
	}
	// Stop after the row: the row and its recorded start exist, no workflow.
	if _, err := inq(dieAt(cases.StepRecorded)).Submit(ctx, fabrikam, ask("first@fabrikam.example")); !errors.Is(err, errDied) {
		t.Fatalf("submit stopped after the row: %v", err)
	}
	// Stop after the start: the workflow runs, the start is not marked.
	if _, err := inq(dieAt(cases.StepStarted)).Submit(ctx, fabrikam, ask("second@fabrikam.example")); !errors.Is(err, errDied) {
		t.Fatalf("submit stopped after the start: %v", err)
	}
	list, err := st.DB.Inquiries(ctx, models.InquiryFilter{OrgID: fabrikam.OrgID})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("inquiries after the crashes: %d %v", len(list.Items), err)
	}
	byContact := map[string]models.Inquiry{}
	for _, q := range list.Items {
		byContact[q.ContactEmail] = q
		if q.Status != models.InquirySubmitted {
			t.Fatalf("inquiry %s is %s", q.ID, q.Status)
		}
	}
	first, second := byContact["first@fabrikam.example"], byContact["second@fabrikam.example"]
	if running(workflows.InquiryWorkflowID(first.ID)) || !pending("inquiry", first.ID) {
		t.Fatalf("stopped after the row: want no workflow and a pending start")
	}
	if !running(workflows.InquiryWorkflowID(second.ID)) || !pending("inquiry", second.ID) {
		t.Fatalf("stopped after the start: want a running workflow and an unmarked start")
	}

	// Until it starts, the stranded inquiry says so (503, try again), rather
	// than "the case is closed".
	if r := c.call("POST", "/api/v1/inquiries/"+first.ID+"/claim", st.Tokens["expert@huntdesk.example"], nil); r.status != 503 || !strings.Contains(string(r.body), "starting") {
		t.Fatalf("claim before the workflow started: %d %s; want 503 starting", r.status, r.body)
	}

	// A client's retry with the same Idempotency-Key finds the case its
	// first (crashed) attempt made, which then has its workflow.
	kctx := cases.WithIdempotencyKey(ctx, "ask-42")
	if _, err := inq(dieAt(cases.StepRecorded)).Submit(kctx, fabrikam, ask("third@fabrikam.example")); !errors.Is(err, errDied) {
		t.Fatalf("keyed submit stopped after the row: %v", err)
	}
	third, err := inq(nil).Submit(kctx, fabrikam, ask("third@fabrikam.example"))
	if err != nil || third.ContactEmail != "third@fabrikam.example" {
		t.Fatalf("retry with the key: %+v %v", third, err)
	}
	if l, _ := st.DB.Inquiries(ctx, models.InquiryFilter{OrgID: fabrikam.OrgID}); len(l.Items) != 3 {
		t.Fatalf("%d inquiries after a keyed retry; want 3 (the retry made none)", len(l.Items))
	}
	if !running(workflows.InquiryWorkflowID(third.ID)) || pending("inquiry", third.ID) {
		t.Fatalf("the keyed retry did not start the first attempt's workflow")
	}

	// Applications: Contoso stops after the row, Fabrikam after the start.
	yes := true
	apply := models.ApplicationInput{ContactName: "Casey", ContactEmail: "casey@contoso.example", AcceptPrivacyStatement: &yes}
	apps := func(hook cases.CrashHook) *cases.Applications {
		return &cases.Applications{DB: st.DB, Temporal: st.Client, ReviewSLA: time.Hour, Crash: hook}
	}
	contoso := principal("admin@contoso.example")
	if _, _, err := apps(dieAt(cases.StepRecorded)).Submit(ctx, contoso, apply); !errors.Is(err, errDied) {
		t.Fatalf("apply stopped after the row: %v", err)
	}
	apply.ContactEmail = "fay@fabrikam.example"
	if _, _, err := apps(dieAt(cases.StepStarted)).Submit(ctx, fabrikam, apply); !errors.Is(err, errDied) {
		t.Fatalf("apply stopped after the start: %v", err)
	}
	open := func(p models.Principal) models.Application {
		l, err := st.DB.Applications(ctx, models.ApplicationFilter{OrgID: p.OrgID, Status: models.ApplicationSubmitted})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("open applications of %s: %d %v", p.Email, len(l.Items), err)
		}
		return l.Items[0]
	}
	contosoApp, fabrikamApp := open(contoso), open(fabrikam)
	if running(workflows.ApplicationWorkflowID(contosoApp.ID)) || !pending("application", contosoApp.ID) {
		t.Fatalf("application stopped after the row: want no workflow and a pending start")
	}

	// Re-applying returns the open application, which then has its workflow.
	apply.ContactEmail = "casey@contoso.example"
	again, created, err := apps(nil).Submit(ctx, contoso, apply)
	if err != nil || created || again.ID != contosoApp.ID {
		t.Fatalf("re-apply: created %v, %v, %v (want the open %s)", created, again, err, contosoApp.ID)
	}
	if !running(workflows.ApplicationWorkflowID(contosoApp.ID)) || pending("application", contosoApp.ID) {
		t.Fatalf("re-applying did not start the open application's workflow")
	}

	// The reconciler (on worker start and every ReconcileEvery) finishes
	// the rest: the inquiry that never started and both unmarked starts.
	n, err := worker.ReconcileOnce(ctx, st.DB, st.Client)
	if err != nil || n != 3 {
		t.Fatalf("reconcile: started %d, %v; want 3 (one new, two already running)", n, err)
	}
	for _, id := range []string{workflows.InquiryWorkflowID(first.ID), workflows.InquiryWorkflowID(second.ID), workflows.ApplicationWorkflowID(fabrikamApp.ID)} {
		if !running(id) {
			t.Fatalf("%s is not running after reconciling", id)
		}
	}
	for _, ec := range [][2]string{{"inquiry", first.ID}, {"inquiry", second.ID}, {"application", fabrikamApp.ID}} {
		if pending(ec[0], ec[1]) {
			t.Fatalf("%s %s still pending after reconciling", ec[0], ec[1])
		}
	}
	if n, err := worker.ReconcileOnce(ctx, st.DB, st.Client); err != nil || n != 0 {
		t.Fatalf("second reconcile: %d %v; want nothing to do", n, err)
	}

	// Every case is alive: acknowledgements go out once, and the stranded
	// inquiry can be claimed.
	c.waitMail("first@fabrikam.example", "We received your question")
	c.waitMail("second@fabrikam.example", "We received your question")
	c.waitMail("third@fabrikam.example", "We received your question")
	c.waitMail("casey@contoso.example", "We received your application")
	c.waitMail("fay@fabrikam.example", "We received your application")
	if r := c.call("POST", "/api/v1/inquiries/"+first.ID+"/claim", st.Tokens["expert@huntdesk.example"], nil); r.status != 200 {
		t.Fatalf("claim the reconciled inquiry: %d %s", r.status, r.body)
	}
	for _, to := range []string{"first@fabrikam.example", "second@fabrikam.example", "third@fabrikam.example", "casey@contoso.example", "fay@fabrikam.example"} {
		if n := c.mailCount(to); n != 1 {
			t.Fatalf("%d emails to %s; want the one acknowledgement", n, to)
		}
	}
}

// TestFailedStartKeepsTheCase: when the workflow service cannot be reached,
// Submit keeps the recorded case (it used to delete it, though a start whose
// answer is lost may be running) and says ErrStarting — the API's 202; the
// reconciler then starts it (issue 18, item 1).
func TestFailedStartKeepsTheCase(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, func(c *devstack.Config) { c.ReconcileEvery = -1 })
	defer st.Close()
	ctx := context.Background()
	down, err := sdkclient.NewLazyClient(sdkclient.Options{HostPort: "127.0.0.1:1", Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	u, err := st.DB.UserByEmail(ctx, "admin@fabrikam.example")
	if err != nil {
		t.Fatal(err)
	}
	p := models.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/incidents/42", Context: "Several devices talk to a rare domain; is this an attack?", ContactEmail: "soc@fabrikam.example"}
	q, err := (&cases.Inquiries{DB: st.DB, Temporal: down}).Submit(ctx, p, in)
	if !errors.Is(err, cases.ErrStarting) || q == nil || q.Status != models.InquirySubmitted {
		t.Fatalf("submit with Temporal down: %+v, %v; want the inquiry and ErrStarting", q, err)
	}
	ws, err := st.DB.StartOf(ctx, "inquiry", q.ID)
	if err != nil || ws.StartedAt != nil || ws.Attempts != 1 || ws.LastError == "" {
		t.Fatalf("recorded start after a failed attempt: %+v %v", ws, err)
	}

	// The same over HTTP: 202 with the inquiry (and the application), and a
	// retry with the same Idempotency-Key finds that inquiry, not a second.
	srv := httptest.NewServer(api.New(api.Config{}, api.Deps{DB: st.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inq: &cases.Inquiries{DB: st.DB, Temporal: down}, Apps: &cases.Applications{DB: st.DB, Temporal: down}}))
	defer srv.Close()
	hc := client{t: t, base: srv.URL}
	fab := st.Tokens["admin@fabrikam.example"]
	body := map[string]any{"topic_url": in.TopicURL, "context": in.Context, "contact_email": "soc2@fabrikam.example"}
	r := hc.call("POST", "/api/v1/inquiries", fab, body, "Idempotency-Key", "down-1")
	var accepted struct{ ID, Status string }
	r.decode(t, &accepted)
	if r.status != 202 || accepted.ID == "" || accepted.Status != "submitted" {
		t.Fatalf("submit with Temporal down over HTTP: %d %s; want 202 with the inquiry", r.status, r.body)
	}
	if again := hc.call("POST", "/api/v1/inquiries", fab, body, "Idempotency-Key", "down-1"); again.status != 202 || !strings.Contains(string(again.body), accepted.ID) {
		t.Fatalf("retry: %d %s; want the same inquiry", again.status, again.body)
	}
	apply := map[string]any{"contact_name": "Fay", "contact_email": "fay@fabrikam.example", "accept_privacy_statement": true}
	var app struct{ ID, Status string }
	r = hc.call("POST", "/api/v1/applications", fab, apply)
	r.decode(t, &app)
	if r.status != 202 || app.ID == "" || app.Status != "submitted" {
		t.Fatalf("apply with Temporal down over HTTP: %d %s; want 202 with the application", r.status, r.body)
	}

	if n, err := worker.ReconcileOnce(ctx, st.DB, st.Client); err != nil || n != 3 {
		t.Fatalf("reconcile: %d %v; want the two inquiries and the application started", n, err)
	}
	c := client{t: t, base: st.URL}
	c.waitMail("soc@fabrikam.example", "We received your question")
	c.waitMail("soc2@fabrikam.example", "We received your question")
	c.waitMail("fay@fabrikam.example", "We received your application")
	got, err := st.DB.Inquiry(ctx, "", q.ID)
	if err != nil || got.Status != models.InquirySubmitted {
		t.Fatalf("the inquiry after reconciling: %v", err)
	}
	if l, _ := st.DB.Inquiries(ctx, models.InquiryFilter{OrgID: p.OrgID}); len(l.Items) != 2 {
		t.Fatalf("%d inquiries; want 2", len(l.Items))
	}
}

// TestReconcilerRunsOnWorkerStart: a case stranded by a crash is started
// when a worker starts, with nobody calling the reconciler by hand.
func TestReconcilerRunsOnWorkerStart(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	dir := t.TempDir()
	st := stack(t, dir, dbURL, time.Hour, func(c *devstack.Config) { c.ReconcileEvery = -1 })
	ctx := context.Background()
	u, err := st.DB.UserByEmail(ctx, "admin@fabrikam.example")
	if err != nil {
		t.Fatal(err)
	}
	p := models.Principal{UserID: u.ID, OrgID: u.OrgID, Role: u.Role}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/x1", Context: "An alert we do not understand at all; please explain.", ContactEmail: "late@fabrikam.example"}
	if _, err := (&cases.Inquiries{DB: st.DB, Temporal: st.Client, Crash: dieAt(cases.StepRecorded)}).Submit(ctx, p, in); !errors.Is(err, errDied) {
		t.Fatalf("submit: %v", err)
	}
	st.Close()

	st = stack(t, dir, dbURL, time.Hour) // the default: reconcile on start, then every 30 s
	defer st.Close()
	client{t: t, base: st.URL}.waitMail("late@fabrikam.example", "We received your question")
}
