package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

func newInquiry(t *testing.T, db *store.DB) (models.Principal, *models.Inquiry) {
	t.Helper()
	p := customer(t, db, "Samples", &models.Subscription{Plan: models.PlanFull}, 10)
	in := askInput()
	kind, _ := in.Validate()
	q, err := db.CreateInquiry(context.Background(), p, in, kind, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return p, q
}

// countingReader counts the largest read asked of it: streaming reads in
// chunks, never the whole file at once.
type countingReader struct {
	r       io.Reader
	maxRead int
}

func (c *countingReader) Read(b []byte) (int, error) {
	if len(b) > c.maxRead {
		c.maxRead = len(b)
	}
	return c.r.Read(b)
}

// TestStoreSampleStreamsInChunks: an upload is stored as it is read, a chunk
// at a time, with its SHA-256, and reads back whole (issue 18, item 13).
func TestStoreSampleStreamsInChunks(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p, q := newInquiry(t, db)
	data := bytes.Repeat([]byte("0123456789abcdef"), (3*store.SampleChunkSize+12345)/16)
	cr := &countingReader{r: bytes.NewReader(data)}
	smp, err := db.StoreSample(ctx, p, q.ID, "", "big.bin", cr, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if smp.Size != int64(len(data)) || smp.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored %d bytes, sha %s", smp.Size, smp.SHA256)
	}
	if cr.maxRead > store.SampleChunkSize {
		t.Fatalf("read %d bytes at once; chunks are %d", cr.maxRead, store.SampleChunkSize)
	}
	var chunks int64
	db.Gorm().Table("sample_chunks").Where("sample_id = ?", smp.ID).Count(&chunks)
	if chunks != 4 {
		t.Fatalf("%d chunks; want 4", chunks)
	}
	// Attach it (the workflow's commit) and read it back.
	if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: "sample_added/" + smp.ID, Action: "sample_added", Actor: p,
		At: time.Now(), Status: models.InquirySubmitted, DueAt: *q.DueAt, SampleID: smp.ID}); err != nil {
		t.Fatal(err)
	}
	_, got, err := db.SampleData(ctx, "", smp.ID)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	if n, size, err := db.SampleUsage(ctx, q.ID); err != nil || n != 1 || size != int64(len(data)) {
		t.Fatalf("usage: %d samples, %d bytes, %v", n, size, err)
	}
}

// TestStoreSampleTooLargeOrBrokenLeavesNothing: an upload over the limit,
// or one whose client goes away, is removed again.
func TestStoreSampleTooLargeOrBrokenLeavesNothing(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p, q := newInquiry(t, db)
	data := make([]byte, store.SampleChunkSize+10)
	if _, err := db.StoreSample(ctx, p, q.ID, "", "big.bin", bytes.NewReader(data), int64(len(data))-1); models.ErrorCode(err) != models.ETOOLARGE {
		t.Fatalf("over the limit: %v", err)
	}
	broken := io.MultiReader(bytes.NewReader(data), &failing{})
	if _, err := db.StoreSample(ctx, p, q.ID, "", "cut.bin", broken, 10*int64(len(data))); err == nil {
		t.Fatal("a broken upload was stored")
	}
	var rows, chunks int64
	db.Gorm().Table("samples").Where("inquiry_id = ?", q.ID).Count(&rows)
	db.Gorm().Table("sample_chunks").Count(&chunks)
	if rows != 0 || chunks != 0 {
		t.Fatalf("left behind: %d samples, %d chunks", rows, chunks)
	}
}

type failing struct{}

func (*failing) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// TestDiscardSampleKeepsAnAttachedOne: discarding a sample the workflow
// already committed (an ambiguous error, then a discard) deletes nothing
// (issue 18, item 5); an unattached one goes, bytes and all.
func TestDiscardSampleKeepsAnAttachedOne(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p, q := newInquiry(t, db)
	smp, err := db.DraftSample(ctx, p, q.ID, "a.ps1", []byte("Write-Host hi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: "sample_added/" + smp.ID, Action: "sample_added", Actor: p,
		At: time.Now(), Status: models.InquirySubmitted, DueAt: *q.DueAt, SampleID: smp.ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.DiscardSample(ctx, smp.ID); err != nil {
		t.Fatal(err)
	}
	if _, data, err := db.SampleData(ctx, "", smp.ID); err != nil || string(data) != "Write-Host hi" {
		t.Fatalf("the attached sample after a discard: %q %v", data, err)
	}
	loose, err := db.DraftSample(ctx, p, q.ID, "b.ps1", []byte("Write-Host bye"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DiscardSample(ctx, loose.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SampleStateOf(ctx, loose.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the unattached sample after a discard: %v", err)
	}
}

// TestPurgeAbandoned: drafts and samples no workflow took are removed once
// old; posted texts and attached samples stay.
func TestPurgeAbandoned(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	p, q := newInquiry(t, db)
	kept, err := db.DraftSample(ctx, p, q.ID, "kept.bin", []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyInquiryChange(ctx, store.InquiryChange{InquiryID: q.ID, Key: "sample_added/" + kept.ID, Action: "sample_added", Actor: p,
		At: time.Now(), Status: models.InquirySubmitted, DueAt: *q.DueAt, SampleID: kept.ID}); err != nil {
		t.Fatal(err)
	}
	loose, _ := db.DraftSample(ctx, p, q.ID, "loose.bin", []byte("loose"))
	draft, _ := db.DraftMessage(ctx, p, q.ID, "response", "", "never sent")
	if d, n, err := db.PurgeAbandoned(ctx, time.Now().Add(-time.Hour)); err != nil || d != 0 || n != 0 {
		t.Fatalf("nothing is old yet: %d %d %v", d, n, err)
	}
	d, n, err := db.PurgeAbandoned(ctx, time.Now().Add(time.Hour))
	if err != nil || d != 1 || n != 1 {
		t.Fatalf("purged %d drafts, %d samples, %v; want 1 and 1", d, n, err)
	}
	if _, err := db.SampleStateOf(ctx, loose.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the loose sample: %v", err)
	}
	if exists, _, _ := db.DraftPosted(ctx, draft); exists {
		t.Fatal("the abandoned draft is still there")
	}
	if _, data, err := db.SampleData(ctx, "", kept.ID); err != nil || string(data) != "kept" {
		t.Fatalf("the attached sample: %q %v", data, err)
	}
}
