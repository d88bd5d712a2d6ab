// Command huntdesk is the whole service in one binary:
//
//	huntdesk dev      everything in one process, on SQLite files (make run)
//	huntdesk api      the HTTP API       (production: PostgreSQL + Temporal)
//	huntdesk worker   the Temporal worker (production)
//	huntdesk temporal a single-node Temporal server (SQLite or PostgreSQL)
//	huntdesk migrate  apply database migrations
//	huntdesk orgs|users|tokens …   administer without the API
//
// Every flag has an environment variable; `huntdesk help <command>` lists them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	app := &cli.App{
		Name:  "huntdesk",
		Usage: "case management for a managed threat-hunting service",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"HUNTDESK_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "json", EnvVars: []string{"HUNTDESK_LOG_FORMAT"}, Usage: "json or text"},
		},
		Before: func(c *cli.Context) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
				return fmt.Errorf("HUNTDESK_LOG_LEVEL: %w", err)
			}
			opts := &slog.HandlerOptions{Level: level}
			var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
			if strings.EqualFold(c.String("log-format"), "text") {
				h = slog.NewTextHandler(os.Stderr, opts)
			}
			slog.SetDefault(slog.New(h))
			return nil
		},
		Commands: []*cli.Command{devCommand(), temporalCommand(), apiCommand(), workerCommand(), migrateCommand(), orgsCommand(), usersCommand(), tokensCommand(), benchCommand()},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "huntdesk:", err)
		os.Exit(1)
	}
}
