package cases

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func uploading(userID string) int {
	uploads.Lock()
	defer uploads.Unlock()
	return uploads.n[userID]
}

// TestUploadsPerCallerAndQuota: a caller runs at most UploadsPerCaller
// uploads at once (429 rate_limited beyond), the slots come back, and an
// inquiry's count and byte quotas refuse with sample_quota_exceeded
// (issue 18, item 13). Nothing here reaches Temporal: every upload stops
// before its update.
func TestUploadsPerCallerAndQuota(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	name, devices := "Uploads", 5
	o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
	if err != nil {
		t.Fatal(err)
	}
	p := models.Principal{UserID: "usr_uploader", OrgID: o.ID, Role: models.RoleCustomerAdmin}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters at least, here.", ContactEmail: "a@example.com"}
	kind, _ := in.Validate()
	q, err := db.CreateInquiry(ctx, p, in, kind, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := &Inquiries{DB: db, UploadsPerCaller: 2}

	// Two uploads hang on their clients; a third is refused.
	var pipes []*io.PipeWriter
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		go func() { _, err := s.AddSampleStream(ctx, p, q.ID, "slow.bin", pr, 1<<20); done <- err }()
	}
	for uploading(p.UserID) < 2 { // synchronisation, not timing: wait until both hold a slot
		select {
		case err := <-done:
			t.Fatalf("an upload ended early: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := s.AddSampleStream(ctx, p, q.ID, "third.bin", bytes.NewReader([]byte("x")), 1<<20); models.ErrorCode(err) != models.ERATELIMITED {
		t.Fatalf("a third concurrent upload: %v; want rate_limited", err)
	}
	for _, pw := range pipes {
		pw.CloseWithError(errors.New("client went away"))
	}
	for i := 0; i < 2; i++ {
		if err := <-done; models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("an upload whose client went away: %v", err)
		}
	}
	if n := uploading(p.UserID); n != 0 {
		t.Fatalf("%d slots still held", n)
	}

	// Byte quota: 100 bytes per inquiry.
	s = &Inquiries{DB: db, SampleMaxCount: 1, SampleQuotaBytes: 100}
	_, err = s.AddSampleStream(ctx, p, q.ID, "big.bin", bytes.NewReader(make([]byte, 101)), 1<<20)
	var me *models.Error
	if !errors.As(err, &me) || me.Code != models.ETOOLARGE || !bytes.Contains([]byte(me.Fields["file"]), []byte("sample_quota_exceeded")) {
		t.Fatalf("over the byte quota: %v", err)
	}
	// Count quota: one sample per inquiry (stored, its update never sent).
	if _, err := db.DraftSample(ctx, p, q.ID, "one.bin", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddSampleStream(ctx, p, q.ID, "two.bin", bytes.NewReader([]byte("2")), 1<<20)
	if !errors.As(err, &me) || me.Code != models.ECONFLICT || !bytes.Contains([]byte(me.Fields["file"]), []byte("sample_quota_exceeded")) {
		t.Fatalf("over the count quota: %v", err)
	}
}

// TestIsRefusal: only the workflow's own refusal (a domain application
// error, or no workflow) lets a caller discard what it stored; anything that
// may follow a commit does not (issue 18, item 5).
func TestIsRefusal(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{temporal.NewNonRetryableApplicationError("the inquiry is already claimed", models.EINVALIDSTATE, nil), true},
		{temporal.NewNonRetryableApplicationError("only the assignee", models.EFORBIDDEN, nil), true},
		{serviceerror.NewNotFound("workflow not found"), true},
		{temporal.NewApplicationError("boom", "some.go.Type"), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{temporal.NewCanceledError(), false},
		{temporal.NewTimeoutError(0, nil), false},
		{serviceerror.NewUnavailable("down"), false},
		{errors.New("connection reset"), false},
	} {
		if got := isRefusal(c.err); got != c.want {
			t.Errorf("isRefusal(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
