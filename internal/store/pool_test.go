package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/huntdesk/huntdesk/internal/store/storetest"
)

// After a burst of concurrent queries the pool keeps its connections for
// the next burst instead of closing all but two (database/sql's default),
// which made every burst open PostgreSQL backends and prepare its
// statements again (found by huntdesk bench).
func TestPoolKeepsItsConnectionsBetweenBursts(t *testing.T) {
	db := storetest.Open(t)
	if db.Dialect() != "postgres" {
		t.Skip("SQLite's pool is 4 connections to one file; the burst matters on PostgreSQL")
	}
	sqlDB, err := db.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 12 {
		wg.Go(func() {
			<-start
			if _, err := sqlDB.ExecContext(context.Background(), "SELECT pg_sleep(0.05)"); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if idle := sqlDB.Stats().Idle; idle < 12 {
		t.Fatalf("%d idle connections after a burst of 12, want 12", idle)
	}
}
