package api_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
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
	// Rows straight into the store: the fixture's services have no Temporal.
	u := f.users["admin_b"]
	p := models.Principal{UserID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role}
	for i := 0; i < 200; i++ {
		in := models.InquiryInput{TopicURL: "https://security.microsoft.com/machines/m1", Context: "Is this device compromised? Odd rundll32 activity.", ContactEmail: "soc@bravo.example"}
		kind, err := in.Validate()
		if err == nil {
			_, err = f.db.CreateInquiry(context.Background(), p, in, kind, 48*time.Hour)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	benchGet(b, f, "/api/v1/queue?limit=50", f.as("expert"))
}
