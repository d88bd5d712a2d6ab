package api_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/api"
)

// startHTTP serves f's API like `huntdesk api` does (its http.Server and
// listener), with the given timeouts, on a loopback port.
func startHTTP(t *testing.T, cfg api.Config) string {
	t.Helper()
	f := newFixture(t, cfg)
	ln, err := api.Listen("127.0.0.1:0", cfg.MaxConns)
	if err != nil {
		t.Fatal(err)
	}
	hs := f.srv.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// closedByServer reads from conn until the server closes it; the deadline is
// only a guard against hanging the suite, far above the timeouts under test.
func closedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the connection open")
	}
}

func TestSlowBodyIsCut(t *testing.T) {
	addr := startHTTP(t, api.Config{ReadHeaderTimeout: time.Second, ReadTimeout: 100 * time.Millisecond, IdleTimeout: time.Minute})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promptly, then one byte of a 100-byte body, then nothing.
	io.WriteString(conn, "POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer hd_x\r\nContent-Length: 100\r\n\r\n{")
	closedByServer(t, conn)
}

func TestIdleConnectionIsClosed(t *testing.T) {
	addr := startHTTP(t, api.Config{ReadHeaderTimeout: time.Second, IdleTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	io.Copy(io.Discard, res.Body)
	// Keep-alive, then silence: the server closes the idle connection.
	closedByServer(t, conn)
}

func TestSilentConnectionIsClosed(t *testing.T) {
	addr := startHTTP(t, api.Config{ReadHeaderTimeout: 100 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\n") // and never the rest of the headers
	closedByServer(t, conn)
}

func TestHeadersAreCapped(t *testing.T) {
	addr := startHTTP(t, api.Config{MaxHeaderBytes: 4 << 10})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB of headers: %v %v", res, err)
	}
}

func TestListenCapsConnections(t *testing.T) {
	ln, err := api.Listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	a, _ := ln.Accept()
	b, _ := ln.Accept()
	third := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			third <- c
		}
	}()
	select {
	case <-third:
		t.Fatal("a third connection was accepted with a cap of 2")
	default:
	}
	a.Close()
	c := <-third // accepted once a slot is free
	b.Close()
	c.Close()
}
