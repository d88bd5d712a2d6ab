package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func TestIdempotencyKeys(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if prev, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); prev != nil || err != nil {
		t.Fatalf("first use: %v %v", prev, err)
	}
	if _, err := db.BeginIdempotent(ctx, "u1", "k", "h1"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("while in progress: %v", err)
	}
	if err := db.CompleteIdempotent(ctx, "u1", "k", 201, []byte(`{"id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	prev, err := db.BeginIdempotent(ctx, "u1", "k", "h1")
	if err != nil || prev == nil || prev.Status != 201 || string(prev.Body) != `{"id":"x"}` {
		t.Fatalf("replay: %+v %v", prev, err)
	}
	if _, err := db.BeginIdempotent(ctx, "u1", "k", "h2"); models.ErrorCode(err) != models.EIDEMPOTENCY {
		t.Fatalf("another body: %v", err)
	}
	if prev, err := db.BeginIdempotent(ctx, "u2", "k", "h2"); prev != nil || err != nil {
		t.Fatalf("keys are per caller: %v %v", prev, err)
	}
	if err := db.AbortIdempotent(ctx, "u2", "k"); err != nil {
		t.Fatal(err)
	}
	if prev, err := db.BeginIdempotent(ctx, "u2", "k", "h3"); prev != nil || err != nil {
		t.Fatalf("an aborted key is free again: %v %v", prev, err)
	}
	n, err := db.PurgeIdempotent(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
}
