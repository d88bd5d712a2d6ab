// Package store keeps huntdesk's state in SQL through GORM: PostgreSQL in
// production, SQLite for the embedded dev stack and tests. Schema changes are
// versioned goose migrations (migrations/) that run unchanged on both.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/huntdesk/huntdesk/models"

	_ "modernc.org/sqlite" // registers database/sql driver "sqlite" (the one the Temporal server links too)
)

// DB is huntdesk's database.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string // "sqlite" or "postgres"

	// Now is the clock; tests may replace it. Times are UTC, truncated to
	// microseconds so both databases round-trip them exactly.
	Now func() time.Time
}

// Open connects to dsn: "postgres://…" (or "postgresql://…") for PostgreSQL,
// "sqlite:PATH" or a bare file path for SQLite. It does not migrate.
func Open(dsn string) (*DB, error) {
	db := &DB{Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	var dial gorm.Dialector
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db.dialect = "postgres"
		dial = postgres.Open(dsn)
	default:
		db.dialect = "sqlite"
		path := strings.TrimPrefix(dsn, "sqlite:")
		// WAL lets readers run beside the writer; IMMEDIATE transactions take
		// the write lock up front so two writers queue (busy_timeout) instead
		// of failing with SQLITE_BUSY on lock upgrade.
		q := url.Values{}
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(normal)")
		q.Set("_txlock", "immediate")
		conn, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		dial = sqlite.Dialector{DriverName: "sqlite", Conn: conn}
	}
	g, err := gorm.Open(dial, &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                db.Now,
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", db.dialect, err)
	}
	if db.sql, err = g.DB(); err != nil {
		return nil, err
	}
	if db.dialect == "sqlite" {
		db.sql.SetMaxOpenConns(4)
	} else {
		// Keep as many idle connections as may be open: database/sql keeps
		// only 2 by default, so under load each burst closed connections
		// and opened new ones (a PostgreSQL backend each, and every
		// statement prepared again) — found by huntdesk bench.
		db.sql.SetMaxOpenConns(20)
		db.sql.SetMaxIdleConns(20)
		db.sql.SetConnMaxIdleTime(5 * time.Minute)
	}
	db.gorm = g
	return db, nil
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// Gorm exposes the GORM handle for packages that add their own tables in
// later migrations.
func (db *DB) Gorm() *gorm.DB { return db.gorm }

// tx runs fn in a transaction.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return mapErr(db.gorm.WithContext(ctx).Transaction(fn))
}

// forUpdate makes tx's next SELECT lock the rows it reads until the
// transaction ends (SELECT … FOR UPDATE) on PostgreSQL. SQLite has no row
// locks and needs none: its transactions are serialised by the write lock.
func (db *DB) forUpdate(tx *gorm.DB) *gorm.DB {
	if db.dialect == "postgres" {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// newID returns a prefixed, time-ordered id: ordering by id is ordering by
// creation, which keyset pagination relies on.
func newID(prefix string) string {
	return prefix + "_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// NewID returns a new id for kind (e.g. "app"); exported for processes whose
// ids are chosen before their row exists (workflow ids derive from them).
func NewID(prefix string) string { return newID(prefix) }

func unavailable(err error) error {
	slog.Error("database unavailable", "err", err)
	return &models.Error{Code: models.EUNAVAILABLE, Message: "database unavailable"}
}

// mapErr turns driver errors into domain errors where they have a meaning for
// the caller; anything else stays internal.
func mapErr(err error) error {
	var me *models.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.NotFound("record")
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return models.Errorf(models.ECONFLICT, "already exists")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	if isConnErr(err) {
		return unavailable(err)
	}
	return err
}

func isConnErr(err error) bool {
	// What PostgreSQL says when it goes away under a session: the server is
	// shutting down or restarting (class 57P: admin_shutdown, crash_shutdown,
	// cannot_connect_now) or the connection failed (class 08).
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "57P") || strings.HasPrefix(pg.Code, "08")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	s := err.Error()
	for _, m := range []string{"connection refused", "bad connection", "broken pipe", "connection reset", "failed to connect", "database is closed",
		"sql: database is closed", "conn closed", "unexpected EOF"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// IsConnLoss reports whether err is the database going away (refused,
// reset, terminated by a restarting server): an outage worth a retry, not a
// bug. The API answers such an error 503 wherever it comes from.
func IsConnLoss(err error) bool { return err != nil && isConnErr(err) }
