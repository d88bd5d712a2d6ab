package devtemporal

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiServer runs Temporal's Web UI server, which serves the UI's assets and
// proxies its API calls to the frontend over gRPC.
type uiServer struct {
	srv  *uiserver.Server
	addr string
	done chan struct{} // closed when srv.Start has returned
}

// uiReadyTimeout bounds the wait for the UI to answer its health check.
const uiReadyTimeout = 10 * time.Second

// startUI starts the UI on addr for the frontend at frontendAddr and returns
// once it answers HTTP requests.
//
// The UI server's Start blocks while serving and exits the whole process
// (echo's Logger.Fatal) when it cannot listen, so the port is checked first,
// Start runs in a goroutine, and stop waits for that goroutine.
func startUI(addr, frontendAddr, namespace string, logger *slog.Logger) (*uiServer, error) {
	ip, port, err := parseAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if port, err = reservePort(ip, port); err != nil {
		return nil, err
	}
	dial := ip
	if ip.IsUnspecified() {
		dial = loopbackFor(ip)
	}
	// The UI server joins Host and Port with a bare ":".
	host := ip.String()
	if ip.Is6() {
		host = "[" + host + "]"
	}
	u := &uiServer{
		srv: uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
			Host:                host,
			Port:                port,
			TemporalGRPCAddress: frontendAddr,
			EnableUI:            true,
			DefaultNamespace:    namespace,
			// Plain HTTP: a Secure CSRF cookie would never come back.
			CORS: uiconfig.CORS{CookieInsecure: true},
			// No request log on stdout, no banner.
			HideLogs: true,
			// Offline and quiet: no news or version checks on the internet.
			DisableNewsFetch: true,
		})),
		addr: netip.AddrPortFrom(dial, uint16(port)).String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(u.done)
		if err := u.srv.Start(); err != nil {
			logger.Error("Temporal Web UI stopped", "err", err)
		}
	}()
	if err := u.waitReady(); err != nil {
		u.stop()
		return nil, err
	}
	return u, nil
}

// waitReady polls the UI's health endpoint so that callers may use the UI
// as soon as Start returns.
func (u *uiServer) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(uiReadyTimeout)
	for {
		resp, err := client.Get("http://" + u.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-u.done:
			return errors.New("UI server exited during start")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", uiReadyTimeout, err)
		}
	}
}

// stop closes the UI's listener and connections and waits until its serve
// loop has returned, so that its port is free afterwards.
func (u *uiServer) stop() {
	u.srv.Stop()
	<-u.done
}
