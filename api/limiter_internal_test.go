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
