package zipcrypto_test

import (
	"archive/zip"
	"bytes"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/zipcrypto"
)

func entry(t *testing.T, name string, modified time.Time) *zip.File {
	t.Helper()
	var buf bytes.Buffer
	if err := zipcrypto.WriteFile(&buf, name, []byte("Write-Host hi"), "infected", modified); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 1 {
		t.Fatalf("read back: %v", err)
	}
	return zr.File[0]
}

// Unzip tools show and restore the entry's date: it is the sample's upload
// time, never 1980-00-00.
func TestEntryCarriesItsModificationTime(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	f := entry(t, "sample.ps1", at)
	if f.ModifiedDate == 0 {
		t.Fatal("MS-DOS date is zero")
	}
	if got := f.Modified.UTC(); !got.Equal(at) {
		t.Fatalf("modified %v, want %v", got, at)
	}
	if got, err := zipcrypto.ReadFile(f, "infected"); err != nil || string(got) != "Write-Host hi" {
		t.Fatalf("content: %q %v", got, err)
	}
}

// A name that is not ASCII is flagged UTF-8 (general purpose bit 11), so
// tools do not read it as CP437.
func TestNonASCIINameIsFlaggedUTF8(t *testing.T) {
	f := entry(t, "échantillon-サンプル.ps1", time.Now())
	if f.Flags&0x800 == 0 {
		t.Fatalf("flags %#x: no UTF-8 bit", f.Flags)
	}
	if f.Flags&0x1 == 0 {
		t.Fatal("no longer encrypted")
	}
	if f.Name != "échantillon-サンプル.ps1" || f.NonUTF8 {
		t.Fatalf("name %q NonUTF8=%v", f.Name, f.NonUTF8)
	}
	if ascii := entry(t, "sample.ps1", time.Now()); ascii.Flags&0x800 != 0 {
		t.Fatalf("an ASCII name flagged UTF-8: %#x", ascii.Flags)
	}
}
