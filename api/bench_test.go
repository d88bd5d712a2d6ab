package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/huntdesk/huntdesk/api"
)

// benchGet measures one authenticated GET through the whole HTTP stack:
// request id, token lookup, role check, handler, JSON, metrics.
func benchGet(b *testing.B, f *fixture, path, token string) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("GET %s: %d", path, w.Code)
		}
	}
}

// BenchmarkMe is the cheapest authenticated read.
func BenchmarkMe(b *testing.B) {
	f := newFixture(b, api.Config{RateLimit: -1})
	benchGet(b, f, "/api/v1/me", f.as("expert"))
}

// BenchmarkQueue is the expert queue's first page over 200 open inquiries.
func BenchmarkQueue(b *testing.B) {
	f := newFixture(b, api.Config{RateLimit: -1})
	for i := 0; i < 200; i++ {
		f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("admin_b"), body: goodInquiry})
	}
	benchGet(b, f, "/api/v1/queue?limit=50", f.as("expert"))
}
