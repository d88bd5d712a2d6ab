package zipcrypto_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/zipcrypto"
)

func TestRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("MZ\x90\x00 not really malware "), 1000)
	var buf bytes.Buffer
	if err := zipcrypto.WriteFile(&buf, "sample.exe", data, "infected", time.Now()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("not really malware")) {
		t.Fatal("the archive must not carry the file in the clear")
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "sample.exe" || zr.File[0].Mode()&0o111 != 0 {
		t.Fatalf("entries: %+v", zr.File)
	}
	got, err := zipcrypto.ReadFile(zr.File[0], "infected")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decrypt: %v", err)
	}
	if _, err := zipcrypto.ReadFile(zr.File[0], "wrong"); !errors.Is(err, zipcrypto.ErrPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestUnzipOpensIt checks the archive against Info-ZIP's unzip, the tool
// analysts reach for, when the machine has it.
func TestUnzipOpensIt(t *testing.T) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Skip("unzip is not installed")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "s.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zipcrypto.WriteFile(f, "evil.ps1", []byte("Write-Host 'hello'"), "infected", time.Now()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(unzip, "-p", "-P", "infected", filepath.Join(dir, "s.zip")).CombinedOutput()
	if err != nil || string(out) != "Write-Host 'hello'" {
		t.Fatalf("unzip: %v %q", err, out)
	}
	if out, err := exec.Command(unzip, "-p", "-P", "nope", filepath.Join(dir, "s.zip")).CombinedOutput(); err == nil {
		t.Fatalf("unzip accepted a wrong password: %q", out)
	}
}
