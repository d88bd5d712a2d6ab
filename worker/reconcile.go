package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/store"
)

// ReconcileEvery is how often the worker looks for recorded workflow starts
// that no process finished (issue 18, item 1).
const ReconcileEvery = 30 * time.Second

// ReconcileOnce starts every case whose workflow start was recorded with its
// row but never marked started: the API process died between the row and the
// start, or the start's answer never came. Starts carry the recorded input,
// and a workflow already running (or already closed) counts as started, so
// running it on every worker at once is safe.
func ReconcileOnce(ctx context.Context, db *store.DB, c client.Client) (int, error) {
	total := 0
	for {
		n, err := cases.StartPending(ctx, db, c, 100)
		total += n
		if err != nil || n < 100 {
			return total, err
		}
	}
}

// Reconcile runs ReconcileOnce now and then every interval until ctx ends.
func Reconcile(ctx context.Context, db *store.DB, c client.Client, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := ReconcileOnce(ctx, db, c)
		if err != nil && ctx.Err() == nil {
			slog.Warn("reconcile workflow starts", "started", n, "err", err)
		} else if n > 0 {
			slog.Info("reconciled workflow starts", "started", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
