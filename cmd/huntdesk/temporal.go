package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	devtemporal "github.com/huntdesk/huntdesk/internal/dev/temporal"
	"github.com/huntdesk/huntdesk/workflows"
)

// temporalCommand runs the embedded single-node Temporal server as a process
// of its own, the production shape without a download: `huntdesk api` and
// `huntdesk worker` dial it like any cluster.
func temporalCommand() *cli.Command {
	return &cli.Command{
		Name:  "temporal",
		Usage: "run a single-node Temporal server (SQLite file or PostgreSQL); namespace and search attributes are created on start",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "temporal-database-url", Value: "sqlite:.huntdesk/temporal.db", EnvVars: []string{"HUNTDESK_TEMPORAL_DATABASE_URL"},
				Usage: "sqlite:PATH, or postgres://…/NAME (NAME and NAME_visibility are created if missing; NAME defaults to temporal)"},
			&cli.StringFlag{Name: "listen", Value: devtemporal.DefaultFrontendAddr, EnvVars: []string{"HUNTDESK_TEMPORAL_LISTEN"}, Usage: "gRPC frontend address (an IP: 0.0.0.0:7233 for every interface)"},
			&cli.StringFlag{Name: "ui-addr", EnvVars: []string{"HUNTDESK_TEMPORAL_UI_ADDR"}, Usage: "Temporal Web UI address (empty: no UI)"},
			&cli.StringFlag{Name: "namespace", Value: "default", EnvVars: []string{"TEMPORAL_NAMESPACE"}, Usage: "namespace created on start"},
			&cli.StringFlag{Name: "server-log-level", Value: "warn", EnvVars: []string{"HUNTDESK_TEMPORAL_LOG_LEVEL"}, Usage: "the server's own log level (it is chatty at info)"},
		},
		Action: func(c *cli.Context) error {
			opts := devtemporal.Options{
				FrontendAddr:     c.String("listen"),
				UIAddr:           c.String("ui-addr"),
				Namespace:        c.String("namespace"),
				SearchAttributes: workflows.SearchAttributeTypes(),
				Logger:           slog.Default(),
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.String("server-log-level"))); err != nil {
				return fmt.Errorf("HUNTDESK_TEMPORAL_LOG_LEVEL: %w", err)
			}
			opts.LogLevel = level
			switch u := c.String("temporal-database-url"); {
			case strings.HasPrefix(u, "sqlite:"):
				opts.DatabaseFile = strings.TrimPrefix(u, "sqlite:")
			case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
				opts.PostgresURL = u
			default:
				return fmt.Errorf("HUNTDESK_TEMPORAL_DATABASE_URL: want sqlite:PATH or postgres://…")
			}
			srv, err := devtemporal.Start(opts)
			if err != nil {
				return err
			}
			defer srv.Stop()
			// The namespace's search attributes: created with the namespace on
			// its first start, added here to a namespace from before them.
			tc, err := sdkclient.DialContext(c.Context, sdkclient.Options{HostPort: srv.FrontendAddr(), Namespace: srv.Namespace(),
				Logger: sdklog.NewStructuredLogger(slog.Default().With("component", "temporal-client"))})
			if err != nil {
				return fmt.Errorf("dial own frontend: %w", err)
			}
			err = devstack.RegisterSearchAttributes(c.Context, tc, srv.Namespace())
			tc.Close()
			if err != nil {
				return fmt.Errorf("register search attributes: %w", err)
			}
			slog.Info("temporal server running", "frontend", srv.FrontendAddr(), "ui", srv.UIAddr(), "namespace", srv.Namespace(),
				"store", storeKind(opts))
			<-c.Context.Done()
			slog.Info("temporal server stopping")
			stopped := make(chan struct{})
			go func() { srv.Stop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(30 * time.Second):
				slog.Warn("temporal server did not stop within 30 s; exiting")
			}
			return nil
		},
	}
}

func storeKind(o devtemporal.Options) string {
	if o.PostgresURL != "" {
		return "postgresql"
	}
	return "sqlite"
}
