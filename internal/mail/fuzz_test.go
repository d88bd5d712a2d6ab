package mail

import (
	"net/mail"
	"strings"
	"testing"
)

// FuzzRecipients: whatever a caller puts in an address, what checkMessage
// accepts is one bare address that net/mail parses back to itself, with no
// CR, LF or other byte that could start a header of its own.
func FuzzRecipients(f *testing.F) {
	for _, s := range []string{"soc@contoso.example", "a@b.example\r\nBcc: x@evil.example", "\"x\" <a@b.example>", "a@b.example,c@d.example", "ünïcode@例え.jp", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		to, err := checkMessage(Message{Entity: "e", Event: "v", Template: "test", To: []string{addr}})
		if err != nil {
			return
		}
		if len(to) != 1 || strings.ContainsAny(to[0], "\r\n\x00<>,;\" ") {
			t.Fatalf("accepted %q as %q", addr, to)
		}
		if a, err := mail.ParseAddress(to[0]); err != nil || a.Address != to[0] || a.Name != "" {
			t.Fatalf("accepted %q, which is not one bare address: %v %v", to[0], a, err)
		}
	})
}
