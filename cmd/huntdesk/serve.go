package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/huntdesk/huntdesk/activities"
	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/mail"
	"github.com/huntdesk/huntdesk/internal/metrics"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/web"
	"github.com/huntdesk/huntdesk/worker"
)

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "run everything in one process: Temporal server, worker, API and an SMTP sink, on SQLite files",
		Flags: append(apiFlags(devstack.DefaultHTTPAddr),
			&cli.StringFlag{Name: "data-dir", Value: ".huntdesk", EnvVars: []string{"HUNTDESK_DATA_DIR"}, Usage: "where the dev stack keeps its state"},
			&cli.StringFlag{Name: "smtp-addr", Value: "127.0.0.1:2525", EnvVars: []string{"HUNTDESK_DEV_SMTP_ADDR"}, Usage: "SMTP sink listen address"},
			&cli.StringFlag{Name: "temporal-addr", Value: "127.0.0.1:7233", EnvVars: []string{"HUNTDESK_DEV_TEMPORAL_ADDR"}, Usage: "in-process Temporal frontend address"},
			&cli.StringFlag{Name: "ui-addr", Value: "127.0.0.1:8233", EnvVars: []string{"HUNTDESK_DEV_UI_ADDR"}, Usage: "Temporal Web UI address (empty: no UI)"},
			publicURLFlag, mailFromFlag,
		),
		Action: func(c *cli.Context) error {
			inq, err := inquiryConfig(c)
			if err != nil {
				return err
			}
			st, err := devstack.Start(c.Context, devstack.Config{
				Inquiries: inq,
				DataDir:   c.String("data-dir"), HTTPAddr: c.String("http-addr"), SMTPAddr: c.String("smtp-addr"),
				TemporalAddr: c.String("temporal-addr"), UIAddr: c.String("ui-addr"), PublicURL: c.String("public-url"),
				MailFrom: c.String("mail-from"), ReviewSLA: c.Duration("review-sla"), API: apiConfig(c), Logger: slog.Default(),
			})
			if err != nil {
				return err
			}
			defer st.Close()
			printBanner(st, c.String("data-dir"))
			<-c.Context.Done()
			slog.Info("shutting down")
			return nil
		},
	}
}

