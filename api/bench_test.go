package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/huntdesk/huntdesk/api"
)

// BenchmarkMe measures one authenticated read through the whole HTTP stack:
// request id, token lookup, rate limit, handler, JSON, metrics.
func BenchmarkMe(b *testing.B) {
	f := newFixture(b, api.Config{RateLimit: -1})
	tok := f.as("expert")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkQueue measures the expert queue over 200 open inquiries.
func BenchmarkQueue(b *testing.B) {
	f := newFixture(b, api.Config{RateLimit: -1})
	for i := 0; i < 200; i++ {
		f.do(request{method: "POST", path: "/api/v1/inquiries", token: f.as("admin_b"), body: goodInquiry})
	}
	tok := f.as("expert")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/api/v1/queue?limit=50", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
