package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/huntdesk/huntdesk/internal/dev/procs"
	"github.com/huntdesk/huntdesk/models"
)

// seed creates the provider (a manager, an expert) and customer orgs with a
// full subscription, one admin and one token each, straight in the store.
func seed(ctx context.Context, st *stack, cfg Config) (*people, error) {
	db := st.db
	mkOrg := func(name string, kind models.OrgKind, plan models.Plan) (*models.Org, error) {
		devices := 100
		return db.CreateOrg(ctx, models.System, kind, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: plan}})
	}
	mkUser := func(org *models.Org, email string, role models.Role) (string, models.Principal, error) {
		u, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: org.ID, Email: email, Name: email, Role: role})
		if err != nil {
			return "", models.Principal{}, err
		}
		tok, _, err := db.CreateToken(ctx, models.System, u.ID, models.TokenInput{Name: "bench"})
		return tok, models.Principal{UserID: u.ID, OrgID: org.ID, Email: email, Role: role}, err
	}
	prov, err := mkOrg("huntdesk", models.OrgProvider, models.PlanNone)
	if err != nil {
		return nil, err
	}
	p := &people{}
	if p.manager, p.manP, err = mkUser(prov, "manager@huntdesk.example", models.RoleManager); err != nil {
		return nil, err
	}
	if p.expert, p.expP, err = mkUser(prov, "expert@huntdesk.example", models.RoleExpert); err != nil {
		return nil, err
	}
	p.expertID = p.expP.UserID
	for i := range max(50, cfg.Applications) {
		o, err := mkOrg(fmt.Sprintf("Customer %03d", i), models.OrgCustomer, models.PlanFull)
		if err != nil {
			return nil, err
		}
		tok, pr, err := mkUser(o, fmt.Sprintf("admin@c%03d.example", i), models.RoleCustomerAdmin)
		if err != nil {
			return nil, err
		}
		p.admins, p.orgIDs, p.custP = append(p.admins, tok), append(p.orgIDs, o.ID), append(p.custP, pr)
	}
	return p, nil
}

var inquiryBody = map[string]any{"topic_url": "https://security.microsoft.com/machines/bench-host/overview",
	"context": "A benchmark inquiry: outbound connections at 3 am from a finance laptop.", "contact_email": "soc@customer.example"}

type inquiryReply struct {
	ID      string `json:"id"`
	Reports []struct {
		ID string `json:"id"`
	} `json:"reports"`
}

// SubmitRow is one concurrency level: huntdesk's submit beside the ceiling.
type SubmitRow struct {
	Concurrency int     `json:"concurrency"`
	N           int     `json:"n"`
	AcceptedPS  float64 `json:"accepted_per_s"` // HTTP 201s per second
	Accept      Latency `json:"accept"`         // POST → 201 (row stored, workflow started)
	EndToEndPS  float64 `json:"end_to_end_per_s"`
	EndToEnd    Latency `json:"end_to_end"` // POST → acknowledgement email at the sink
	CeilingPS   float64 `json:"ceiling_per_s"`
	Ceiling     Latency `json:"ceiling"` // bare client.ExecuteWorkflow of an empty workflow
	Ratio       float64 `json:"ratio"`   // accepted/s ÷ ceiling/s
}

// emptyWorkflow is the ceiling's workflow: it does nothing.
func emptyWorkflow(workflow.Context) error { return nil }

const ceilingQueue = "huntdesk-bench-ceiling"

