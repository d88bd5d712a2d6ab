// Package zipcrypto writes (and reads back) zip archives whose entries are
// encrypted with the traditional PKWARE scheme ("ZipCrypto").
//
// Malware samples are exchanged in such zips under the password "infected":
// the point is not secrecy but that no mail filter, antivirus or double-click
// ever sees or runs the raw file. ZipCrypto is what every unzip tool opens
// (unzip -P, 7-Zip, the OS archive tools); AES zips are not. The archive
// itself is written by the standard library's archive/zip (CreateRaw); this
// package adds only the cipher. The usual libraries for this (yeka/zip,
// alexmullins/zip) are forks of an old archive/zip and are not served by the
// module proxy these machines use.
package zipcrypto

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"time"
	"unicode/utf8"
)

type keys [3]uint32

func newKeys(password string) *keys {
	k := &keys{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		k.update(password[i])
	}
	return k
}

func crcUpdate(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ (crc >> 8)
}

func (k *keys) update(b byte) {
	k[0] = crcUpdate(k[0], b)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crcUpdate(k[2], byte(k[1]>>24))
}

func (k *keys) stream() byte {
	t := uint16(k[2] | 2)
	return byte((uint32(t) * uint32(t^1)) >> 8)
}

func (k *keys) encrypt(b []byte) {
	for i, c := range b {
		b[i] = c ^ k.stream()
		k.update(c)
	}
}

func (k *keys) decrypt(b []byte) {
	for i, c := range b {
		p := c ^ k.stream()
		k.update(p)
		b[i] = p
	}
}

// WriteFile writes a zip holding one deflated entry, name, encrypted with
// password.
func WriteFile(w io.Writer, name string, data []byte, password string, modified time.Time) error {
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.DefaultCompression)
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	crc := crc32.ChecksumIEEE(data)
	// The 12-byte encryption header: random, but for its last byte, the CRC's
	// high byte, which readers use to check the password.
	header := make([]byte, 12)
	if _, err := rand.Read(header[:11]); err != nil {
		return err
	}
	header[11] = byte(crc >> 24)
	body := append(header, deflated.Bytes()...)
	newKeys(password).encrypt(body)

	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{Name: name, Method: zip.Deflate, Flags: 0x1, CRC32: crc,
		CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(data)), Modified: modified.UTC()}
	fh.SetMode(0o600) // never executable
	stampHeader(fh)
	raw, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	if _, err := raw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}

// stampHeader does for a raw entry what zip.Writer.CreateHeader does for a
// normal one and CreateRaw does not: the MS-DOS date and time and the
// extended-timestamp field from Modified (else unzip tools show 1980-00-00),
// and the UTF-8 flag (general purpose bit 11) for a name that is not ASCII
// (else tools read it as CP437).
func stampHeader(fh *zip.FileHeader) {
	if fh.Modified.IsZero() {
		fh.Modified = time.Now().UTC()
	}
	t := fh.Modified
	if t.Year() < 1980 { // the MS-DOS format starts in 1980
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	fh.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	fh.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	ext := make([]byte, 9) // extended timestamp (0x5455): modification time, Unix seconds
	binary.LittleEndian.PutUint16(ext[0:], 0x5455)
	binary.LittleEndian.PutUint16(ext[2:], 5)
	ext[4] = 1
	binary.LittleEndian.PutUint32(ext[5:], uint32(fh.Modified.Unix()))
	fh.Extra = append(fh.Extra, ext...)
	for i := 0; i < len(fh.Name); i++ {
		if fh.Name[i] >= 0x80 {
			if utf8.ValidString(fh.Name) {
				fh.Flags |= 0x800
			}
			break
		}
	}
}

// ErrPassword is returned when the password does not open an entry.
var ErrPassword = errors.New("zipcrypto: wrong password")

// ReadFile opens an encrypted entry of a zip with password and returns its
// content, checking its CRC.
func ReadFile(f *zip.File, password string) ([]byte, error) {
	if f.Flags&0x1 == 0 {
		return nil, errors.New("zipcrypto: entry is not encrypted")
	}
	rc, err := f.OpenRaw()
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if len(body) < 12 {
		return nil, errors.New("zipcrypto: entry too short")
	}
	newKeys(password).decrypt(body)
	if body[11] != byte(f.CRC32>>24) {
		return nil, ErrPassword
	}
	var r io.Reader = bytes.NewReader(body[12:])
	if f.Method == zip.Deflate {
		fr := flate.NewReader(r)
		defer fr.Close()
		r = fr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, ErrPassword
	}
	if crc32.ChecksumIEEE(data) != f.CRC32 {
		return nil, ErrPassword
	}
	return data, nil
}
