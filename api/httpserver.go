package api

import (
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/netutil"
)

// HTTPServer is the http.Server to run the API with: every timeout and limit
// of Config, so no outsider can hold a connection, a goroutine or a file
// descriptor for long without sending a request.
//
//   - ReadHeaderTimeout: the request line and headers (a silent or trickling
//     client is cut).
//   - ReadTimeout: the whole request, body included. Sample uploads may be
//     large, so their routes move the deadline to UploadTimeout themselves
//     (see wrap) instead of raising it for every route.
//   - WriteTimeout: the response; it runs from the end of the headers, so it
//     also bounds the handler (creates and updates wait on Temporal for
//     seconds, not minutes): routes cancel their handler's context at 90 %
//     of it (503). Upload routes extend it with their read deadline, and every
//     256 KiB written gets it again (progressWriter), so a large download
//     is bounded by progress rather than by its size.
//   - IdleTimeout: a keep-alive connection between requests.
//   - MaxHeaderBytes: 431 above.
//
// Listen caps the number of connections.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
	}
}

// MaxConns is the connection cap Listen should apply for this server.
func (s *Server) MaxConns() int { return s.cfg.MaxConns }

// Listen listens on addr and accepts at most maxConns connections at once
// (maxConns <= 0: no cap); further clients wait in the kernel's backlog until
// a connection closes, so a flood cannot exhaust file descriptors and starve
// /readyz. x/net's netutil is already in the module graph (via gRPC).
func Listen(addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		ln = netutil.LimitListener(ln, maxConns)
	}
	return ln, nil
}

// progressWriter bounds a response by its progress instead of by one
// deadline for the whole of it: before each chunk the write deadline moves
// WriteTimeout ahead. A large answer (a 32 MiB sample zip to an expert on a
// slow link) completes as long as the client keeps reading; a client that
// stops reading is cut WriteTimeout later.
type progressWriter struct {
	gin.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

const progressChunk = 256 << 10

func newProgressWriter(w gin.ResponseWriter, timeout time.Duration) *progressWriter {
	return &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), progressChunk)]
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) // unsupported by test recorders
		m, err := w.ResponseWriter.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		b = b[m:]
	}
	return n, nil
}

func (w *progressWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Unwrap lets http.ResponseController reach the connection through it.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
