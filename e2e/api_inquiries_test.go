package e2e

// Process B's HTTP API over the real services: internal/cases, the store and
// a real Temporal server running ExpertInquiryWorkflow. Expected results are
// SPEC.md's and the README's API section's, written here by hand.

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
)

const (
	sampleLimit = 1024 // bytes; HUNTDESK_SAMPLE_MAX_BYTES for this stack
	bodyLimit   = 4096 // bytes; HUNTDESK_MAX_BODY_BYTES for this stack
)

func TestAPIInquiriesOverRealServices(t *testing.T) {
	st, c := apiStack(t, func(cfg *devstack.Config) {
		cfg.API.SampleMaxBytes = sampleLimit
		cfg.API.MaxBodyBytes = bodyLimit
	})
	manager, expert := st.Tokens["manager@huntdesk.example"], st.Tokens["expert@huntdesk.example"]
	expertID, providerID := me(t, c, expert)

	t.Run("a customer's list shows its own org's inquiries only", func(t *testing.T) {
		c := c.on(t)
		a, b := newTenant(t, c, manager, nil), newTenant(t, c, manager, nil)
		mine := map[string]bool{ask(t, c, a.admin).ID: true, ask(t, c, a.admin).ID: true}
		theirs := ask(t, c, b.admin)
		list := func(token, query string) map[string]bool {
			var l struct {
				Items []apiInquiry
			}
			r := c.api("GET", "/api/v1/inquiries"+query, token, nil)
			r.decode(t, &l)
			if r.status != 200 {
				t.Fatalf("list%s: %d %s", query, r.status, r.body)
			}
			got := map[string]bool{}
			for _, q := range l.Items {
				got[q.ID] = true
			}
			return got
		}
		same := func(what string, got, want map[string]bool) {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", what, got, want)
			}
		}
		same("A's admin", list(a.admin, ""), mine)
		same("A's viewer", list(a.viewer, ""), mine)
		same("A's admin naming B's org", list(a.admin, "?org_id="+b.orgID), mine)
		same("A's admin naming B's org in the queue's spelling", list(a.admin, "?org="+b.orgID), mine)
		same("B's admin", list(b.admin, ""), map[string]bool{theirs.ID: true})
		same("staff, filtered to A", list(manager, "?org_id="+a.orgID), mine)
		// Another org's id answers exactly like a missing one.
		other, missing := c.api("GET", "/api/v1/inquiries/"+theirs.ID, a.admin, nil), c.api("GET", "/api/v1/inquiries/inq_0", a.admin, nil)
		if other.status != 404 || string(other.body[:bytes.Index(other.body, []byte(`"request_id"`))]) != string(missing.body[:bytes.Index(missing.body, []byte(`"request_id"`))]) {
			t.Errorf("another org's inquiry: %d %s; a missing one: %s", other.status, other.body, missing.body)
		}
	})

	t.Run("assign refuses a user who is not staff", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		q := ask(t, c, a.admin)
		disabledID, _ := newUser(t, c, manager, providerID, fmt.Sprintf("gone%d@huntdesk.example", time.Now().UnixNano()), "expert")
		if r := c.api("PATCH", "/api/v1/users/"+disabledID, manager, map[string]any{"disabled": true}); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		for what, id := range map[string]string{"the customer admin": a.adminID, "a customer viewer": a.viewerID, "no such user": "usr_0", "a disabled expert": disabledID} {
			r := c.api("POST", "/api/v1/inquiries/"+q.ID+"/assign", manager, map[string]any{"user_id": id})
			if r.status != 400 || r.code(t) != "invalid" || r.fields(t)["user_id"] == "" {
				t.Errorf("assign to %s: %d %s, want 400 naming user_id", what, r.status, r.body)
			}
		}
		got := step(t, c, "GET", "/api/v1/inquiries/"+q.ID, manager, nil, 200)
		if got.AssigneeID != nil || got.Status != "submitted" || len(got.Timeline) != 1 {
			t.Fatalf("refused assignments changed the inquiry: %+v", got)
		}
		got = step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/assign", manager, map[string]any{"user_id": expertID}, 200)
		if got.AssigneeID == nil || *got.AssigneeID != expertID || got.Status != "in_progress" {
			t.Fatalf("assign to the expert: %+v", got)
		}
	})

	t.Run("samples: empty refused, the size limit exact, zipped, never raw", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		q := ask(t, c, a.admin)
		path := "/api/v1/inquiries/" + q.ID + "/samples"
		send := func(name string, data []byte) hreply {
			body, ct := multipartBody(t, "file", name, data)
			return c.raw("POST", path, a.admin, ct, body)
		}
		if r := send("empty.bin", nil); r.status != 400 || r.fields(t)["file"] == "" {
			t.Errorf("an empty sample: %d %s, want 400 naming file", r.status, r.body)
		}
		if r := send("big.bin", bytes.Repeat([]byte{0x90}, sampleLimit+1)); r.status != 413 || r.code(t) != "too_large" {
			t.Errorf("limit+1 bytes: %d %s, want 413", r.status, r.body)
		}
		if r := send("huge.bin", bytes.Repeat([]byte{0x90}, 200<<10)); r.status != 413 {
			t.Errorf("far over the limit: %d, want 413", r.status)
		}
		if r := c.api("POST", path, a.admin, map[string]any{"file": "x"}); r.status != 415 {
			t.Errorf("JSON instead of multipart: %d", r.status)
		}
		if body, ct := multipartBody(t, "attachment", "x.bin", []byte("x")); c.raw("POST", path, a.admin, ct, body).status != 400 {
			t.Errorf("no part named file: not a 400")
		}
		if r := send("run\r\nBcc: x.ps1", []byte("x")); r.status != 400 || r.fields(t)["file"] == "" {
			t.Errorf("a file name with CR/LF: %d %s", r.status, r.body)
		}
		if got := step(t, c, "GET", "/api/v1/inquiries/"+q.ID, a.admin, nil, 200); len(got.Samples) != 0 || len(got.Timeline) != 1 {
			t.Fatalf("refused uploads left something: %+v", got)
		}

		// Exactly at the limit is accepted; the name loses its directories,
		// quotes and bidi controls.
		data := bytes.Repeat([]byte("MZ"), sampleLimit/2)
		r := send(`..\..\invoice`+"\u202E"+`fdp".exe`, data)
		var smp struct {
			ID, Filename, SHA256 string
			Size                 int
		}
		r.decode(t, &smp)
		if r.status != 201 || smp.Size != sampleLimit || smp.Filename != "invoicefdp.exe" || len(smp.SHA256) != 64 {
			t.Fatalf("limit bytes: %d %s, want 201 named invoicefdp.exe", r.status, r.body)
		}
		// A long name is cut between characters.
		r = send(strings.Repeat("é", 200)+".txt", []byte("x"))
		var long struct{ Filename string }
		r.decode(t, &long)
		if r.status != 201 || !utf8.ValidString(long.Filename) || len(long.Filename) > 255 || len(long.Filename) < 254 {
			t.Fatalf("a long name: %d %s", r.status, r.body)
		}

		if r := c.api("GET", "/api/v1/samples/"+smp.ID+"/download", a.admin, nil); r.status != 403 {
			t.Errorf("customers never download samples: %d", r.status)
		}
		dl := c.raw("GET", "/api/v1/samples/"+smp.ID+"/download", expert, "", nil)
		if dl.status != 200 || dl.header.Get("Content-Type") != "application/zip" || bytes.Contains(dl.body, data) {
			t.Fatalf("download: %d %v (the raw file must never be served)", dl.status, dl.header)
		}
		zr, err := zip.NewReader(bytes.NewReader(dl.body), int64(len(dl.body)))
		if err != nil || len(zr.File) != 1 {
			t.Fatalf("zip: %v", err)
		}
		if got, err := zipcrypto.ReadFile(zr.File[0], "infected"); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open with the password: %v", err)
		}
		var audit struct{ Items []struct{ Action string } }
		c.api("GET", "/api/v1/audit?entity=inquiry&entity_id="+q.ID, manager, nil).decode(t, &audit)
		if !strings.Contains(fmt.Sprint(audit.Items), "sample_downloaded") {
			t.Fatalf("downloads are audited: %+v", audit)
		}
	})

	t.Run("a JSON body exactly at the limit is read, one byte more is 413", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		body := []byte(`{"topic_url":"https://security.microsoft.com/incidents/7","context":"Twenty characters of context at least.","contact_email":"soc@tenant.example"}`)
		pad := func(n int) []byte {
			return append(append([]byte{}, body...), bytes.Repeat([]byte(" "), n-len(body))...)
		}
		if r := c.raw("POST", "/api/v1/inquiries", a.admin, "application/json", pad(bodyLimit)); r.status != 201 {
			t.Errorf("limit bytes: %d %s, want 201", r.status, r.body)
		}
		if r := c.raw("POST", "/api/v1/inquiries", a.admin, "application/json", pad(bodyLimit+1)); r.status != 413 || r.code(t) != "too_large" {
			t.Errorf("limit+1 bytes: %d %s, want 413", r.status, r.body)
		}
		var l struct{ Items []apiInquiry }
		c.api("GET", "/api/v1/inquiries", a.admin, nil).decode(t, &l)
		if len(l.Items) != 1 {
			t.Errorf("want the one accepted inquiry, got %d", len(l.Items))
		}
	})

	t.Run("the queue's keyset pages paused inquiries 2 + 1", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		want := map[string]bool{}
		for i := 0; i < 3; i++ {
			q := ask(t, c, a.admin)
			step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil, 200)
			q = step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "more_info_needed", "message": "Which user ran it?"}, 201)
			if q.Status != "awaiting_customer" || !q.SLA.Paused {
				t.Fatalf("paused: %+v", q)
			}
			want[q.ID] = true
		}
		// Paused inquiries share one queue key: only the id breaks the tie.
		type page struct {
			Items      []apiInquiry
			NextCursor string `json:"next_cursor"`
		}
		var p1, p2 page
		c.api("GET", "/api/v1/queue?limit=2&org="+a.orgID, expert, nil).decode(t, &p1)
		if len(p1.Items) != 2 || p1.NextCursor == "" {
			t.Fatalf("first page: %+v", p1)
		}
		c.api("GET", "/api/v1/queue?limit=2&org="+a.orgID+"&cursor="+url.QueryEscape(p1.NextCursor), expert, nil).decode(t, &p2)
		if len(p2.Items) != 1 || p2.NextCursor != "" {
			t.Fatalf("second page: %+v", p2)
		}
		seen := map[string]bool{}
		for _, q := range append(p1.Items, p2.Items...) {
			seen[q.ID] = true
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("pages visited %v, want each of %v once", seen, want)
		}
	})

	t.Run("the queue is ordered by due time, paused last, and filters", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, ask(t, c, a.admin).ID)
		}
		step(t, c, "POST", "/api/v1/inquiries/"+ids[1]+"/claim", expert, nil, 200)
		step(t, c, "POST", "/api/v1/inquiries/"+ids[2]+"/claim", expert, nil, 200)
		step(t, c, "POST", "/api/v1/inquiries/"+ids[2]+"/reports", expert, map[string]any{"category": "more_info_needed", "message": "Which user ran it?"}, 201)
		list := func(query string) string {
			var l struct{ Items []apiInquiry }
			r := c.api("GET", "/api/v1/queue?org="+a.orgID+query, expert, nil)
			r.decode(t, &l)
			if r.status != 200 {
				t.Fatalf("queue%s: %d %s", query, r.status, r.body)
			}
			var out []string
			for _, q := range l.Items {
				out = append(out, q.ID)
			}
			return strings.Join(out, ",")
		}
		for query, want := range map[string]string{
			"":                                ids[0] + "," + ids[1] + "," + ids[2],
			"&assignee=none":                  ids[0],
			"&assignee=me&status=in_progress": ids[1],
			"&status=awaiting_customer":       ids[2],
			"&breached=true":                  "",
		} {
			if got := list(query); got != want {
				t.Errorf("queue%s: %s, want %s", query, got, want)
			}
		}
		for _, bad := range []string{"status=open", "breached=maybe", "topic_group=x"} {
			if r := c.api("GET", "/api/v1/queue?"+bad, expert, nil); r.status != 400 {
				t.Errorf("%s: %d", bad, r.status)
			}
		}
	})

	t.Run("a 409 is not replayed: the retry after the conflict clears runs again", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		q := ask(t, c, a.admin)
		step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil, 200)
		path, answer := "/api/v1/inquiries/"+q.ID+"/responses", []byte(`{"message":"It was our backup job."}`)
		key := []string{"Idempotency-Key", "answer-" + q.ID}
		if r := c.raw("POST", path, a.admin, "application/json", answer, key...); r.status != 409 || r.code(t) != "invalid_state" {
			t.Fatalf("an answer before a question: %d %s", r.status, r.body)
		}
		step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "more_info_needed", "message": "Which job ran it?"}, 201)
		first := c.raw("POST", path, a.admin, "application/json", answer, key...)
		if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the retry once the question is asked: %d %s, want it run (201)", first.status, first.body)
		}
		again := c.raw("POST", path, a.admin, "application/json", answer, key...)
		if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, first.body) {
			t.Fatalf("a retry of the success replays it: %d %v %s", again.status, again.header, again.body)
		}
		got := step(t, c, "GET", "/api/v1/inquiries/"+q.ID, a.admin, nil, 200)
		if len(got.Responses) != 1 || got.Status != "in_progress" {
			t.Fatalf("one response, work resumed: %+v", got)
		}
	})

	t.Run("subscription: trial allowance and end, none", func(t *testing.T) {
		c := c.on(t)
		ends := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
		a := newTenant(t, c, manager, map[string]any{"plan": "trial", "trial_ends_at": ends, "trial_allowance": 2})
		for i := 0; i < 2; i++ {
			if q := ask(t, c, a.admin); q.Subscription != "trial" {
				t.Fatalf("a trial shows as such: %+v", q)
			}
		}
		body := map[string]any{"topic_url": "https://security.microsoft.com/machines/m1", "context": "Is this device compromised? Odd rundll32 activity.", "contact_email": "soc@tenant.example"}
		if r := c.api("POST", "/api/v1/inquiries", a.admin, body); r.status != 403 || r.code(t) != "trial_exhausted" {
			t.Fatalf("beyond the allowance: %d %s", r.status, r.body)
		}
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if r := c.api("PATCH", "/api/v1/orgs/"+a.orgID, manager, map[string]any{"subscription": map[string]any{"plan": "trial", "trial_ends_at": past, "trial_allowance": 10}}); r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		if r := c.api("POST", "/api/v1/inquiries", a.admin, body); r.status != 403 || r.code(t) != "trial_exhausted" {
			t.Fatalf("after the trial's end: %d %s", r.status, r.body)
		}
		if r := c.api("PATCH", "/api/v1/orgs/"+a.orgID, manager, map[string]any{"subscription": map[string]any{"plan": "none"}}); r.status != 200 {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		if r := c.api("POST", "/api/v1/inquiries", a.admin, body); r.status != 403 || r.code(t) != "subscription_required" || !strings.Contains(string(r.body), "account team") {
			t.Fatalf("no subscription: %d %s", r.status, r.body)
		}
	})

	t.Run("NUL in a text is a 400 naming the field, on every database", func(t *testing.T) {
		c := c.on(t)
		a := newTenant(t, c, manager, nil)
		r := c.api("POST", "/api/v1/inquiries", a.admin, map[string]any{"topic_url": "https://security.microsoft.com/alerts/1", "context": "Twenty characters\x00 of context at least.", "contact_email": "soc@tenant.example"})
		if r.status != 400 || r.fields(t)["context"] == "" {
			t.Fatalf("NUL in the context: %d %s", r.status, r.body)
		}
		q := ask(t, c, a.admin)
		step(t, c, "POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil, 200)
		if r := c.api("POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "more_info_needed", "message": "Which\x00 user?"}); r.status != 400 || r.fields(t)["message"] == "" {
			t.Fatalf("NUL in a report: %d %s", r.status, r.body)
		}
		if got := step(t, c, "GET", "/api/v1/inquiries/"+q.ID, a.admin, nil, 200); got.Status != "in_progress" || len(got.Reports) != 0 {
			t.Fatalf("a refused report changed the inquiry: %+v", got)
		}
	})
}
