// Package devtemporal embeds a Temporal server in the huntdesk process for
// `huntdesk dev`, `huntdesk temporal` and the end-to-end tests: the real
// go.temporal.io/server on a SQLite file or on PostgreSQL (so workflows
// survive a restart), its gRPC frontend on an address the temporal CLI can
// attach to, and optionally Temporal's Web UI.
//
// It is a single-node server: one process, every Temporal service in it.
// `huntdesk temporal` on PostgreSQL is fine for a single-node install; a
// real cluster (several history hosts, Elasticsearch visibility) is deployed
// from Temporal's own images (deploy/docker-compose.yml).
//
// A SQLite file is tied to the Temporal server version that created it: its
// schema is only set up when the file is new, so after an upgrade of
// go.temporal.io/server that changes the SQLite schema, delete the file.
// PostgreSQL databases are brought to the server's schema on every start.
package devtemporal

import (
	"errors"
	"fmt"
	"go.temporal.io/api/enums/v1"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// DefaultFrontendAddr is where the temporal CLI looks for a server by default.
const DefaultFrontendAddr = "127.0.0.1:7233"

// clusterName names the one cluster; it is stored in the database with every
// namespace, so it must never change.
const clusterName = "active"

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file holding all Temporal state. It is
	// created, with its schema, on the first start and reused afterwards.
	DatabaseFile string
	// PostgresURL (postgres://user:pass@host:port/name?sslmode=…), instead
	// of DatabaseFile, keeps the state in PostgreSQL: the database name
	// (default "temporal") and name_visibility, both created if missing and
	// brought to this server's schema on every start.
	PostgresURL string
	// FrontendAddr is the gRPC frontend's host:port; "" means
	// DefaultFrontendAddr and port 0 picks a free port. The host must be an
	// IP address ("localhost" is taken as 127.0.0.1) because the server binds
	// to IPs only.
	FrontendAddr string
	// UIAddr is the Web UI's host:port; "" disables the UI and port 0 picks a
	// free port.
	UIAddr string
	// Namespace is registered if missing; "" means "default".
	Namespace string
	// SearchAttributes are registered with a namespace this start creates,
	// so they are there before the first workflow runs (registering them
	// later takes the server's namespace cache a few seconds to see).
	SearchAttributes map[string]enums.IndexedValueType
	// Logger receives the server's logs (nil means slog.Default()).
	Logger *slog.Logger
	// LogLevel drops server logs below it; nil means slog.LevelWarn, since
	// the server logs a lot at Info. A *slog.LevelVar changes it while the
	// server runs.
	LogLevel slog.Leveler
}

// Server is a running embedded Temporal server.
type Server struct {
	srv       temporal.Server
	ui        *uiServer
	dbFile    string
	frontend  string
	namespace string
	logger    *slog.Logger
	srvLogger *slogLogger
	stopOnce  sync.Once
}

// filesInUse holds the database files (or PostgreSQL URLs) of the servers
// running in this process: two servers on one store would fight over its
// history shards.
var filesInUse sync.Map

// Start starts the server and returns once its frontend, and the UI when
// enabled, accept requests. Stop it with Stop.
func Start(o Options) (s *Server, err error) {
	if o.DatabaseFile == "" && o.PostgresURL == "" {
		return nil, errors.New("devtemporal: DatabaseFile or PostgresURL is required")
	}
	if o.DatabaseFile != "" && o.PostgresURL != "" {
		return nil, errBothStores
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogLevel == nil {
		o.LogLevel = slog.LevelWarn
	}
	if o.FrontendAddr == "" {
		o.FrontendAddr = DefaultFrontendAddr
	}
	dbFile := o.PostgresURL
	if o.DatabaseFile != "" {
		if dbFile, err = filepath.Abs(o.DatabaseFile); err != nil {
			return nil, fmt.Errorf("devtemporal: %w", err)
		}
	}
	if _, busy := filesInUse.LoadOrStore(dbFile, true); busy {
		return nil, fmt.Errorf("devtemporal: %s is already used by a running server", redact(dbFile))
	}
	defer func() {
		if err != nil {
			filesInUse.Delete(dbFile)
		}
	}()

	bindIP, frontendPort, err := parseAddr(o.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: frontend address %q: %w", o.FrontendAddr, err)
	}
	// A fixed port is checked up front: the server would otherwise fail
	// deep inside its startup, typically because another dev server runs.
	if frontendPort, err = reservePort(bindIP, frontendPort); err != nil {
		return nil, fmt.Errorf("devtemporal: frontend: %w", err)
	}
	// Services reach each other and the frontend over loopback, even when
	// the frontend listens on all interfaces.
	frontendDial := bindIP
	if bindIP.IsUnspecified() {
		frontendDial = loopbackFor(bindIP)
	}
	frontend := netip.AddrPortFrom(frontendDial, uint16(frontendPort)).String()

	var pers config.Persistence
	if o.PostgresURL != "" {
		pers, err = openPostgres(o.PostgresURL, o.Namespace, o.SearchAttributes)
	} else {
		pers, err = openDatabase(dbFile, o.Namespace, o.SearchAttributes)
	}
	if err != nil {
		return nil, err
	}
	cfg, hosts, err := serverConfig(pers, bindIP, frontendPort, frontend)
	if err != nil {
		return nil, err
	}
	srvLogger := newLogger(o.Logger.With("component", "temporal-server"), o.LogLevel)
	srv, err := newServer(cfg, hosts, srvLogger)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: create server: %w", err)
	}
	if err := startServer(srv); err != nil {
		_ = stopServer(srv, srvLogger) // releases the ports it bound while being built
		return nil, fmt.Errorf("devtemporal: start server: %w", err)
	}
	s = &Server{srv: srv, dbFile: dbFile, frontend: frontend, namespace: o.Namespace, logger: o.Logger, srvLogger: srvLogger}

	if o.UIAddr != "" {
		if s.ui, err = startUI(o.UIAddr, frontend, o.Namespace, o.Logger); err != nil {
			_ = stopServer(srv, srvLogger)
			return nil, fmt.Errorf("devtemporal: Web UI: %w", err)
		}
	}
	return s, nil
}