func printBanner(st *devstack.Stack, dataDir string) {
	w := os.Stdout
	fmt.Fprintf(w, "\nhuntdesk dev is running\n\n")
	fmt.Fprintf(w, "  console        %s/app/   (sign in with a demo email below; the link arrives at %s/dev/mail)\n", st.URL, st.URL)
	fmt.Fprintf(w, "  API            %s   (try: curl -H \"Authorization: Bearer $TOKEN\" %s/api/v1/me)\n", st.URL, st.URL)
	fmt.Fprintf(w, "  mail sink      %s/dev/mail   (SMTP on %s)\n", st.URL, st.Mail.Addr())
	fmt.Fprintf(w, "  Temporal       %s   (temporal workflow list --address %s)\n", st.Temporal.FrontendAddr(), st.Temporal.FrontendAddr())
	if ui := st.Temporal.UIAddr(); ui != "" {
		fmt.Fprintf(w, "  Temporal UI    http://%s\n", ui)
	}
	fmt.Fprintf(w, "  OpenAPI        %s/api/v1/openapi.yaml\n\n  demo tokens (also in %s):\n", st.URL, filepath.Join(dataDir, "demo-tokens.json"))
	emails := make([]string, 0, len(st.Tokens))
	for e := range st.Tokens {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	for _, e := range emails {
		fmt.Fprintf(w, "    %-26s %s\n", e, st.Tokens[e])
	}
	fmt.Fprintln(w)
}

func dialTemporal(c *cli.Context, met *metrics.Set) (sdkclient.Client, error) {
	tc, err := sdkclient.DialContext(c.Context, sdkclient.Options{
		HostPort:       c.String("temporal-address"),
		Namespace:      c.String("temporal-namespace"),
		Logger:         sdklog.NewStructuredLogger(slog.Default().With("component", "temporal-client")),
		MetricsHandler: met.SDK,
	})
	if err != nil {
		return nil, fmt.Errorf("dial Temporal at %s: %w", c.String("temporal-address"), err)
	}
	return tc, nil
}

func openDB(c *cli.Context) (*store.DB, error) {
	return store.Open(c.String("database-url"))
}

func apiCommand() *cli.Command {
	return &cli.Command{
		Name:  "api",
		Usage: "serve the HTTP API (stateless; run as many as you like)",
		Flags: append(append(apiFlags(":8080"), smtpFlags()...), databaseFlag, temporalAddrFlag, temporalNamespaceFlag, publicURLFlag, pprofFlag,
			&cli.BoolFlag{Name: "search-attributes", Value: true, EnvVars: []string{"HUNTDESK_SEARCH_ATTRIBUTES"},
				Usage: "new cases keep the Huntdesk* search attributes up to date (register them on the namespace first)"}),
		Action: func(c *cli.Context) error {
			startPprof(c)
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			met := metrics.New(db)
			tc, err := dialTemporal(c, met)
			if err != nil {
				return err
			}
			defer tc.Close()
			inq, err := inquiryConfig(c)
			if err != nil {
				return err
			}
			inq.DB, inq.Temporal, inq.SearchAttributes = db, tc, c.Bool("search-attributes")
			alerts := &cases.Alerts{DB: db, Temporal: tc}
			apps := &cases.Applications{DB: db, Temporal: tc, ReviewSLA: c.Duration("review-sla"), SearchAttributes: c.Bool("search-attributes")}
			// The console sends its sign-in links itself, through the outbox.
			mailer, err := mail.New(mailConfig(c), db.Outbox(), mail.WithObserver(met.Emails.Observe))
			if err != nil {
				return err
			}
			console, err := web.New(web.Deps{DB: db, Apps: apps, Inq: &inq, Alerts: alerts, SLA: &cases.SLA{DB: db}, Mail: mailer, PublicURL: publicURL(c), SampleMaxBytes: c.Int64("sample-max-bytes"), Logger: slog.Default()})
			if err != nil {
				return err
			}
			srv := api.New(apiConfig(c), api.Deps{DB: db, Temporal: tc, Logger: slog.Default(),
				Apps: apps, Inq: &inq, Alerts: alerts, Conn: alerts, Console: console, SLA: &cases.SLA{DB: db}, Registry: met.Registry})
			hs := srv.HTTPServer()
			ln, err := api.Listen(c.String("http-addr"), srv.MaxConns())
			if err != nil {
				return err
			}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			slog.Info("api listening", "addr", ln.Addr().String())
			select {
			case err := <-errc:
				return err
			case <-c.Context.Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "run the Temporal worker (stateless; run as many as you like)",
		Flags: append(smtpFlags(), databaseFlag, temporalAddrFlag, temporalNamespaceFlag, publicURLFlag, pprofFlag,
			&cli.StringFlag{Name: "metrics-addr", Value: ":9090", EnvVars: []string{"HUNTDESK_WORKER_METRICS_ADDR"}, Usage: "where the worker serves /metrics (empty: nowhere)"},
			&cli.DurationFlag{Name: "reconcile-every", Value: worker.ReconcileEvery, EnvVars: []string{"HUNTDESK_RECONCILE_EVERY"},
				Usage: "how often the worker starts the workflows of cases recorded without one (an API that died between the row and the start)"}),
		Action: func(c *cli.Context) error {
			startPprof(c)
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			met := metrics.New(db)
			mailer, err := mail.New(mailConfig(c), db.Outbox(), mail.WithObserver(met.Emails.Observe))
			if err != nil {
				return err
			}
			if addr := c.String("metrics-addr"); addr != "" {
				// The worker has no API: its metrics get a listener of their own.
				ms := &http.Server{Addr: addr, Handler: promhttp.HandlerFor(met.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second,
					ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
				go func() {
					if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
						slog.Error("worker metrics listener", "addr", addr, "err", err)
					}
				}()
				defer ms.Close()
			}
			tc, err := dialTemporal(c, met)
			if err != nil {
				return err
			}
			defer tc.Close()
			w := worker.New(tc, &activities.Activities{DB: db, Mail: mailer, PublicURL: publicURL(c)})
			go worker.Housekeeping(c.Context, db, time.Hour)
			every := c.Duration("reconcile-every")
			if every <= 0 {
				return fmt.Errorf("HUNTDESK_RECONCILE_EVERY must be positive")
			}
			go worker.Reconcile(c.Context, db, tc, every)
			slog.Info("worker running", "temporal", c.String("temporal-address"), "namespace", c.String("temporal-namespace"))
			return w.Run(workerInterrupt(c.Context))
		},
	}
}

// publicURL is where people reach huntdesk: --public-url, or the API's own
// address.
func publicURL(c *cli.Context) string {
	if u := strings.TrimRight(c.String("public-url"), "/"); u != "" {
		return u
	}
	addr := c.String("http-addr")
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return "http://" + addr
}

// workerInterrupt adapts a context to the channel worker.Run stops on.
func workerInterrupt(ctx context.Context) <-chan any {
	ch := make(chan any)
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply pending database migrations (safe to run concurrently on PostgreSQL)",
		Flags: []cli.Flag{databaseFlag},
		Subcommands: []*cli.Command{{
			Name:  "status",
			Usage: "list migrations and whether each is applied",
			Flags: []cli.Flag{databaseFlag},
			Action: func(c *cli.Context) error {
				db, err := openDB(c)
				if err != nil {
					return err
				}
				defer db.Close()
				st, err := db.MigrationStatus(c.Context)
				if err != nil {
					return err
				}
				for _, m := range st {
					applied := "pending"
					if !m.AppliedAt.IsZero() {
						applied = "applied " + m.AppliedAt.Format(time.RFC3339)
					}
					name := filepath.Base(m.Source.Path)
					if m.Source.Path == "" {
						name = "(Go: dialect-specific SQL)"
					}
					fmt.Printf("%5d  %-40s %s\n", m.Source.Version, name, applied)
				}
				return nil
			},
		}},
		Action: func(c *cli.Context) error {
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			return db.Migrate(c.Context)
		},
	}
}