func measureSubmit(ctx context.Context, st *stack, cl *client, pp *people, cfg Config) ([]SubmitRow, error) {
	w := worker.New(st.tc, ceilingQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: "BenchEmpty"})
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	var rows []SubmitRow
	for _, c := range cfg.Concurrency {
		n := cfg.SubmitN
		ids := make([]string, n)
		starts := make([]time.Time, n)
		var prof sync.WaitGroup
		if c == 32 { // where the time goes: CPU profiles of both processes under load
			for _, name := range []string{"api", "worker"} {
				prof.Go(func() {
					if err := st.profile(ctx, name, "profile", 5*time.Second, filepath.Join(cfg.OutDir, name+"-submit-c32.pprof")); err != nil {
						cfg.Logger.Warn("profile", "process", name, "err", err)
					}
				})
				prof.Go(func() {
					time.Sleep(2 * time.Second)
					if err := st.profile(ctx, name, "goroutine", 0, filepath.Join(cfg.OutDir, name+"-submit-c32-goroutines.txt")); err != nil {
						cfg.Logger.Warn("profile", "process", name, "err", err)
					}
				})
			}
		}
		ds, wall, err := parallel(ctx, n, c, func(ctx context.Context, i int) error {
			starts[i] = time.Now()
			var q inquiryReply
			err := cl.call(ctx, "POST", "/api/v1/inquiries", pp.admins[i%len(pp.admins)], inquiryBody, &q)
			ids[i] = q.ID
			return err
		})
		if err != nil {
			return nil, err
		}
		prof.Wait()
		events := make([]string, n)
		for i, id := range ids {
			events[i] = "inquiry/" + id + "/ack/contact"
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		arrived, err := st.sink.waitAll(wctx, events)
		cancel()
		if err != nil {
			return nil, err
		}
		e2e := make([]time.Duration, n)
		first, last := starts[0], arrived[0]
		for i := range n {
			e2e[i] = arrived[i].Sub(starts[i])
			if starts[i].Before(first) {
				first = starts[i]
			}
			if arrived[i].After(last) {
				last = arrived[i]
			}
		}
		cds, cwall, err := parallel(ctx, n, c, func(ctx context.Context, i int) error {
			_, err := st.tc.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: fmt.Sprintf("bench-ceiling-%d-%d-%d", c, i, time.Now().UnixNano()), TaskQueue: ceilingQueue}, "BenchEmpty")
			return err
		})
		if err != nil {
			return nil, err
		}
		row := SubmitRow{Concurrency: c, N: n, AcceptedPS: float64(n) / wall.Seconds(), Accept: latencyOf(ds),
			EndToEndPS: float64(n) / last.Sub(first).Seconds(), EndToEnd: latencyOf(e2e),
			CeilingPS: float64(n) / cwall.Seconds(), Ceiling: latencyOf(cds)}
		row.Ratio = row.AcceptedPS / row.CeilingPS
		cfg.Logger.Info("submit", "concurrency", c, "accepted_per_s", int(row.AcceptedPS), "ceiling_per_s", int(row.CeilingPS), "p99_ms", row.Accept.P99, "ceiling_p99_ms", row.Ceiling.P99)
		rows = append(rows, row)
	}
	return rows, nil
}

// Throughput is a whole process measured end to end.
type Throughput struct {
	Name        string  `json:"name"`
	N           int     `json:"n"`
	Concurrency int     `json:"concurrency"`
	PerS        float64 `json:"per_s"`
	Latency     Latency `json:"latency"` // one case from its first request to its last email
}

