package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
)

// IdempotencyKeyTTL is how long a create's Idempotency-Key is remembered: far
// longer than any client retries, short enough that the table stays small.
const IdempotencyKeyTTL = 24 * time.Hour

// AbandonedAfter is how long a draft text or sample that no workflow took is
// kept before housekeeping removes it: far longer than any update's commit.
const AbandonedAfter = 24 * time.Hour

// Housekeeping purges expired idempotency keys, and drafts and samples no
// workflow took, every interval until ctx ends. Every worker may run it: the
// deletes are idempotent.
func Housekeeping(ctx context.Context, db *store.DB, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := db.PurgeIdempotent(ctx, time.Now().Add(-IdempotencyKeyTTL))
		if err != nil && ctx.Err() == nil {
			slog.Warn("purge idempotency keys", "err", err)
		} else if n > 0 {
			slog.Info("purged idempotency keys", "count", n)
		}
		if d, n, err := db.PurgeAbandoned(ctx, time.Now().Add(-AbandonedAfter)); err != nil && ctx.Err() == nil {
			slog.Warn("purge abandoned drafts and samples", "err", err)
		} else if d+n > 0 {
			slog.Info("purged abandoned drafts and samples", "drafts", d, "samples", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
