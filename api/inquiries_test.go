package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
	"github.com/huntdesk/huntdesk/models"
)

var goodInquiry = map[string]any{"topic_url": "https://security.microsoft.com/machines/m1", "context": "Is this device compromised? Odd rundll32 activity.", "contact_email": "soc@alpha.example"}

func TestInquiryValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	for _, c := range []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{"topic_url": "ftp://x/alerts/1", "context": "short", "contact_email": "nope"}, []string{"topic_url", "context", "contact_email"}},
		{map[string]any{"topic_url": "/alerts/1", "context": strings.Repeat("x", 10001), "contact_email": "a@b.example"}, []string{"topic_url", "context"}},
		{map[string]any{"topic_url": "https://portal.example/alerts/1", "context": "Long enough context here.", "contact_email": "a@b.example", "topic_group": "gossip"}, []string{"topic_group"}},
	} {
		res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: c.body})
		code, fields := res.errorOf(t)
		if res.Status != 400 || code != models.EINVALID {
			t.Fatalf("%v: %d %s", c.body, res.Status, res.Body)
		}
		for _, want := range c.fields {
			if fields[want] == "" {
				t.Errorf("%q not named: %v", want, fields)
			}
		}
	}
	if r := f.do(request{method: "GET", path: "/api/v1/inquiries", token: f.as("manager")}); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("bad input created something: %s", r.Body)
	}
}

func TestInquirySubscriptionRules(t *testing.T) {
	f := newFixture(t, api.Config{})
	ctx := context.Background()
	// Org A is on a trial of 5 inquiries: the sixth is refused.
	for i := 0; i < 5; i++ {
		res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: goodInquiry})
		var q models.Inquiry
		res.json(t, &q)
		if res.Status != 201 || q.Subscription != models.PlanTrial || q.TopicKind != models.TopicDevice || q.TopicGroup == nil || *q.TopicGroup != models.GroupPossibleDeviceCompromise {
			t.Fatalf("inquiry %d: %d %s", i, res.Status, res.Body)
		}
	}
	res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: goodInquiry})
	if code, _ := res.errorOf(t); res.Status != 403 || code != models.ETRIALEXHAUSTED {
		t.Fatalf("beyond the allowance: %d %s", res.Status, res.Body)
	}
	// A trial past its end date.
	past, ten := time.Now().Add(-time.Hour), 10
	if _, err := f.db.UpdateOrg(ctx, models.System, f.orgA.ID, models.OrgInput{Subscription: &models.Subscription{Plan: models.PlanTrial, TrialEndsAt: &past, TrialAllowance: &ten}}); err != nil {
		t.Fatal(err)
	}
	res = f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: goodInquiry})
	if code, _ := res.errorOf(t); res.Status != 403 || code != models.ETRIALEXHAUSTED {
		t.Fatalf("after the trial's end: %d %s", res.Status, res.Body)
	}
	// No subscription at all.
	if _, err := f.db.UpdateOrg(ctx, models.System, f.orgA.ID, models.OrgInput{Subscription: &models.Subscription{Plan: models.PlanNone}}); err != nil {
		t.Fatal(err)
	}
	res = f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("customer_admin"), body: goodInquiry})
	if code, _ := res.errorOf(t); res.Status != 403 || code != models.ESUBSCRIPTION || !strings.Contains(string(res.Body), "account team") {
		t.Fatalf("no subscription: %d %s", res.Status, res.Body)
	}
}

