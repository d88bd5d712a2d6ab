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

// Housekeeping purges expired idempotency keys every interval until ctx ends.
// Every worker may run it: the delete is idempotent.
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
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
