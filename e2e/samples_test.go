package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
)

// TestSampleUploadsStreamAndQuotas: over HTTP, a sample larger than one
// storage chunk streams in and comes back whole in its zip; the inquiry's
// byte and count quotas refuse with sample_quota_exceeded (issue 18, item 13).
func TestSampleUploadsStreamAndQuotas(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, func(c *devstack.Config) {
		c.Inquiries = cases.Inquiries{SLA: 10 * time.Minute, SampleMaxCount: 2, SampleQuotaBytes: 4 << 20}
		c.API.SampleMaxBytes = 8 << 20
	})
	defer st.Close()
	c := client{t: t, base: st.URL}
	fabrikam, expert := st.Tokens["admin@fabrikam.example"], st.Tokens["expert@huntdesk.example"]
	ask := map[string]any{"topic_url": "https://security.microsoft.com/alerts/s1", "context": "A dropped binary we want an expert to look at.", "contact_email": "soc@fabrikam.example"}
	var q inquiry
	c.call("POST", "/api/v1/inquiries", fabrikam, ask).decode(t, &q)
	path := "/api/v1/inquiries/" + q.ID + "/samples"

	big := bytes.Repeat([]byte("huntdesk-sample:"), (3<<20+777)/16) // three chunks and a bit
	r := c.upload(path, fabrikam, "dropper.bin", big)
	var smp struct{ ID, SHA256 string }
	r.decode(t, &smp)
	sum := sha256.Sum256(big)
	if r.status != 201 || smp.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	r = c.call("GET", "/api/v1/samples/"+smp.ID+"/download", expert, nil)
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if r.status != 200 || err != nil || len(zr.File) != 1 {
		t.Fatalf("download: %d %v", r.status, err)
	}
	if got, err := zipcrypto.ReadFile(zr.File[0], "infected"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the zipped sample differs (%d bytes, %v)", len(got), err)
	}

	// 3 MiB used of 4 MiB: a 2 MiB sample is over the byte quota.
	r = c.upload(path, fabrikam, "second.bin", make([]byte, 2<<20))
	if r.status != 413 || r.code(t) != "too_large" || !strings.Contains(string(r.body), "sample_quota_exceeded") {
		t.Fatalf("over the byte quota: %d %s", r.status, r.body)
	}
	if r := c.upload(path, fabrikam, "small.txt", []byte("small")); r.status != 201 {
		t.Fatalf("a small second sample: %d %s", r.status, r.body)
	}
	r = c.upload(path, fabrikam, "third.txt", []byte("third"))
	if r.status != 409 || !strings.Contains(string(r.body), "sample_quota_exceeded") {
		t.Fatalf("over the count quota: %d %s", r.status, r.body)
	}
	var got inquiry
	c.call("GET", "/api/v1/inquiries/"+q.ID, fabrikam, nil).decode(t, &got)
	if len(got.Samples) != 2 {
		t.Fatalf("%d samples; want 2", len(got.Samples))
	}
}