func TestSamplesAreLimitedZippedAndNeverRaw(t *testing.T) {
	f := newFixture(t, api.Config{SampleMaxBytes: 1024})
	res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("admin_b"), body: goodInquiry})
	var q models.Inquiry
	res.json(t, &q)

	big, bigType := multipartFile(t, "file", "big.bin", bytes.Repeat([]byte{0x90}, 1025))
	r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/samples", token: f.as("admin_b"), body: big, header: map[string]string{"Content-Type": bigType}})
	if code, _ := r.errorOf(t); r.Status != http.StatusRequestEntityTooLarge || code != models.ETOOLARGE {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	huge, hugeType := multipartFile(t, "file", "huge.bin", bytes.Repeat([]byte{0x90}, 200<<10))
	if r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/samples", token: f.as("admin_b"), body: huge, header: map[string]string{"Content-Type": hugeType}}); r.Status != 413 {
		t.Fatalf("far over the limit: %d", r.Status)
	}
	if r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/samples", token: f.as("admin_b"), body: map[string]any{"file": "x"}}); r.Status != 415 {
		t.Fatalf("JSON instead of multipart: %d", r.Status)
	}
	other, otherType := multipartFile(t, "attachment", "x.bin", []byte("x"))
	if r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/samples", token: f.as("admin_b"), body: other, header: map[string]string{"Content-Type": otherType}}); r.Status != 400 {
		t.Fatalf("no part named file: %d %s", r.Status, r.Body)
	}
	data := []byte("MZ this would be a PE file")
	body, ct := multipartFile(t, "file", `..\..\evil".exe`, data)
	r = f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/samples", token: f.as("admin_b"), body: body, header: map[string]string{"Content-Type": ct}})
	var smp models.Sample
	r.json(t, &smp)
	if r.Status != 201 || smp.Size != int64(len(data)) || len(smp.SHA256) != 64 || smp.Filename != "evil.exe" {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	dl := f.do(request{method: "GET", path: "/api/v1/samples/" + smp.ID + "/download", token: f.as("expert")})
	if dl.Status != 200 || dl.Header.Get("Content-Type") != "application/zip" || bytes.Contains(dl.Body, data) {
		t.Fatalf("download: %d %s", dl.Status, dl.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(dl.Body), int64(len(dl.Body)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := zipcrypto.ReadFile(zr.File[0], "infected")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("zip content: %v", err)
	}
	audit := f.do(request{method: "GET", path: "/api/v1/audit?entity=inquiry&entity_id=" + q.ID, token: f.as("manager")})
	if !strings.Contains(string(audit.Body), "sample_downloaded") {
		t.Fatalf("downloads are audited: %s", audit.Body)
	}
}

func TestQueueOrderAndFilters(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	var ids []string
	for i := 0; i < 3; i++ {
		res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("admin_b"), body: goodInquiry})
		var q models.Inquiry
		res.json(t, &q)
		ids = append(ids, q.ID)
	}
	// Claim the second; report more_info on the third (paused: sorts last).
	f.do(request{method: "POST", path: "/api/v1/inquiries/" + ids[1] + "/claim", token: f.as("expert")})
	f.do(request{method: "POST", path: "/api/v1/inquiries/" + ids[2] + "/claim", token: f.as("expert")})
	f.do(request{method: "POST", path: "/api/v1/inquiries/" + ids[2] + "/reports", token: f.as("expert"), body: map[string]any{"category": "more_info_needed", "message": "Which user ran it?"}})

	list := func(query string) []string {
		res := f.do(request{method: "GET", path: "/api/v1/queue?" + query, token: f.as("expert")})
		var l models.List[models.Inquiry]
		res.json(t, &l)
		if res.Status != 200 {
			t.Fatalf("queue?%s: %d %s", query, res.Status, res.Body)
		}
		out := []string{}
		for _, q := range l.Items {
			out = append(out, q.ID)
		}
		return out
	}
	if got := strings.Join(list(""), ","); got != strings.Join(ids, ",") {
		t.Fatalf("queue by due time, paused last: %s", got)
	}
	if got := list("assignee=none"); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("unassigned: %v", got)
	}
	if got := list("assignee=me&status=in_progress"); len(got) != 1 || got[0] != ids[1] {
		t.Fatalf("mine, in progress: %v", got)
	}
	if got := list("status=awaiting_customer&org=" + f.orgB.ID); len(got) != 1 || got[0] != ids[2] {
		t.Fatalf("awaiting: %v", got)
	}
	if got := list("breached=true"); len(got) != 0 {
		t.Fatalf("breached: %v", got)
	}
	// Paging through the queue visits each once, in order.
	res := f.do(request{method: "GET", path: "/api/v1/queue?limit=2", token: f.as("expert")})
	var page models.List[models.Inquiry]
	res.json(t, &page)
	res = f.do(request{method: "GET", path: "/api/v1/queue?limit=2&cursor=" + page.NextCursor, token: f.as("expert")})
	var page2 models.List[models.Inquiry]
	res.json(t, &page2)
	if len(page.Items) != 2 || len(page2.Items) != 1 || page2.Items[0].ID != ids[2] || page2.NextCursor != "" {
		t.Fatalf("pages: %v / %v", page, page2)
	}
	for _, bad := range []string{"status=open", "breached=maybe", "topic_group=x"} {
		if r := f.do(request{method: "GET", path: "/api/v1/queue?" + bad, token: f.as("expert")}); r.Status != 400 {
			t.Fatalf("%s: %d", bad, r.Status)
		}
	}
	var q models.Inquiry
	f.do(request{method: "GET", path: "/api/v1/inquiries/" + ids[2], token: f.as("admin_b")}).json(t, &q)
	if !q.SLA.Paused || q.SLA.DueAt != nil || len(q.Reports) != 1 || q.Reports[0].Category != models.ReportMoreInfo {
		t.Fatalf("paused inquiry view: %+v", q)
	}
	f.do(request{method: "GET", path: "/api/v1/inquiries/" + ids[0], token: f.as("admin_b")}).json(t, &q)
	if q.SLA.Paused || q.SLA.TimeLeft == nil || q.SLA.DueAt == nil {
		t.Fatalf("running inquiry view: %+v", q.SLA)
	}
}

func TestReportAndAssignValidation(t *testing.T) {
	f := newFixture(t, api.Config{})
	res := f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("admin_b"), body: goodInquiry})
	var q models.Inquiry
	res.json(t, &q)
	r := f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/reports", token: f.as("manager"), body: map[string]any{"category": "gossip", "message": ""}})
	if code, fields := r.errorOf(t); r.Status != 400 || code != models.EINVALID || fields["category"] == "" || fields["message"] == "" {
		t.Fatalf("bad report: %d %s", r.Status, r.Body)
	}
	r = f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/assign", token: f.as("manager"), body: map[string]any{"user_id": f.users["customer_admin"].ID}})
	if _, fields := r.errorOf(t); r.Status != 400 || fields["user_id"] == "" {
		t.Fatalf("assign to a customer: %d %s", r.Status, r.Body)
	}
	r = f.do(request{method: "POST", path: "/api/v1/inquiries/" + q.ID + "/assign", token: f.as("manager"), body: map[string]any{}})
	if _, fields := r.errorOf(t); r.Status != 400 || fields["user_id"] == "" {
		t.Fatalf("assign to nobody: %d %s", r.Status, r.Body)
	}
}
