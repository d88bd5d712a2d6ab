package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/urfave/cli/v2"
)

var pprofFlag = &cli.StringFlag{Name: "pprof-addr", EnvVars: []string{"HUNTDESK_PPROF_ADDR"},
	Usage: "serve Go's /debug/pprof/ here, for profiling (empty: off; keep it on a private address)"}

// startPprof serves the runtime profiles on their own listener when
// HUNTDESK_PPROF_ADDR is set, never on the public one.
func startPprof(c *cli.Context) {
	addr := c.String("pprof-addr")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			slog.Error("pprof listener", "addr", addr, "err", err)
		}
	}()
	go func() { <-c.Context.Done(); srv.Close() }()
	slog.Info("serving profiles", "addr", addr)
}
