// Package devtemporal embeds a Temporal server in the huntdesk process for
// `huntdesk dev` and the end-to-end tests: the real go.temporal.io/server on a
// SQLite file (so workflows survive a restart), its frontend on a fixed
// address the temporal CLI can attach to, and optionally Temporal's Web UI.
//
// Production never uses this package: `huntdesk api` and `huntdesk worker`
// dial a real Temporal cluster.
package devtemporal

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
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

// Options configure the embedded server.
type Options struct {
	DatabaseFile string       // SQLite file; created with its schema on first start
	FrontendAddr string       // gRPC frontend host:port; port 0 picks a free one
	UIAddr       string       // Web UI host:port ("" disables it; port 0 picks one)
	Namespace    string       // registered if missing; default "default"
	Logger       *slog.Logger // server logs, at LogLevel and above
	LogLevel     slog.Level   // the server is chatty: Warn is a good default
}

// Server is a running embedded Temporal server.
type Server struct {
	srv       temporal.Server
	ui        *uiserver.Server
	frontend  string
	uiAddr    string
	namespace string
}

// Start starts the server and returns once its frontend accepts calls.
func Start(o Options) (*Server, error) {
	if o.DatabaseFile == "" {
		return nil, errors.New("devtemporal: DatabaseFile is required")
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	host, port, err := hostPort(o.FrontendAddr, "127.0.0.1:7233")
	if err != nil {
		return nil, fmt.Errorf("frontend address: %w", err)
	}
	// The four services each need a port; the frontend's is the one people know.
	ports := map[string]int{"frontend": port}
	for _, svc := range []string{"history", "matching", "worker"} {
		if ports[svc], err = freePort(host); err != nil {
			return nil, err
		}
	}
	if port == 0 {
		if ports["frontend"], err = freePort(host); err != nil {
			return nil, err
		}
	}
	httpPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	frontend := net.JoinHostPort(host, strconv.Itoa(ports["frontend"]))

	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: o.DatabaseFile,
		// WAL and normal sync: safe for a dev database, and much faster than
		// the default rollback journal under Temporal's write pattern.
		ConnectAttributes: map[string]string{"mode": "rwc", "_journal_mode": "wal", "_synchronous": "normal"},
	}
	if _, err := os.Stat(o.DatabaseFile); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(o.DatabaseFile), 0o700); err != nil {
			return nil, err
		}
		if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
			return nil, fmt.Errorf("set up Temporal schema: %w", err)
		}
	}
	const clusterName = "active"
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, nil)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("register namespace %s: %w", o.Namespace, err)
	}

	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host}
	cfg.Persistence = config.Persistence{
		DefaultStore: "sqlite", VisibilityStore: "sqlite", NumHistoryShards: 1,
		DataStores: map[string]config.DataStore{"sqlite": {SQL: sqlCfg}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10, MasterClusterName: clusterName, CurrentClusterName: clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend,
			HTTPAddress: net.JoinHostPort(host, strconv.Itoa(httpPort)),
		}},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = map[string]config.Service{}
	for svc, p := range ports {
		rpc := config.RPC{GRPCPort: p, BindOnIP: host}
		if svc == "frontend" {
			rpc.HTTPPort = httpPort
		}
		cfg.Services[svc] = config.Service{RPC: rpc}
	}
	cfg.Archival.History.State, cfg.Archival.Visibility.State = "disabled", "disabled"
	cfg.NamespaceDefaults.Archival.History.State, cfg.NamespaceDefaults.Archival.Visibility.State = "disabled", "disabled"
	cfg.PublicClient.HostPort = frontend

	logger := newLogger(o.Logger.With("component", "temporal-server"), o.LogLevel)
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claims, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for svc, name := range map[string]primitives.ServiceName{"frontend": primitives.FrontendService, "history": primitives.HistoryService,
		"matching": primitives.MatchingService, "worker": primitives.WorkerService} {
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(ports[svc])))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claims }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8192,
			dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("create Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start Temporal server: %w", err)
	}
	s := &Server{srv: srv, frontend: frontend, namespace: o.Namespace}

	if o.UIAddr != "" {
		if err := s.startUI(o); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) startUI(o Options) error {
	host, port, err := hostPort(o.UIAddr, "127.0.0.1:8233")
	if err != nil {
		return fmt.Errorf("UI address: %w", err)
	}
	// The UI server exits the process if it cannot listen, so make sure it can.
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("Temporal UI: %w", err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host: host, Port: port, TemporalGRPCAddress: s.frontend, EnableUI: true,
		DefaultNamespace: o.Namespace, HideLogs: true, DisableNewsFetch: true,
		CORS: uiconfig.CORS{CookieInsecure: true},
	}))
	s.uiAddr = net.JoinHostPort(host, strconv.Itoa(port))
	go func() {
		if err := s.ui.Start(); err != nil {
			o.Logger.Error("Temporal UI stopped", "err", err)
		}
	}()
	return nil
}

// FrontendAddr is the gRPC address clients dial.
func (s *Server) FrontendAddr() string { return s.frontend }

// UIAddr is the Web UI's address, or "" when it is off.
func (s *Server) UIAddr() string { return s.uiAddr }

// Namespace is the registered namespace.
func (s *Server) Namespace() string { return s.namespace }

// Stop stops the UI and the server; the database file stays.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.srv.Stop()
}

func hostPort(addr, def string) (string, int, error) {
	if addr == "" {
		addr = def
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if h == "" {
		h = "127.0.0.1"
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