// measureLifecycles runs whole inquiries (submit → claim → more information
// → the customer's answer → concluded, every email delivered) and
// applications (submitted → approved, the welcome delivered).
func measureLifecycles(ctx context.Context, st *stack, cl *client, pp *people, cfg Config) ([]Throughput, error) {
	const c = 16
	n := cfg.Lifecycles
	type done struct {
		start  time.Time
		events []string
	}
	runs := make([]done, n)
	_, _, err := parallel(ctx, n, c, func(ctx context.Context, i int) error {
		runs[i].start = time.Now()
		admin := pp.admins[i%len(pp.admins)]
		var q inquiryReply
		if err := cl.call(ctx, "POST", "/api/v1/inquiries", admin, inquiryBody, &q); err != nil {
			return err
		}
		p := "/api/v1/inquiries/" + q.ID
		steps := []struct {
			path, token string
			body        map[string]any
		}{
			{p + "/claim", pp.expert, nil},
			{p + "/reports", pp.expert, map[string]any{"category": "more_info_needed", "message": "Which user was signed in?"}},
			{p + "/responses", admin, map[string]any{"message": "j.doe, a finance clerk."}},
			{p + "/reports", pp.expert, map[string]any{"category": "concluded", "message": "Benign: a signed backup agent."}},
		}
		for _, s := range steps {
			if err := cl.call(ctx, "POST", s.path, s.token, s.body, &q); err != nil {
				return err
			}
		}
		runs[i].events = []string{"inquiry/" + q.ID + "/ack/contact"}
		for _, r := range q.Reports {
			runs[i].events = append(runs[i].events, "inquiry/"+q.ID+"/report/"+r.ID+"/contact")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	inq, err := settle(ctx, st, "inquiry lifecycle (submit → claim → more_info_needed → answer → concluded)", c, len(runs),
		func(i int) (time.Time, []string) { return runs[i].start, runs[i].events })
	if err != nil {
		return nil, err
	}

	k := min(cfg.Applications, len(pp.admins))
	apps := make([]done, k)
	_, _, err = parallel(ctx, k, c, func(ctx context.Context, i int) error {
		apps[i].start = time.Now()
		var a struct{ ID string }
		if err := cl.call(ctx, "POST", "/api/v1/applications", pp.admins[i], map[string]any{"contact_name": "Sam", "contact_email": "sam@customer.example", "accept_privacy_statement": true}, &a); err != nil {
			return err
		}
		if err := cl.call(ctx, "POST", "/api/v1/applications/"+a.ID+"/approve", pp.manager, map[string]any{}, nil); err != nil {
			return err
		}
		apps[i].events = []string{"application/" + a.ID + "/approved/contact"}
		return nil
	})
	if err != nil {
		return nil, err
	}
	app, err := settle(ctx, st, "application (submitted → approved, welcome email)", c, len(apps),
		func(i int) (time.Time, []string) { return apps[i].start, apps[i].events })
	if err != nil {
		return nil, err
	}
	return []Throughput{inq, app}, nil
}

// settle waits for every case's emails and measures from the first case's
// start to the last email.
func settle(ctx context.Context, st *stack, name string, c, n int, of func(i int) (time.Time, []string)) (Throughput, error) {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var first, last time.Time
	lat := make([]time.Duration, n)
	for i := range n {
		start, events := of(i)
		arrived, err := st.sink.waitAll(wctx, events)
		if err != nil {
			return Throughput{}, fmt.Errorf("%s: %w", name, err)
		}
		end := start
		for _, a := range arrived {
			if a.After(end) {
				end = a
			}
		}
		lat[i] = end.Sub(start)
		if first.IsZero() || start.Before(first) {
			first = start
		}
		if end.After(last) {
			last = end
		}
	}
	return Throughput{Name: name, N: n, Concurrency: c, PerS: float64(n) / last.Sub(first).Seconds(), Latency: latencyOf(lat)}, nil
}

// Footprint is what huntdesk costs to run.
type Footprint struct {
	OpenWorkflows  int64   `json:"open_inquiry_workflows"`
	APIRSSMiB      float64 `json:"api_rss_mib"`
	WorkerRSSMiB   float64 `json:"worker_rss_mib"`
	TemporalRSSMiB float64 `json:"temporal_rss_mib"`
	BinaryMiB      float64 `json:"binary_mib"`
	ColdStartS     float64 `json:"dev_cold_start_s"`
	WarmStartS     float64 `json:"dev_warm_start_s"`
	StartMeasuredV string  `json:"start_measured"`
}

// measureFootprint opens inquiries until OpenTarget workflows run, waits
// for their acknowledgements, and reads the processes' resident memory.
func measureFootprint(ctx context.Context, st *stack, cl *client, pp *people, cfg Config) (Footprint, error) {
	var open int64
	if err := st.db.Gorm().WithContext(ctx).Table("inquiries").Where("status NOT IN ?", []string{"concluded", "cancelled", "closed_no_response"}).Count(&open).Error; err != nil {
		return Footprint{}, err
	}
	if more := cfg.OpenTarget - int(open); more > 0 {
		ids := make([]string, more)
		if _, _, err := parallel(ctx, more, 64, func(ctx context.Context, i int) error {
			var q inquiryReply
			err := cl.call(ctx, "POST", "/api/v1/inquiries", pp.admins[i%len(pp.admins)], inquiryBody, &q)
			ids[i] = q.ID
			return err
		}); err != nil {
			return Footprint{}, err
		}
		events := make([]string, more)
		for i, id := range ids {
			events[i] = "inquiry/" + id + "/ack/contact"
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		_, err := st.sink.waitAll(wctx, events)
		cancel()
		if err != nil {
			return Footprint{}, err
		}
		open += int64(more)
	}
	const mib = 1 << 20
	return Footprint{OpenWorkflows: open, APIRSSMiB: float64(rss(st.api)) / mib, WorkerRSSMiB: float64(rss(st.worker)) / mib,
		TemporalRSSMiB: float64(rss(st.temporal)) / mib}, nil
}

// rss is a process's resident memory now (0 when unknown).
func rss(p *procs.Proc) int64 {
	n, _ := procs.RSS(p.PID())
	return n
}
