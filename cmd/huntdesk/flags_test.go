package main

import (
	"net"
	"testing"

	"github.com/urfave/cli/v2"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
)

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
