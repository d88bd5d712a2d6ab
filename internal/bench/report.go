package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// write puts the results in dir as results.json, results.md and
// submit.png.
func write(dir string, r *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	md := Markdown(r)
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	return plotSubmit(filepath.Join(dir, "submit.png"), r.Submit)
}

// Markdown is the results as the README shows them.
func Markdown(r *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s.\n\n", r.Date.Format("2006-01-02 15:04 MST"), r.Machine)
	b.WriteString("**Submit** (inquiries: HTTP POST → row → workflow started; end to end: → acknowledgement email at the sink) beside the ceiling (bare `client.ExecuteWorkflow` of an empty workflow, same server, same concurrency):\n\n")
	b.WriteString("| concurrency | n | accepted/s | p50 / p99 ms | end to end/s | e2e p50 / p99 ms | ceiling/s | ceiling p50 / p99 ms | ratio |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Submit {
		fmt.Fprintf(&b, "| %d | %d | %.0f | %.1f / %.1f | %.0f | %.0f / %.0f | %.0f | %.1f / %.1f | %.2f |\n", s.Concurrency, s.N, s.AcceptedPS, s.Accept.P50, s.Accept.P99,
			s.EndToEndPS, s.EndToEnd.P50, s.EndToEnd.P99, s.CeilingPS, s.Ceiling.P50, s.Ceiling.P99, s.Ratio)
	}
	b.WriteString("\n**Lifecycles** (every email delivered):\n\n| process | n | concurrency | per s | p50 / p99 ms |\n|---|---|---|---|---|\n")
	for _, l := range r.Lifecycle {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.0f / %.0f |\n", l.Name, l.N, l.Concurrency, l.PerS, l.Latency.P50, l.Latency.P99)
	}
	fmt.Fprintf(&b, "\n**Reads at scale** (%d inquiries, %d alerts, %d incidents over %d orgs, loaded by COPY in %.0f s), each beside the same SQL through pgx:\n\n",
		r.Load.Inquiries, r.Load.Alerts, r.Load.Incidents, r.Load.Orgs, r.Load.Seconds)
	b.WriteString("| list | API p50 / p99 ms | SQL p50 / p99 ms | p99 ratio | plan |\n|---|---|---|---|---|\n")
	for _, q := range r.Reads {
		p := strings.Join(dedupe(q.Plan), "; ")
		if len(q.SeqScans) > 0 {
			p += " — **sequential scan**"
		}
		fmt.Fprintf(&b, "| %s | %.1f / %.1f | %.1f / %.1f | %.2f | %s |\n", q.Name, q.API.P50, q.API.P99, q.SQL.P50, q.SQL.P99, q.Ratio, p)
	}
	f := r.Footprint
	fmt.Fprintf(&b, "\n**Footprint** at %d open inquiry workflows: API %.0f MiB RSS, worker %.0f MiB, `huntdesk temporal` %.0f MiB; binary %.0f MiB; %s: cold %.1f s, warm %.1f s.\n",
		f.OpenWorkflows, f.APIRSSMiB, f.WorkerRSSMiB, f.TemporalRSSMiB, f.BinaryMiB, f.StartMeasuredV, f.ColdStartS, f.WarmStartS)
	return b.String()
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// plotSubmit draws throughput and p99 against concurrency, huntdesk beside
// the ceiling.
func plotSubmit(path string, rows []SubmitRow) error {
	tput, p99 := plot.New(), plot.New()
	tput.Title.Text, tput.X.Label.Text, tput.Y.Label.Text = "Submit throughput", "concurrency", "per second"
	p99.Title.Text, p99.X.Label.Text, p99.Y.Label.Text = "Submit p99 latency", "concurrency", "ms"
	tput.X.Scale, p99.X.Scale = plot.LogScale{}, plot.LogScale{}
	tput.X.Tick.Marker, p99.X.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	series := func(f func(SubmitRow) float64) plotter.XYs {
		xy := make(plotter.XYs, len(rows))
		for i, r := range rows {
			xy[i].X, xy[i].Y = float64(r.Concurrency), f(r)
		}
		return xy
	}
	if err := plotutil.AddLinePoints(tput, "huntdesk accepted", series(func(r SubmitRow) float64 { return r.AcceptedPS }),
		"huntdesk end to end", series(func(r SubmitRow) float64 { return r.EndToEndPS }),
		"ceiling: ExecuteWorkflow", series(func(r SubmitRow) float64 { return r.CeilingPS })); err != nil {
		return err
	}
	if err := plotutil.AddLinePoints(p99, "huntdesk accepted", series(func(r SubmitRow) float64 { return r.Accept.P99 }),
		"ceiling: ExecuteWorkflow", series(func(r SubmitRow) float64 { return r.Ceiling.P99 })); err != nil {
		return err
	}
	tput.Legend.Top, p99.Legend.Top = true, true
	tput.Legend.Left, p99.Legend.Left = true, true
	img := vgimgNew(12*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	for i, p := range []*plot.Plot{tput, p99} {
		p.Draw(tiles.At(dc, i, 0))
	}
	return savePNG(img, path)
}
