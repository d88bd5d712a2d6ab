// Package storetest opens a fresh, migrated database for a test: SQLite in a
// temp dir by default, PostgreSQL when DATABASE_URL is set (a schema of its
// own per test, dropped afterwards), so one suite runs on both.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for creating and dropping test schemas

	"github.com/huntdesk/huntdesk/internal/store"
)

// Open returns a migrated database that lives as long as the test.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	dsn := DSN(tb)
	db, err := store.Open(dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// DSN returns a fresh, empty database address for the test: a SQLite file in
// the test's temp dir, or a new schema on DATABASE_URL.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		return "sqlite:" + filepath.Join(tb.TempDir(), "huntdesk.db")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", base, err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema (is PostgreSQL up at DATABASE_URL?): %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
