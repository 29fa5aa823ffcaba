// Package fakeclock is a time source that tests move forward by hand:
// real time plus an offset, so that leases, MVCC windows and expiries can
// be crossed without sleeping while time still flows between calls; or,
// from Stopped, a clock that moves only when the test moves it, so that a
// slow machine never ages anything by itself.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is time.Now moved forward by every Advance so far. The zero value
// is real time. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	off     time.Duration
	stopped bool
	at      time.Time
}

// Stopped returns a clock that reads start and moves only by Advance. Use
// it where a test's horizon is short enough that real time (a loaded
// machine, the race detector) could cross it between two steps.
func Stopped(start time.Time) *Clock {
	return &Clock{stopped: true, at: start}
}

// Now is time.Now plus the sum of the Advances so far, or for a stopped
// clock its start plus them.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.at.Add(c.off)
	}
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
