package main

import (
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/models"
)

// runAPIFlags parses args with the API's flags and returns what the commands
// derive from them.
func runAPIFlags(t *testing.T, args ...string) (cases.Inquiries, time.Duration, api.Config) {
	t.Helper()
	for _, f := range apiFlags(":8080") {
		for _, name := range f.(interface{ GetEnvVars() []string }).GetEnvVars() {
			if _, ok := os.LookupEnv(name); ok {
				t.Setenv(name, "")
				os.Unsetenv(name)
			}
		}
	}
	var inq cases.Inquiries
	var review time.Duration
	var cfg api.Config
	app := &cli.App{Name: "t", Flags: apiFlags(":8080"), Action: func(c *cli.Context) error {
		var err error
		inq, err = inquiryConfig(c)
		review, cfg = c.Duration("review-sla"), apiConfig(c)
		return err
	}}
	if err := app.Run(append([]string{"t"}, args...)); err != nil {
		t.Fatal(err)
	}
	return inq, review, cfg
}

// TestFlagDefaults pins the production defaults of the SLA and API flags
// end to end, down to the workflow input they produce (issue 18, item 24).
func TestFlagDefaults(t *testing.T) {
	inq, review, cfg := runAPIFlags(t)
	p := inq.Params(&models.Inquiry{ID: "inq_1"})
	if p.SLA != 48*time.Hour || p.WarnAfter != 36*time.Hour || p.CustomerTimeout != 336*time.Hour ||
		!reflect.DeepEqual(p.Reminders, []time.Duration{48 * time.Hour, 120 * time.Hour}) {
		t.Fatalf("inquiry defaults from flags: %+v", p)
	}
	if review != 120*time.Hour {
		t.Fatalf("review SLA default %v; want 120h (5 days)", review)
	}
	a := (&cases.Applications{ReviewSLA: review}).Params(&models.Application{ID: "app_1"})
	if a.ReviewSLA != 120*time.Hour || a.RemindAfter != 96*time.Hour {
		t.Fatalf("application defaults from flags: %+v", a)
	}
	if inq.SampleMaxCount != 20 || inq.SampleQuotaBytes != 256<<20 {
		t.Fatalf("sample quota defaults: %d samples, %d bytes; want 20 and 256 MiB", inq.SampleMaxCount, inq.SampleQuotaBytes)
	}
	if cfg.MaxBodyBytes != 1<<20 || cfg.RateLimit != 50 || cfg.RateBurst != 100 || cfg.SampleMaxBytes != 32<<20 {
		t.Fatalf("API defaults from flags: %+v", cfg)
	}
}

// TestFlagOverrides: the variables reach the workflow input; an empty
// reminder list means no reminders; a bad one is refused.
func TestFlagOverrides(t *testing.T) {
	inq, review, _ := runAPIFlags(t, "--progress-report-sla", "40s", "--customer-reminders", "10s, 20s", "--customer-timeout", "30s", "--review-sla", "30s", "--sample-max-count", "3", "--sample-quota-bytes", "1000")
	p := inq.Params(&models.Inquiry{})
	if p.SLA != 40*time.Second || p.WarnAfter != 30*time.Second || p.CustomerTimeout != 30*time.Second ||
		!reflect.DeepEqual(p.Reminders, []time.Duration{10 * time.Second, 20 * time.Second}) || review != 30*time.Second {
		t.Fatalf("overrides: %+v, review %v", p, review)
	}
	if inq.SampleMaxCount != 3 || inq.SampleQuotaBytes != 1000 {
		t.Fatalf("sample quota overrides: %d, %d", inq.SampleMaxCount, inq.SampleQuotaBytes)
	}
	inq, _, _ = runAPIFlags(t, "--customer-reminders", "")
	if p := inq.Params(&models.Inquiry{}); p.Reminders == nil || len(p.Reminders) != 0 {
		t.Fatalf("empty reminders: %#v; want none (not the defaults)", p.Reminders)
	}
	app := &cli.App{Name: "t", Flags: apiFlags(":8080"), Action: func(c *cli.Context) error { _, err := inquiryConfig(c); return err }}
	if err := app.Run([]string{"t", "--customer-reminders", "soon"}); err == nil {
		t.Fatal("a reminder that is not a duration was accepted")
	}
}

func httpAddrDefault(t *testing.T, cmd *cli.Command) string {
	t.Helper()
	for _, f := range cmd.Flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "http-addr" {
			return sf.Value
		}
	}
	t.Fatalf("%s has no --http-addr", cmd.Name)
	return ""
}

// The dev stack serves /dev/mail without a token and seeds demo users with
// well-known addresses: it listens on loopback unless told otherwise.
func TestDevStackListensOnLoopbackByDefault(t *testing.T) {
	for _, addr := range []string{httpAddrDefault(t, devCommand()), devstack.DefaultHTTPAddr} {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Fatalf("dev stack default address %q is not loopback", addr)
		}
	}
	// The production API is meant to be reached from a load balancer.
	if got := httpAddrDefault(t, apiCommand()); got != ":8080" {
		t.Fatalf("api default address %q", got)
	}
}
