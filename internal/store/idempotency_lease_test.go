package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// A holder that crashed mid-request never releases its key: the lease runs
// out and a retry of the same request takes the key over.
func TestIdempotencyLeaseIsTakenOverAfterItExpires(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	db.Now = func() time.Time { return now }
	if prev, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); prev != nil || err != nil {
		t.Fatalf("first use: %v %v", prev, err)
	}
	now = now.Add(store.IdempotencyLease - time.Second)
	if _, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("within the lease: %v", err)
	}
	now = now.Add(2 * time.Second)
	if _, err := db.BeginIdempotent(ctx, "u1", "k", "h2"); models.ErrorCode(err) != models.EIDEMPOTENCY {
		t.Fatalf("another request never takes a key over: %v", err)
	}
	if prev, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); prev != nil || err != nil {
		t.Fatalf("after the lease ran out the retry owns the key: %v %v", prev, err)
	}
	// The new holder has a fresh lease: a third attempt waits.
	if _, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("the taken-over key is leased again: %v", err)
	}
	if err := db.CompleteIdempotent(ctx, "u1", "k", 201, []byte(`{"id":"first"}`)); err != nil {
		t.Fatal(err)
	}
	// The holder that lost its lease finishes late: the first answer stands.
	if err := db.CompleteIdempotent(ctx, "u1", "k", 201, []byte(`{"id":"late"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.AbortIdempotent(ctx, "u1", "k"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	prev, err := db.BeginIdempotent(ctx, "u1", "k", "h1")
	if err != nil || prev == nil || prev.Status != 201 || string(prev.Body) != `{"id":"first"}` {
		t.Fatalf("a completed key replays its first answer however old its lease: %+v %v", prev, err)
	}
}
