// Package fakeclock is a time source that tests move forward by hand:
// real time plus an offset, so that leases, MVCC windows and expiries can
// be crossed without sleeping while time still flows between calls.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is time.Now moved forward by every Advance so far. The zero value
// is real time. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is time.Now plus the sum of the Advances so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
