package store_test

// The cleanup paths that only run when something goes wrong (a refused
// command, a workflow that could not start, an email that could not be
// sent), tested directly against the real store. Each deletes or marks what
// it is given and nothing else.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

type cleanupFixture struct {
	db         *store.DB
	a, b       models.Principal // customer admins of two orgs
	orgA, orgB string
}

func newCleanupFixture(t *testing.T) cleanupFixture {
	t.Helper()
	db := storetest.Open(t)
	ctx := context.Background()
	f := cleanupFixture{db: db}
	for i, name := range []string{"Alpha", "Bravo"} {
		n, devices := name, 5
		o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &n, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: o.ID, Email: strings.ToLower(name) + "@test.example", Name: name, Role: models.RoleCustomerAdmin})
		if err != nil {
			t.Fatal(err)
		}
		p := models.Principal{UserID: u.ID, OrgID: o.ID, Email: u.Email, Role: u.Role}
		if i == 0 {
			f.a, f.orgA = p, o.ID
		} else {
			f.b, f.orgB = p, o.ID
		}
	}
	return f
}

func (f cleanupFixture) inquiry(t *testing.T, p models.Principal) *models.Inquiry {
	t.Helper()
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Is this PowerShell command line malicious?", ContactEmail: "soc@test.example"}
	kind, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.db.CreateInquiry(context.Background(), p, in, kind, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (f cleanupFixture) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Gorm().Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (f cleanupFixture) auditActions(t *testing.T, entity, id string) string {
	t.Helper()
	tl, err := f.db.Timeline(context.Background(), entity, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		out = append(out, e.Action)
	}
	return strings.Join(out, ",")
}

func TestDiscardDraftDeletesThatDraftOnly(t *testing.T) {
	f := newCleanupFixture(t)
	ctx := context.Background()
	q := f.inquiry(t, f.a)
	refused, err := f.db.DraftMessage(ctx, f.a, q.ID, "response", "", "refused text")
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.db.DraftMessage(ctx, f.a, q.ID, "response", "", "another draft")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.DiscardDraft(ctx, refused); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Message(ctx, refused); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the discarded draft is still there: %v", err)
	}
	if body, err := f.db.Message(ctx, other); err != nil || body != "another draft" {
		t.Fatalf("another draft was touched: %q %v", body, err)
	}
	// Discarding again, or an unknown id, is not an error: the cleanup may be retried.
	if err := f.db.DiscardDraft(ctx, refused); err != nil {
		t.Fatalf("discard twice: %v", err)
	}
	if err := f.db.DiscardDraft(ctx, "msg_0"); err != nil {
		t.Fatalf("discard an unknown id: %v", err)
	}
}

func TestDiscardSampleDeletesThatSampleOnly(t *testing.T) {
	f := newCleanupFixture(t)
	ctx := context.Background()
	q := f.inquiry(t, f.a)
	refused, err := f.db.DraftSample(ctx, f.a, q.ID, "refused.bin", []byte("refused"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.db.DraftSample(ctx, f.a, q.ID, "other.bin", []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	// An attached sample of the same inquiry.
	kept, err := f.db.DraftSample(ctx, f.a, q.ID, "kept.bin", []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: "k-attach", Action: "sample_added", Actor: f.a, At: time.Now(), Status: q.Status, DueAt: *q.DueAt, SampleID: kept.ID}); err != nil {
		t.Fatal(err)
	}

	if err := f.db.DiscardSample(ctx, refused.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "samples", "id = ?", refused.ID) + f.count(t, "sample_chunks", "sample_id = ?", refused.ID) + f.count(t, "sample_blobs", "sample_id = ?", refused.ID); n != 0 {
		t.Fatalf("the discarded sample left %d rows", n)
	}
	if n := f.count(t, "samples", "id = ?", other.ID) + f.count(t, "sample_chunks", "sample_id = ?", other.ID); n != 2 {
		t.Fatalf("another draft sample lost rows: %d of 2", n)
	}
	if smp, data, err := f.db.SampleData(ctx, "", kept.ID); err != nil || string(data) != "kept" || smp.Filename != "kept.bin" {
		t.Fatalf("the attached sample: %+v %q %v", smp, data, err)
	}
	if err := f.db.DiscardSample(ctx, refused.ID); err != nil {
		t.Fatalf("discard twice: %v", err)
	}
}

func TestAbortInquiryDeletesThatInquiryOnly(t *testing.T) {
	f := newCleanupFixture(t)
	ctx := context.Background()
	stranded, keptA, keptB := f.inquiry(t, f.a), f.inquiry(t, f.a), f.inquiry(t, f.b)
	if err := f.db.AbortInquiry(ctx, stranded.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Inquiry(ctx, "", stranded.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the aborted inquiry is still there: %v", err)
	}
	if got := f.auditActions(t, "inquiry", stranded.ID); !strings.HasSuffix(got, "submission_aborted") {
		t.Fatalf("the abort is audited: %q", got)
	}
	for _, q := range []*models.Inquiry{keptA, keptB} {
		if got, err := f.db.Inquiry(ctx, "", q.ID); err != nil || got.Status != models.InquirySubmitted {
			t.Fatalf("another inquiry was touched: %+v %v", got, err)
		}
		if got := f.auditActions(t, "inquiry", q.ID); strings.Contains(got, "aborted") {
			t.Fatalf("another inquiry's audit: %q", got)
		}
	}
	if err := f.db.AbortInquiry(ctx, "inq_0"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("abort an unknown inquiry: %v", err)
	}
}

func TestAbortApplicationDeletesThatApplicationOnly(t *testing.T) {
	f := newCleanupFixture(t)
	ctx := context.Background()
	yes := true
	apply := func(p models.Principal) *models.Application {
		app, created, err := f.db.CreateApplication(ctx, p, models.ApplicationInput{ContactName: "C", ContactEmail: "c@test.example", AcceptPrivacyStatement: &yes}, 24*time.Hour)
		if err != nil || !created {
			t.Fatalf("apply: %v %v", created, err)
		}
		return app
	}
	stranded, kept := apply(f.a), apply(f.b)
	if err := f.db.AbortApplication(ctx, stranded.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Application(ctx, "", stranded.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the aborted application is still there: %v", err)
	}
	if got := f.auditActions(t, "application", stranded.ID); !strings.HasSuffix(got, "submission_aborted") {
		t.Fatalf("the abort is audited: %q", got)
	}
	// Its org is back to not applied, and may apply again.
	if o, err := f.db.Org(ctx, "", f.orgA); err != nil || o.EANState != models.FeatureNotApplied || o.EANApplicationID != nil {
		t.Fatalf("the org after the abort: %+v %v", o, err)
	}
	apply(f.a)
	// The other org's application and state are untouched.
	if got, err := f.db.Application(ctx, "", kept.ID); err != nil || got.Status != models.ApplicationSubmitted {
		t.Fatalf("another application was touched: %+v %v", got, err)
	}
	if o, err := f.db.Org(ctx, "", f.orgB); err != nil || o.EANState != models.FeatureApplied || o.EANApplicationID == nil || *o.EANApplicationID != kept.ID {
		t.Fatalf("another org's state was touched: %+v %v", o, err)
	}
	if err := f.db.AbortApplication(ctx, "app_0"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("abort an unknown application: %v", err)
	}
}

func TestOutboxMarkFailedMarksThatEmailOnly(t *testing.T) {
	f := newCleanupFixture(t)
	ctx := context.Background()
	o := f.db.Outbox()
	for _, id := range []string{"<failing@test>", "<pending@test>", "<sent@test>"} {
		if sent, err := o.Reserve(ctx, mail.OutboxEntry{MessageID: id, Entity: "inquiry", Event: "e", To: []string{"a@test.example"}, Subject: "s", Text: "t"}); err != nil || sent {
			t.Fatalf("reserve %s: %v %v", id, sent, err)
		}
	}
	if err := o.MarkSent(ctx, "<sent@test>", time.Now()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 5000)
	for _, id := range []string{"<failing@test>", "<sent@test>"} {
		if err := o.MarkFailed(ctx, id, "550 mailbox unavailable "+long); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.MarkFailed(ctx, "<unknown@test>", "x"); err != nil {
		t.Fatalf("mark an unknown message: %v", err)
	}
	entries, err := o.Entries(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.OutboxEntry{}
	for _, e := range entries {
		got[e.MessageID] = e
	}
	if len(got) != 3 {
		t.Fatalf("entries: %+v", entries)
	}
	if e := got["<failing@test>"]; e.Status != "failed" || e.Attempts != 1 || !strings.HasPrefix(e.LastError, "550 mailbox unavailable") || len(e.LastError) > 1000 || e.SentAt != nil {
		t.Fatalf("the failed email: %+v", e)
	}
	if e := got["<pending@test>"]; e.Status != "pending" || e.Attempts != 0 || e.LastError != "" {
		t.Fatalf("another email was touched: %+v", e)
	}
	// A late failure report never makes a delivered email look undelivered.
	if e := got["<sent@test>"]; e.Status != "sent" || e.LastError != "" || e.SentAt == nil {
		t.Fatalf("the sent email: %+v", e)
	}
	if sent, err := o.Reserve(ctx, mail.OutboxEntry{MessageID: "<sent@test>"}); err != nil || !sent {
		t.Fatalf("a sent email reserved again: %v %v", sent, err)
	}
}
