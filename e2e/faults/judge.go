package faults

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Bounds the suite holds the stack to.
const (
	answerBound = writeTimeout     // every request answered (2xx or 503) within this
	slaSlack    = 20 * time.Second // a clock event fires at most this long after it is due, or after what it needs is back
	// stickyGrace: after a worker restart, workflow tasks still wait on the
	// dead worker's sticky queue until its schedule-to-start timeout (5 s).
	stickyGrace = 5 * time.Second
	rssBound    = int64(512 << 20)  // an API's resident memory
	settleBound = 180 * time.Second // after the load, the stack settles within this (observed: up to 90 s after a Temporal kill)
	readyBound  = 30 * time.Second  // /readyz is green again this long after the harm is undone
	lateWindow  = 2 * time.Second   // answers to requests sent just after a fault still count for it
	spanDefault = 150 * time.Second // the load's span
)

// verdict is a fault's row of the summary: what was checked, the counts, and
// what went wrong.
type verdict struct {
	Name     string // when there is no fault: the promise
	Fault    *fault
	Checked  string
	Counts   []string
	Problems []string
}

func (v *verdict) count(format string, args ...any) {
	v.Counts = append(v.Counts, fmt.Sprintf(format, args...))
}
func (v *verdict) fail(format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
}

// answers summarises the attempts on the fault's APIs during its window.
type answers struct {
	total, ok, unavailable, other5xx, badBody, noAnswer, transport, inProgress int
	maxAnswer                                                                  time.Duration
	codes                                                                      map[int]int
}

func tally(att []attempt, f *fault) answers {
	var a answers
	a.codes = map[int]int{}
	end := f.Recovered
	if end.IsZero() {
		end = f.End
	}
	end = end.Add(lateWindow)
	for _, x := range att {
		if x.Start.Before(f.Start) || x.Start.After(end) || !slices.Contains(f.APIs, x.API) {
			continue
		}
		a.total++
		switch {
		case x.Status == 0 && x.Err == "timeout":
			a.noAnswer++
		case x.Status == 0:
			a.transport++
		case x.Status < 300:
			a.ok++
		case x.Status == 503 && x.Code == "unavailable" && !x.BadBody:
			a.unavailable++
		case x.InProgress:
			a.inProgress++
		case x.Status >= 500:
			a.other5xx++
		}
		if x.Status != 0 && !x.InProgress {
			a.codes[x.Status]++
		}
		if x.Status != 0 {
			a.maxAnswer = max(a.maxAnswer, x.Dur)
			if x.Status >= 400 && x.BadBody {
				a.badBody++
			}
		}
	}
	return a
}

