package api

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet holds one token bucket per key (a caller, a client address) in
// bounded memory: at most max buckets, least recently used evicted first,
// and buckets idle long enough to have refilled (indistinguishable from a
// fresh one) swept away. Outsiders choose the keys, so nothing they send can
// grow it without bound.
type limiterSet struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // a bucket untouched this long is full again
	now   func() time.Time

	mu        sync.Mutex
	lru       *list.List // of *limiterEntry, most recent first
	byKey     map[string]*list.Element
	lastSweep time.Time
}

type limiterEntry struct {
	key  string
	lim  *rate.Limiter
	used time.Time
}

func newLimiterSet(perSecond float64, burst, max int) *limiterSet {
	idle := time.Duration(math.Ceil(float64(burst)/perSecond)) * time.Second
	if perSecond <= 0 || idle <= 0 || idle > 24*time.Hour {
		idle = 24 * time.Hour
	}
	return &limiterSet{limit: rate.Limit(perSecond), burst: burst, max: max, idle: idle, now: time.Now,
		lru: list.New(), byKey: map[string]*list.Element{}}
}

// get returns key's bucket, creating it (and making room) when needed.
// Callers hold mu.
func (ls *limiterSet) get(key string, now time.Time) *rate.Limiter {
	if now.Sub(ls.lastSweep) > ls.idle {
		ls.sweepLocked(now)
	}
	if el, ok := ls.byKey[key]; ok {
		e := el.Value.(*limiterEntry)
		e.used = now
		ls.lru.MoveToFront(el)
		return e.lim
	}
	for ls.lru.Len() >= ls.max {
		oldest := ls.lru.Back()
		ls.lru.Remove(oldest)
		delete(ls.byKey, oldest.Value.(*limiterEntry).key)
	}
	e := &limiterEntry{key: key, lim: rate.NewLimiter(ls.limit, ls.burst), used: now}
	ls.byKey[key] = ls.lru.PushFront(e)
	return e.lim
}

// allow takes a token from key's bucket.
func (ls *limiterSet) allow(key string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	now := ls.now()
	return ls.get(key, now).AllowN(now, 1)
}

// blocked reports whether key's bucket is empty without taking a token, and
// if so how long until it holds one again.
func (ls *limiterSet) blocked(key string) (time.Duration, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	el, ok := ls.byKey[key]
	if !ok {
		return 0, false
	}
	now := ls.now()
	lim := el.Value.(*limiterEntry).lim
	if lim.TokensAt(now) >= 1 {
		return 0, false
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return wait, true
}

// sweep forgets every bucket idle long enough to be full again.
func (ls *limiterSet) sweep() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sweepLocked(ls.now())
}

func (ls *limiterSet) sweepLocked(now time.Time) {
	ls.lastSweep = now
	for el := ls.lru.Back(); el != nil; {
		e := el.Value.(*limiterEntry)
		if now.Sub(e.used) < ls.idle {
			break // the rest are more recent
		}
		prev := el.Prev()
		ls.lru.Remove(el)
		delete(ls.byKey, e.key)
		el = prev
	}
}

func (ls *limiterSet) len() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.lru.Len()
}

// clientKey is what failed authentications are counted against: the client's
// IPv4 address, or its IPv6 /64 (one host or home network usually holds a
// whole /64, so per-address budgets would be endless).
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return addr.String()
	}
	return p.String()
}
