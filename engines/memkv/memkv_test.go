package memkv_test

import (
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
)

// fakeClock is real time plus an offset that tests move forward.
type fakeClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func TestConformance(t *testing.T) {
	clock := &fakeClock{}
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			db := memkv.New(memkv.Options{Clock: clock.Now})
			tb.Cleanup(func() { _ = db.Close() })
			return db
		},
		Advance: clock.Advance,
		Window:  5 * time.Second,
	})
}

// A shorter window changes nothing but the window tests' horizon.
func TestConformanceShortWindow(t *testing.T) {
	clock := &fakeClock{}
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			db := memkv.New(memkv.Options{Clock: clock.Now, Window: 50 * time.Millisecond})
			tb.Cleanup(func() { _ = db.Close() })
			return db
		},
		Advance:       clock.Advance,
		Window:        50 * time.Millisecond,
		Workers:       4,
		TxnsPerWorker: 500,
	})
}
