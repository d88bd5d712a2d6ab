package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/huntdesk/huntdesk/models"
)

func TestNilListsEncodeAsArrays(t *testing.T) {
	for _, v := range []any{models.List[models.Org]{}, models.List[models.Inquiry]{NextCursor: "c"}} {
		b, _ := json.Marshal(jsonBody(v))
		if !strings.Contains(string(b), `"items":[]`) {
			t.Errorf("%T encodes as %s", v, b)
		}
	}
	b, _ := json.Marshal(jsonBody(&models.Application{ID: "app_1"}))
	if !strings.Contains(string(b), `"timeline":[]`) || !strings.Contains(string(b), `"id":"app_1"`) {
		t.Errorf("application encodes as %s", b)
	}
	b, _ = json.Marshal(jsonBody(&models.Inquiry{ID: "inq_1", Reports: []models.InquiryReport{{ID: "r1"}}}))
	for _, want := range []string{`"id":"inq_1"`, `"reports":[{`, `"responses":[]`, `"samples":[]`, `"timeline":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("inquiry encodes as %s, want %s", b, want)
		}
	}
}

// A database error no store method mapped (a connection the restarting
// server terminated) is an outage: 503 unavailable, not a 500.
func TestUnmappedConnectionLossIs503(t *testing.T) {
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/", nil)
	err := fmt.Errorf("commit: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"})
	if status, body := errorResponse(c, err); status != http.StatusServiceUnavailable || body.Error.Code != models.EUNAVAILABLE {
		t.Fatalf("%d %+v", status, body)
	}
}