// judge checks one fault: every API it is judged on answered every request
// within answerBound with a 2xx or a 503 carrying the JSON error (never a
// 500, never a hang), /readyz went red and green again where the fault
// takes a dependency away, and the APIs' memory stayed bounded.
func judge(f *fault, att []attempt, w *watchers, wantRed bool) *verdict {
	v := &verdict{Fault: f}
	if f.Err != nil {
		v.fail("the fault itself failed: %v", f.Err)
	}
	a := tally(att, f)
	v.Checked = "answers within " + answerBound.String() + ": 2xx or 503 with the JSON error, never a 500, never a hang"
	v.count("window %s", f.Recovered.Sub(f.Start).Round(100*time.Millisecond))
	v.count("%d requests: %d 2xx, %d 503", a.total, a.ok, a.unavailable)
	if a.inProgress > 0 {
		v.count("%d 409 'key still in progress' (a killed API's key until its 60 s lease ends; retried)", a.inProgress)
	}
	if other := otherCodes(a.codes); other != "" {
		v.count("other answers %s", other)
	}
	if a.transport > 0 {
		v.count("%d refused/reset (killed process; retried)", a.transport)
	}
	v.count("max answer %s", a.maxAnswer.Round(10*time.Millisecond))
	if a.other5xx > 0 {
		v.fail("%d answers 5xx other than 503 unavailable: %v", a.other5xx, a.codes)
	}
	if a.badBody > 0 {
		v.fail("%d error answers without the JSON error", a.badBody)
	}
	if a.noAnswer > 0 {
		v.fail("%d requests unanswered after %s", a.noAnswer, attemptTimeout)
	}
	if a.maxAnswer > answerBound {
		v.fail("an answer took %s (bound %s)", a.maxAnswer, answerBound)
	}
	if f.Recovered.IsZero() {
		v.fail("the APIs were not ready again within 2 minutes")
	} else if f.Recovered.Sub(f.End) > readyBound {
		v.fail("ready again %s after the harm was undone (bound %s)", f.Recovered.Sub(f.End), readyBound)
	}
	if wantRed {
		v.Checked += "; /readyz red during, green after"
		for _, api := range f.APIs {
			red, redAt := 0, time.Time{}
			for _, r := range w.readyIn(api, f.Start, f.Recovered) {
				if r.Status == 503 {
					if red == 0 {
						redAt = r.At
					}
					red++
				}
			}
			if red == 0 {
				v.fail("API %d: /readyz never went red", api+1)
				continue
			}
			after := w.readyIn(api, f.Recovered, f.Recovered.Add(2*time.Second))
			green := len(after) > 0 && after[len(after)-1].Status == 200
			if !green {
				v.fail("API %d: /readyz not green after recovery", api+1)
			}
			v.count("API %d /readyz red %s after the harm, green %s later", api+1, redAt.Sub(f.Start).Round(10*time.Millisecond), f.Recovered.Sub(redAt).Round(100*time.Millisecond))
		}
	}
	v.Checked += "; API memory < " + mib(rssBound)
	var worst int64
	for _, api := range f.APIs {
		worst = max(worst, w.maxRSS(fmt.Sprintf("api-%d", api+1), f.Start, f.Recovered.Add(lateWindow)))
	}
	v.count("API RSS max %s", mib(worst))
	if worst > rssBound {
		v.fail("API memory reached %s (bound %s)", mib(worst), mib(rssBound))
	}
	return v
}

// judgeSLA checks the clock events of the cases nobody touched: each fired
// within slaSlack of its due time, including those due while SMTP was down.
//
// A clock due while the worker, Temporal or PostgreSQL is down cannot fire
// before they are back: its bound counts from the recovery.
func judgeSLA(r *results, led *ledger, faults []*fault) *verdict {
	v := &verdict{Name: "SLA clocks", Checked: fmt.Sprintf("every untouched case warned/reminded and breached/escalated, each within %s of its due time, or of the recovery when it fell due while the worker, Temporal or PostgreSQL was down (the workflow's time of the event, as committed); also while SMTP was down", slaSlack)}
	var smtp *fault
	var outages []*fault
	for _, f := range faults {
		switch {
		case strings.HasPrefix(f.Name, "SMTP"):
			smtp = f
		case strings.HasPrefix(f.Name, "worker"), strings.HasPrefix(f.Name, "Temporal"), strings.HasPrefix(f.Name, "PostgreSQL"):
			outages = append(outages, f)
		}
	}
	alone := map[string]string{} // id → kind
	led.mu.Lock()
	for _, c := range led.creates {
		if c.LeftAlone {
			alone[c.ID] = c.Kind
		}
	}
	led.mu.Unlock()
	fired := map[string]map[string]slaEvent{}
	var worst, worstOutage, worstBeyond time.Duration
	var inOutage int
	kinds := map[string]int{}
	for _, e := range r.sla {
		if fired[e.ID] == nil {
			fired[e.ID] = map[string]slaEvent{}
		}
		fired[e.ID][e.What] = e
		kinds[e.What]++
		worst = max(worst, e.late())
		from := couldFire(e.Due, e.Fired, outages)
		if beyond := e.Fired.Sub(from); beyond > slaSlack || e.late() < -time.Second {
			v.fail("%s %s: %s due %s, could fire from %s, fired %s (%s late)", e.Kind, e.ID, e.What, e.Due.Format(time.TimeOnly),
				from.Format(time.TimeOnly), e.Fired.Format(time.TimeOnly), e.late())
		} else {
			worstBeyond = max(worstBeyond, beyond)
		}
		if smtp != nil && !e.Due.Before(smtp.Start.UTC()) && !e.Due.After(smtp.End.UTC()) {
			inOutage++
			worstOutage = max(worstOutage, e.late())
		}
	}
	// A warning still pending when its period ran out is folded into the
	// breach (the workflow sends no 75 % warning after the breach): it counts
	// as superseded when its breach fired in time.
	superseded := 0
	inq, apps := 0, 0
	for id, kind := range alone {
		want := []string{"reminder", "escalation"}
		if kind == "inquiry" {
			want = []string{"warning", "breach"}
			inq++
		} else {
			apps++
		}
		got := fired[id]
		if _, ok := got[want[1]]; !ok {
			v.fail("%s %s: no %s", kind, id, want[1])
			continue
		}
		if _, ok := got[want[0]]; !ok {
			if kind == "inquiry" {
				superseded++
			} else {
				v.fail("%s %s: no %s", kind, id, want[0])
			}
		}
	}
	v.count("%d untouched inquiries, %d applications", inq, apps)
	v.count("%d warnings (%d folded into a breach that fired in time), %d breaches, %d reminders, %d escalations",
		kinds["warning"], superseded, kinds["breach"], kinds["reminder"], kinds["escalation"])
	v.count("latest %s after due, %s after it could", worst.Round(10*time.Millisecond), worstBeyond.Round(10*time.Millisecond))
	v.count("%d due while SMTP was down, latest %s", inOutage, worstOutage.Round(10*time.Millisecond))
	if smtp != nil && inOutage == 0 {
		v.fail("no clock event was due while SMTP was down: the run proves nothing about it")
	}
	return v
}

