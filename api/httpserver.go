package api

import (
	"net"
	"net/http"

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
//     seconds, not minutes). Upload routes extend it with their read deadline.
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