// openDatabase returns the persistence config for file, first creating the
// schema if the file is new, and registers namespace if it is missing.
func openDatabase(file, namespace string, searchAttributes map[string]enums.IndexedValueType) (config.Persistence, error) {
	cfg, err := openSQLite(file, namespace, searchAttributes)
	if err != nil {
		return config.Persistence{}, err
	}
	return config.Persistence{
		DefaultStore:     "sqlite",
		VisibilityStore:  "sqlite",
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{"sqlite": {SQL: cfg}},
	}, nil
}

// historyShardsPostgres is the history shard count of a PostgreSQL store.
// It is fixed when the cluster is first created and may never change.
const historyShardsPostgres = 4

// openPostgres returns the persistence config for PostgreSQL at rawURL,
// first creating both databases and their schema as needed, and registers
// namespace if it is missing.
func openPostgres(rawURL, namespace string, searchAttributes map[string]enums.IndexedValueType) (config.Persistence, error) {
	main, vis, err := postgresConfigs(rawURL)
	if err != nil {
		return config.Persistence{}, err
	}
	if err := setupPostgres(main, vis); err != nil {
		return config.Persistence{}, err
	}
	if err := registerNamespace(main, namespace, searchAttributes); err != nil {
		return config.Persistence{}, err
	}
	return config.Persistence{
		DefaultStore:     "default",
		VisibilityStore:  "visibility",
		NumHistoryShards: historyShardsPostgres,
		DataStores:       map[string]config.DataStore{"default": {SQL: main}, "visibility": {SQL: vis}},
	}, nil
}

// registerNamespace adds namespace, with its search attributes, to the
// store cfg unless it is there. The helper lives in the SQLite schema
// package but only uses the generic SQL persistence interface.
func registerNamespace(cfg *config.SQL, namespace string, searchAttributes map[string]enums.IndexedValueType) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, searchAttributes)
	if err != nil {
		return fmt.Errorf("devtemporal: namespace %s: %w", namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return fmt.Errorf("devtemporal: register namespace %s: %w", namespace, err)
	}
	return nil
}

