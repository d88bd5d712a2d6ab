package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/huntdesk/huntdesk/internal/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure huntdesk beside its ceiling: submit, lifecycles, footprint, reads at a million rows (needs PostgreSQL)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "database-url", Value: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", EnvVars: []string{"HUNTDESK_BENCH_DATABASE_URL"},
				Usage: "PostgreSQL; the bench creates its own database there and drops it afterwards"},
			&cli.StringFlag{Name: "out", Value: "bench/results", Usage: "where results.json, results.md and submit.png go"},
			&cli.StringFlag{Name: "concurrency", Value: "1,8,32,128", Usage: "submit concurrency levels"},
			&cli.IntFlag{Name: "submit", Value: 400, Usage: "inquiries per submit level"},
			&cli.IntFlag{Name: "lifecycles", Value: 200, Usage: "whole inquiry lifecycles"},
			&cli.IntFlag{Name: "applications", Value: 100, Usage: "applications submitted and approved"},
			&cli.IntFlag{Name: "open", Value: 10_000, Usage: "open inquiry workflows for the footprint"},
			&cli.IntFlag{Name: "rows", Value: 1_000_000, Usage: "inquiries and alerts each for reads at scale"},
			&cli.IntFlag{Name: "orgs", Value: 1000, Usage: "orgs the rows spread over"},
			&cli.IntFlag{Name: "repeat", Value: 200, Usage: "samples per read query"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the bench database and temp files"},
			&cli.StringFlag{Name: "phases", Value: "submit,lifecycle,footprint,reads,start", Usage: "which measurements to run"},
		},
		Action: func(c *cli.Context) error {
			var levels []int
			for _, s := range strings.Split(c.String("concurrency"), ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 1 {
					return fmt.Errorf("--concurrency: %q is not a positive number", s)
				}
				levels = append(levels, n)
			}
			phases := map[string]bool{}
			for _, s := range strings.Split(c.String("phases"), ",") {
				switch s = strings.TrimSpace(s); s {
				case "submit", "lifecycle", "footprint", "reads", "start":
					phases[s] = true
				default:
					return fmt.Errorf("--phases: %q is not one of submit, lifecycle, footprint, reads, start", s)
				}
			}
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			_, err = bench.Run(c.Context, bench.Config{Bin: bin, DatabaseURL: c.String("database-url"), OutDir: c.String("out"), Concurrency: levels,
				SubmitN: c.Int("submit"), Lifecycles: c.Int("lifecycles"), Applications: c.Int("applications"), OpenTarget: c.Int("open"),
				Rows: c.Int("rows"), Orgs: c.Int("orgs"), Repeat: c.Int("repeat"), Keep: c.Bool("keep"), Phases: phases, Logger: slog.Default()})
			return err
		},
	}
}
