package api

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterSetIsBoundedAndForgetsIdleLimiters(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ls := newLimiterSet(1, 2, 100) // 1/s, burst 2: idle for 2 s means full again
	ls.now = func() time.Time { return now }
	for i := 0; i < 10_000; i++ {
		ls.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if ls.len() > 100 {
			t.Fatalf("%d limiters after %d keys, cap 100", ls.len(), i+1)
		}
	}
	// A limiter in use keeps its state while it is among the most recent.
	ls.allow("a")
	ls.allow("a")
	if ls.allow("a") {
		t.Fatal("a third request within the burst of 2 was allowed")
	}
	// Idle limiters are swept once they would be full again anyway.
	now = now.Add(3 * time.Second)
	ls.sweep()
	if n := ls.len(); n != 0 {
		t.Fatalf("%d limiters left after everyone went idle", n)
	}
	if !ls.allow("a") {
		t.Fatal("a fresh limiter refused")
	}
}

// One IPv6 host usually holds a whole /64: counting per address would give
// it 2^64 budgets.
func TestClientKeyGroupsIPv6By64(t *testing.T) {
	if a, b := clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:2:ffff::9"); a != b {
		t.Fatalf("one /64, two keys: %s %s", a, b)
	}
	if a, b := clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:3::1"); a == b {
		t.Fatalf("two /64s, one key: %s", a)
	}
	if a, b := clientKey("192.0.2.1"), clientKey("192.0.2.2"); a == b || a != "192.0.2.1" {
		t.Fatalf("IPv4 addresses: %s %s", a, b)
	}
	if k := clientKey("::ffff:192.0.2.1"); k != "192.0.2.1" {
		t.Fatalf("IPv4-mapped: %s", k)
	}
}