func openSQLite(file, namespace string, searchAttributes map[string]enums.IndexedValueType) (*config.SQL, error) {
	cfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: escapeURIPath(file),
		// Keys that are not SQLite URI parameters become PRAGMAs on every
		// new connection. WAL with synchronous=normal skips the fsync per
		// commit, which dominates Temporal's write-heavy load and costs
		// at most the last transactions on a power cut, fine for dev.
		// busy_timeout makes a concurrent reader (the sqlite3 shell, say)
		// delay writes instead of failing them. MaxConns stays at the
		// plugin's default of one connection: Temporal's read-then-write
		// transactions would otherwise hit SQLITE_BUSY under load.
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, fmt.Errorf("devtemporal: %w", err)
		}
		if err := sqliteschema.SetupSchema(cfg); err != nil {
			return nil, fmt.Errorf("devtemporal: set up schema in %s (delete the file and retry): %w", file, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	if err := registerNamespace(cfg, namespace, searchAttributes); err != nil {
		return nil, err
	}
	return cfg, nil
}

// serverConfig builds the static config of a one-node cluster: the frontend
// on bindIP:frontendPort, the other services and the frontend's HTTP API on
// free ports. frontend is the address clients dial.
func serverConfig(pers config.Persistence, bindIP netip.Addr, frontendPort int, frontend string) (*config.Config, map[primitives.ServiceName]static.Hosts, error) {
	loopback := loopbackFor(bindIP)
	httpPort, err := reservePort(bindIP, 0)
	if err != nil {
		return nil, nil, err
	}
	services := map[primitives.ServiceName]config.RPC{
		primitives.FrontendService: {GRPCPort: frontendPort, HTTPPort: httpPort, BindOnIP: bindIP.String()},
	}
	for _, name := range []primitives.ServiceName{primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		port, err := reservePort(loopback, 0)
		if err != nil {
			return nil, nil, err
		}
		services[name] = config.RPC{GRPCPort: port, BindOnIP: loopback.String()}
	}

	cfg := &config.Config{
		Persistence: pers,
		ClusterMetadata: &cluster.Config{
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            netip.AddrPortFrom(loopback, uint16(httpPort)).String(),
			}},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            map[string]config.Service{},
		PublicClient:        config.PublicClient{HostPort: frontend},
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"

	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, rpc := range services {
		cfg.Services[string(name)] = config.Service{RPC: rpc}
		hosts[name] = static.SingleLocalHost(netip.AddrPortFrom(loopback, uint16(rpc.GRPCPort)).String())
	}
	return cfg, hosts, nil
}

// newServer builds the server; the server's Fatal calls while building it
// (a port taken since serverConfig picked it, say) come back as errors.
func newServer(cfg *config.Config, hosts map[primitives.ServiceName]static.Hosts, logger *slogLogger) (srv temporal.Server, err error) {
	defer recoverFatal(&err)
	return temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		// No TLS, no auth: the server is for one developer's machine.
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return authorization.NewNoopClaimMapper() }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// The default 128k-entry mutable state cache is sized for
			// production history hosts, not a laptop.
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
			// The Web UI lists and counts workflows on every page; the
			// default of 10 requests a second throttles it.
			dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
			// The worker service never stops the SDK workers of its
			// scanners and of the parent-close-policy processor (see the
			// TODOs in service/worker/scanner). After Stop they keep
			// polling the frontend address, and after a restart on the same
			// port they would reconnect and take system tasks with the old,
			// stopped server's clients. Without the worker, history applies
			// parent close policies itself; the scanners only garbage-
			// collect task queues and history, which a dev database can
			// do without.
			dynamicconfig.TaskQueueScannerEnabled.Key():       false,
			dynamicconfig.HistoryScannerEnabled.Key():         false,
			dynamicconfig.EnableParentClosePolicyWorker.Key(): false,
		}),
	)
}

// startServer starts srv, turning its Fatal calls into errors.
func startServer(srv temporal.Server) (err error) {
	defer recoverFatal(&err)
	return srv.Start()
}

// stopServer stops srv with its warnings muted: while stopping, its services
// warn about dialing each other's closed ports, which says nothing useful.
func stopServer(srv temporal.Server, logger *slogLogger) (err error) {
	logger.stopping.Store(true)
	defer recoverFatal(&err)
	return srv.Stop()
}

// FrontendAddr is the gRPC address clients dial (on loopback when the
// frontend listens on all interfaces).
func (s *Server) FrontendAddr() string { return s.frontend }

// UIAddr is the Web UI's host:port, or "" when it is off.
func (s *Server) UIAddr() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.addr
}

// Namespace is the namespace registered at start.
func (s *Server) Namespace() string { return s.namespace }

// Stop stops the UI and the server and releases their ports; the database
// file keeps all state for the next Start. Stop may be called more than once.
//
// Temporal's SQLite plugin keeps one connection per database file open until
// the process exits (its pool never closes them), so the file stays open;
// a later Start on the same file reuses that connection.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.stop()
		}
		if err := stopServer(s.srv, s.srvLogger); err != nil {
			s.logger.Warn("stopping Temporal server", "err", err)
		}
		filesInUse.Delete(s.dbFile)
	})
}

// parseAddr splits host:port into an IP to bind and a port.
func parseAddr(addr string) (netip.Addr, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("bad port %q", portStr)
	}
	if host == "" || strings.EqualFold(host, "localhost") {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), int(port), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("host %q is not an IP address", host)
	}
	return ip.Unmap(), int(port), nil
}

// loopbackFor is the loopback address of ip's family: services bound to
// ip = "::" are reachable on ::1, not necessarily on 127.0.0.1.
func loopbackFor(ip netip.Addr) netip.Addr {
	if ip.Is6() {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// reservePort checks that ip:port can be listened on and returns the port,
// a free one if port is 0. The port is released again before the server
// binds it, so another process could take it in between; that window is
// accepted for a dev server.
func reservePort(ip netip.Addr, port int) (int, error) {
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// escapeURIPath escapes the characters that would end the path of the
// "file:" URI the SQLite plugin builds from the database name.
func escapeURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
}
