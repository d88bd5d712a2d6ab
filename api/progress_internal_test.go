package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// deadlineRecorder is a ResponseWriter that records the write deadlines set
// on it (as net/http's own writer would apply them to the connection).
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	deadlines []time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}

// A large answer (a sample's zip) is bounded by progress, not by one
// deadline for the whole of it: every chunk written gets WriteTimeout.
func TestLargeResponsesExtendTheWriteDeadlineAsTheyProgress(t *testing.T) {
	rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
	c, _ := gin.CreateTestContext(rec)
	w := newProgressWriter(c.Writer, time.Minute)
	data := bytes.Repeat([]byte("z"), 1<<20)
	if n, err := w.Write(data); err != nil || n != len(data) {
		t.Fatalf("write: %d %v", n, err)
	}
	if rec.Body.Len() != len(data) {
		t.Fatalf("wrote %d bytes", rec.Body.Len())
	}
	if len(rec.deadlines) < 4 {
		t.Fatalf("%d deadlines for 1 MiB, want one per chunk", len(rec.deadlines))
	}
	if rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
}
