package mail_test

import (
	"context"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/mail"
)

// TestMemoryOutboxMarkFailedMarksThatEmailOnly: the in-memory outbox keeps
// the database's contract (store.Outbox, tested in internal/store): a
// failure is recorded on that message only, and never on a sent one.
func TestMemoryOutboxMarkFailedMarksThatEmailOnly(t *testing.T) {
	ctx := context.Background()
	ob := &mail.MemoryOutbox{}
	for _, id := range []string{"<failing@test>", "<pending@test>", "<sent@test>"} {
		if sent, err := ob.Reserve(ctx, mail.OutboxEntry{MessageID: id, To: []string{"a@test.example"}}); err != nil || sent {
			t.Fatalf("reserve %s: %v %v", id, sent, err)
		}
	}
	if err := ob.MarkSent(ctx, "<sent@test>", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"<failing@test>", "<sent@test>", "<unknown@test>"} {
		if err := ob.MarkFailed(ctx, id, "550 mailbox unavailable"); err != nil {
			t.Fatal(err)
		}
	}
	if e, _ := ob.Entry("<failing@test>"); e.Sent || e.Attempts != 1 || e.LastError != "550 mailbox unavailable" {
		t.Fatalf("the failed email: %+v", e)
	}
	if e, _ := ob.Entry("<pending@test>"); e.Sent || e.Attempts != 0 || e.LastError != "" {
		t.Fatalf("another email was touched: %+v", e)
	}
	if e, _ := ob.Entry("<sent@test>"); !e.Sent || e.LastError != "" || e.Attempts != 1 {
		t.Fatalf("the sent email: %+v", e)
	}
	if _, ok := ob.Entry("<unknown@test>"); ok {
		t.Fatal("marking an unknown message created it")
	}
}
