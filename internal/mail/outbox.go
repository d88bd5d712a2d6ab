package mail

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// OutboxEntry is one email as recorded before it is sent.
type OutboxEntry struct {
	MessageID, Entity, Event string
	To                       []string
	Subject, Text, HTML      string
	CreatedAt                time.Time
}

// Outbox records emails before they are sent, so a retried activity can tell
// a delivered message from one still to send. The database implements it
// (store.Outbox); MemoryOutbox is the in-memory one.
type Outbox interface {
	// Reserve records e unless its MessageID is known; sent reports whether
	// that message was already delivered.
	Reserve(ctx context.Context, e OutboxEntry) (sent bool, err error)
	MarkSent(ctx context.Context, messageID string, at time.Time) error
	MarkFailed(ctx context.Context, messageID string, errText string) error
}

// MemoryOutbox is an Outbox kept in memory, for tests and tools. The zero
// value is ready to use and safe for concurrent use.
type MemoryOutbox struct {
	mu      sync.Mutex
	entries map[string]*MemoryEntry
}

// MemoryEntry is an entry of a MemoryOutbox with its delivery state.
type MemoryEntry struct {
	OutboxEntry
	Sent      bool
	SentAt    time.Time
	Attempts  int    // MarkSent and MarkFailed calls
	LastError string // of the last failed attempt; cleared when sent
}

var _ Outbox = (*MemoryOutbox)(nil)

// Reserve implements Outbox.
func (o *MemoryOutbox) Reserve(_ context.Context, e OutboxEntry) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if got, ok := o.entries[e.MessageID]; ok {
		return got.Sent, nil
	}
	if o.entries == nil {
		o.entries = map[string]*MemoryEntry{}
	}
	e.To = slices.Clone(e.To) // the caller's slice is not ours to keep
	o.entries[e.MessageID] = &MemoryEntry{OutboxEntry: e}
	return false, nil
}

// MarkSent implements Outbox. Unknown ids are ignored, as in the database.
func (o *MemoryOutbox) MarkSent(_ context.Context, id string, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.entries[id]; ok {
		e.Sent, e.SentAt, e.LastError = true, at, ""
		e.Attempts++
	}
	return nil
}

// MarkFailed implements Outbox. A sent entry stays sent: a late failure
// report must not make it look deliverable again.
func (o *MemoryOutbox) MarkFailed(_ context.Context, id, errText string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.entries[id]; ok && !e.Sent {
		e.LastError = errText
		e.Attempts++
	}
	return nil
}

// Sent reports whether message id was delivered.
func (o *MemoryOutbox) Sent(id string) bool {
	e, ok := o.Entry(id)
	return ok && e.Sent
}

// Entry returns a copy of the entry for message id.
func (o *MemoryOutbox) Entry(id string) (MemoryEntry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.entries[id]
	if !ok {
		return MemoryEntry{}, false
	}
	c := *e
	c.To = slices.Clone(e.To)
	return c, true
}

// Entries returns copies of every entry, oldest first.
func (o *MemoryOutbox) Entries() []MemoryEntry {
	o.mu.Lock()
	out := make([]MemoryEntry, 0, len(o.entries))
	for _, e := range o.entries {
		c := *e
		c.To = slices.Clone(e.To)
		out = append(out, c)
	}
	o.mu.Unlock()
	slices.SortFunc(out, func(a, b MemoryEntry) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.MessageID, b.MessageID)
	})
	return out
}
