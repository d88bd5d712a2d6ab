package api

import (
	"encoding/json"
	"strings"
	"testing"

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
