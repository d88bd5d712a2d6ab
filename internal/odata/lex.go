package odata

import (
	"strings"
	"unicode"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber // digits, optionally with a leading '-'
	tDate   // an unquoted datetime, e.g. 2026-01-02T03:04:05Z
	tLParen
	tRParen
	tComma
	tColon
	tSlash
)

type token struct {
	kind tokKind
	text string // as written (strings: unquoted, '' folded)
	pos  int    // 1-based rune position
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		return "'" + strings.ReplaceAll(t.text, "'", "''") + "'"
	}
	return t.text
}

// maxFilterLen bounds the work one request can ask for.
const maxFilterLen = 4096

func lex(param, s string) ([]token, error) {
	r := []rune(s)
	if len(r) > maxFilterLen {
		return nil, errAt(param, 0, "is longer than %d characters", maxFilterLen)
	}
	var out []token
	for i := 0; i < len(r); {
		c := r[i]
		pos := i + 1
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			out, i = append(out, token{tLParen, "(", pos}), i+1
		case c == ')':
			out, i = append(out, token{tRParen, ")", pos}), i+1
		case c == ',':
			out, i = append(out, token{tComma, ",", pos}), i+1
		case c == ':':
			out, i = append(out, token{tColon, ":", pos}), i+1
		case c == '/':
			out, i = append(out, token{tSlash, "/", pos}), i+1
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(r) {
					return nil, errAt(param, pos, "unterminated string")
				}
				if r[j] == '\'' {
					if j+1 < len(r) && r[j+1] == '\'' {
						b.WriteRune('\'')
						j += 2
						continue
					}
					break
				}
				if r[j] == 0 {
					return nil, errAt(param, j+1, "NUL character in string")
				}
				b.WriteRune(r[j])
				j++
			}
			out, i = append(out, token{tString, b.String(), pos}), j+1
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			j := i + 1
			for j < len(r) && (isIdentRune(r[j]) || r[j] == ':' && j+1 < len(r) && r[j+1] >= '0' && r[j+1] <= '9' || r[j] == '-' || r[j] == '+' || r[j] == '.') {
				j++
			}
			text := string(r[i:j])
			kind := tNumber
			for _, d := range text[1:] {
				if d < '0' || d > '9' {
					kind = tDate
					break
				}
			}
			out, i = append(out, token{kind, text, pos}), j
		case isIdentStart(c):
			j := i + 1
			for j < len(r) && (isIdentRune(r[j]) || r[j] == '.') {
				j++
			}
			out, i = append(out, token{tIdent, string(r[i:j]), pos}), j
		default:
			return nil, errAt(param, pos, "unexpected character %q", c)
		}
	}
	return append(out, token{tEOF, "", len(r) + 1}), nil
}

func isIdentStart(c rune) bool { return c == '_' || c == '$' || c < 128 && unicode.IsLetter(c) }
func isIdentRune(c rune) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
