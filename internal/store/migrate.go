package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every pending migration. On PostgreSQL a session lock keeps
// two processes starting at once from migrating twice.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		slog.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrationStatus lists each migration with whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]*goose.MigrationStatus, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	return p.Status(ctx)
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithGoMigrations(goMigrations(db.dialect)...)}
	if db.dialect == "postgres" {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.sql, sub, opts...)
}

// goMigrations are the few schema steps whose SQL differs per dialect.
func goMigrations(dialect string) []*goose.Migration {
	exec := func(stmts map[string][]string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			for _, s := range stmts[dialect] {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return []*goose.Migration{
		// 2: the audit log is append-only, enforced by the database itself.
		goose.NewGoMigration(2,
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite": {
					`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
					`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
				},
				"postgres": {
					`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
					`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
				},
			})},
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite":   {`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`},
				"postgres": {`DROP TRIGGER audit_log_no_change ON audit_log`, `DROP FUNCTION audit_log_append_only()`},
			})},
		),
		// 5: sample bytes, apart from their metadata so listing stays light.
		// The binary type is the one word the dialects disagree on.
		goose.NewGoMigration(5,
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite":   {`CREATE TABLE sample_blobs (sample_id TEXT PRIMARY KEY REFERENCES samples (id), data BLOB NOT NULL)`},
				"postgres": {`CREATE TABLE sample_blobs (sample_id TEXT PRIMARY KEY REFERENCES samples (id), data BYTEA NOT NULL)`},
			})},
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite": {`DROP TABLE sample_blobs`}, "postgres": {`DROP TABLE sample_blobs`},
			})},
		),
		// 11: (numbered apart from 6–9, which branches working in parallel
		// may take) sample bytes in chunks, written as the upload streams in, so an
		// upload never sits whole in memory; complete is false until the
		// last chunk and the SHA-256 are written. Samples stored before
		// (sample_blobs) are complete.
		goose.NewGoMigration(11,
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite": {
					`CREATE TABLE sample_chunks (sample_id TEXT NOT NULL REFERENCES samples (id), seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (sample_id, seq))`,
					`ALTER TABLE samples ADD COLUMN complete BOOLEAN NOT NULL DEFAULT TRUE`,
				},
				"postgres": {
					`CREATE TABLE sample_chunks (sample_id TEXT NOT NULL REFERENCES samples (id), seq INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (sample_id, seq))`,
					`ALTER TABLE samples ADD COLUMN complete BOOLEAN NOT NULL DEFAULT TRUE`,
				},
			})},
			&goose.GoFunc{RunTx: exec(map[string][]string{
				"sqlite":   {`DROP TABLE sample_chunks`, `ALTER TABLE samples DROP COLUMN complete`},
				"postgres": {`DROP TABLE sample_chunks`, `ALTER TABLE samples DROP COLUMN complete`},
			})},
		),
	}
}
