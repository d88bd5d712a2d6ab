package models

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every text a caller sends is checked here, field by field, by the input's
// Validate: one place decides what a name and what a text may hold.
//
//   - A one-line field (a name, an email address, an id, a link, a file name)
//     ends up in email subjects, headers and logs: it must be valid UTF-8
//     with no control character at all (CR, LF, NUL, tab, escape, DEL, C1)
//     and no Unicode line or paragraph separator. A CR/LF in an org name
//     would otherwise be stored and then block every email whose subject
//     carries it.
//   - A multi-line text (an inquiry's context, a report, a reason) may hold
//     line breaks and tabs, but never NUL, which PostgreSQL refuses (a 500
//     instead of a 400), and must be valid UTF-8.

// OneLine reports whether s is valid UTF-8 without control characters or
// line/paragraph separators.
func OneLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// StorableText reports whether s is valid UTF-8 without NUL.
func StorableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Line records an error for field when s is not one line of plain text.
func (v *Validation) Line(field, s string) {
	v.Check(OneLine(s), field, "must be one line of text without control characters")
}

// Text records an error for field when s holds NUL or is not valid UTF-8.
func (v *Validation) Text(field, s string) {
	v.Check(StorableText(s), field, "must be text without NUL characters")
}

// ValidateFilename checks a sample's file name as uploaded (before
// CleanFilename): one line, no control characters.
func ValidateFilename(field, name string) error {
	var v Validation
	v.Line(field, name)
	return v.Err()
}

// bidiControl reports whether r reorders how text around it is displayed
// ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"): embeddings and
// overrides U+202A–U+202E, isolates U+2066–U+2069, the marks U+200E, U+200F
// and U+061C.
func bidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

// cutUTF8 shortens s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
