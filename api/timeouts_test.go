package api_test

import (
	"bufio"
	"errors"
	"fmt"
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
	addr, _ := startFixtureHTTP(t, cfg)
	return addr
}

func startFixtureHTTP(t *testing.T, cfg api.Config) (string, *fixture) {
	t.Helper()
	f := newFixture(t, cfg)
	ln, err := api.Listen("127.0.0.1:0", cfg.MaxConns)
	if err != nil {
		t.Fatal(err)
	}
	hs := f.srv.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), f
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

// A sample upload may take longer than ReadTimeout: its route has the upload
// deadline instead, so a body slower than ReadTimeout still gets an answer.
func TestUploadMayTakeLongerThanReadTimeout(t *testing.T) {
	addr, f := startFixtureHTTP(t, api.Config{ReadHeaderTimeout: time.Second, ReadTimeout: 100 * time.Millisecond, UploadTimeout: time.Minute})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.ps1\"\r\nContent-Type: application/octet-stream\r\n\r\nWrite-Host hi\r\n--b--\r\n"
	fmt.Fprintf(conn, "POST /api/v1/inquiries/inq_missing/samples HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Idempotency-Key: slow-upload\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", f.as("customer_admin"), len(body))
	io.WriteString(conn, body[:10])
	time.Sleep(300 * time.Millisecond) // longer than ReadTimeout: the condition under test, not an assertion
	io.WriteString(conn, body[10:])
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the slow upload was cut: %v", err)
	}
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("upload to a missing inquiry: %d", res.StatusCode)
	}
}
