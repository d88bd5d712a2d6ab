package devtemporal

import (
	"bytes"
	"crypto/md5" // #nosec G501: the manifest checksum Temporal's schema tool records, not security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	dbschemas "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
)

// PostgreSQL persistence: the server's postgres12 plugin (on pgx, the driver
// huntdesk uses) with two databases, the history store and its visibility
// store "<name>_visibility". Both are created when missing and brought to the
// schema this server version expects, the way Temporal's temporal-sql-tool
// does it (setup-schema -v 0.0, then update-schema over the versioned
// directories embedded in go.temporal.io/server/schema), so an upgrade of
// go.temporal.io/server applies its new schema versions on the next start.

// postgresConfigs turns postgres://user:pass@host:port/name?k=v into the
// configs of the main and visibility databases.
func postgresConfigs(rawURL string) (main, vis *config.SQL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, nil, fmt.Errorf("devtemporal: %q is not a postgres:// URL", redact(rawURL))
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = "temporal"
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	attrs := map[string]string{}
	for k, v := range u.Query() {
		attrs[k] = v[len(v)-1]
	}
	if attrs["sslmode"] == "" {
		attrs["sslmode"] = "disable"
	}
	pass, _ := u.User.Password()
	base := config.SQL{
		PluginName:      pgplugin.PluginNamePGX,
		User:            u.User.Username(),
		Password:        pass,
		ConnectAddr:     net.JoinHostPort(host, port),
		ConnectProtocol: "tcp",
		// Every service of the single node (frontend, history, matching,
		// worker) opens its own pools, main and visibility: a few
		// connections each is plenty, and PostgreSQL's default of 100
		// connections is shared with huntdesk.
		MaxConns:          8,
		MaxIdleConns:      4,
		ConnectAttributes: attrs,
	}
	m, v := base, base
	m.DatabaseName, v.DatabaseName = name, name+"_visibility"
	m.ConnectAttributes, v.ConnectAttributes = clone(attrs), clone(attrs)
	return &m, &v, nil
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// redact hides a URL's password in messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// setupPostgres creates both databases if missing and applies the schema
// versions each lacks.
func setupPostgres(main, vis *config.SQL) error {
	for _, db := range []struct {
		cfg     *config.SQL
		kind    sqlplugin.DbKind
		dir     string
		version string
	}{
		{main, sqlplugin.DbKindMain, "postgresql/v12/temporal/versioned", pgschema.Version},
		{vis, sqlplugin.DbKindVisibility, "postgresql/v12/visibility/versioned", pgschema.VisibilityVersion},
	} {
		if err := createDatabase(db.cfg); err != nil {
			return fmt.Errorf("devtemporal: create database %s: %w", db.cfg.DatabaseName, err)
		}
		if err := updateSchema(db.cfg, db.kind, db.dir, db.version); err != nil {
			return fmt.Errorf("devtemporal: schema of %s: %w", db.cfg.DatabaseName, err)
		}
	}
	return nil
}

func adminDB(cfg *config.SQL, kind sqlplugin.DbKind) (sqlplugin.AdminDB, error) {
	return sql.NewSQLAdminDB(kind, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
}

// createDatabase creates cfg's database through the server's default one
// ("postgres"); an existing database is left alone.
func createDatabase(cfg *config.SQL) error {
	admin := *cfg
	admin.DatabaseName = "" // the plugin then connects to a default database
	db, err := adminDB(&admin, sqlplugin.DbKindUnknown)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.CreateDatabase(cfg.DatabaseName)
}

// manifest is a schema version directory's manifest.json.
type manifest struct {
	CurrVersion          string
	MinCompatibleVersion string
	Description          string
	SchemaUpdateCqlFiles []string
	AllowNoCqlFiles      bool
}

// updateSchema brings cfg's database from its recorded schema version (0.0
// when new) to want, one versioned directory at a time, recording each in
// schema_version and schema_update_history as temporal-sql-tool does.
func updateSchema(cfg *config.SQL, kind sqlplugin.DbKind, dir, want string) error {
	db, err := adminDB(cfg, kind)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.CreateSchemaVersionTables(); err != nil {
		return err
	}
	cur, err := db.ReadSchemaVersion(cfg.DatabaseName)
	if err != nil || cur == "" {
		cur = "0.0" // no row yet: a new database
	}
	fsys := dbschemas.Assets()
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	var versions []string
	for _, e := range entries {
		if v := strings.TrimPrefix(e.Name(), "v"); e.IsDir() && v != e.Name() && versionLess(cur, v) {
			versions = append(versions, v)
		}
	}
	slices.SortFunc(versions, func(a, b string) int {
		if versionLess(a, b) {
			return -1
		}
		return 1
	})
	for _, v := range versions {
		raw, err := fs.ReadFile(fsys, path.Join(dir, "v"+v, "manifest.json"))
		if err != nil {
			return err
		}
		var m manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("v%s/manifest.json: %w", v, err)
		}
		for _, f := range m.SchemaUpdateCqlFiles {
			b, err := fs.ReadFile(fsys, path.Join(dir, "v"+v, f))
			if err != nil {
				return err
			}
			stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(b)})
			if err != nil {
				return fmt.Errorf("v%s/%s: %w", v, f, err)
			}
			for _, s := range stmts {
				if err := db.Exec(s); err != nil {
					return fmt.Errorf("v%s/%s: %w", v, f, err)
				}
			}
		}
		if err := db.UpdateSchemaVersion(cfg.DatabaseName, m.CurrVersion, m.MinCompatibleVersion); err != nil {
			return err
		}
		sum := md5.Sum(raw) // #nosec G401
		if err := db.WriteSchemaUpdateLog(cur, m.CurrVersion, hex.EncodeToString(sum[:]), m.Description); err != nil {
			return err
		}
		cur = m.CurrVersion
	}
	if cur != want && versionLess(cur, want) {
		return fmt.Errorf("schema is at %s after the update, the server needs %s", cur, want)
	}
	return nil
}

// versionLess compares "major.minor" versions numerically (1.9 < 1.10).
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	return slices.Compare(pa, pb) < 0
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return append(out, -1)
		}
		out = append(out, n)
	}
	return out
}

var errBothStores = errors.New("devtemporal: set DatabaseFile or PostgresURL, not both")