// couldFire is when a clock due at due (and fired at fired) could fire: its
// due time, moved to the recovery of every outage that began while it was
// still pending and before it had slaSlack of up-time (outages stack: a
// worker restart's sticky grace running into a Temporal kill, say).
func couldFire(due, fired time.Time, outages []*fault) time.Time {
	from := due
	for changed := true; changed; {
		changed = false
		for _, f := range outages {
			back := f.Recovered.UTC()
			if strings.HasPrefix(f.Name, "worker") {
				back = back.Add(stickyGrace)
			}
			if !f.Start.UTC().After(from.Add(slaSlack)) && f.Start.UTC().Before(fired) && back.After(from) {
				from, changed = back, true
			}
		}
	}
	return from
}

// otherCodes lists the statuses other than 2xx and 503, e.g. "409×3".
func otherCodes(codes map[int]int) string {
	var out []string
	for c, n := range codes {
		if c >= 300 && c != 503 {
			out = append(out, fmt.Sprintf("%d×%d", c, n))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// clocksIn notes the clock events due during the fault's window and how
// late the latest fired.
func clocksIn(v *verdict, r *results) {
	f := v.Fault
	end := f.Recovered
	if end.IsZero() {
		end = f.End
	}
	n, worst := 0, time.Duration(0)
	for _, e := range r.sla {
		if !e.Due.Before(f.Start.UTC()) && !e.Due.After(end.UTC()) {
			n++
			worst = max(worst, e.late())
		}
	}
	v.count("%d SLA clock events due in the window, latest fired %s after due", n, worst.Round(10*time.Millisecond))
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

// markdown renders the summary table.
func markdown(rows []*verdict) string {
	var b strings.Builder
	b.WriteString("| fault / promise | what was checked | counts | result |\n|---|---|---|---|\n")
	for _, v := range rows {
		name := v.Name
		if v.Fault != nil {
			name = v.Fault.Name
			if len(v.Fault.Notes) > 0 {
				v.Counts = append(append([]string(nil), v.Fault.Notes...), v.Counts...)
			}
		}
		res := "ok"
		if len(v.Problems) > 0 {
			res = fmt.Sprintf("**%d problems**", len(v.Problems))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", esc(name), esc(v.Checked), esc(strings.Join(v.Counts, "; ")), res)
	}
	return b.String()
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
