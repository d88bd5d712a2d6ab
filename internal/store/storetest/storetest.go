// Package storetest opens a fresh, migrated database for a test: SQLite in a
// temp dir by default, PostgreSQL when DATABASE_URL is set (a schema of its
// own per test, dropped afterwards), so one suite runs on both.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// Dump hashes every row of every table, so a test can tell whether
// anything at all changed: compare a Dump before and after.
func Dump(t testing.TB, db *store.DB) map[string]string {
	t.Helper()
	sqlDB, err := db.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Dialect() == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	names := []string{}
	rows, err := sqlDB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, n := range names {
		out[n] = hashTable(t, sqlDB, n)
	}
	return out
}

func hashTable(t testing.TB, db *sql.DB, table string) string {
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%v", vals))
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(h[:8]))
}
