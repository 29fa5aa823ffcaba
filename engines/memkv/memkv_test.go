package memkv_test

import (
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"github.com/fsmeta/fsmeta/kv"
)

func TestConformance(t *testing.T) {
	clock := &fakeclock.Clock{}
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

// A shorter window changes nothing but the window tests' horizon. Its clock
// is stopped: 50 ms of real time pass inside one transaction of the suite
// on a loaded machine under the race detector, and the suite's transactions
// must then not age out on their own; the window tests cross the horizon
// with Advance.
func TestConformanceShortWindow(t *testing.T) {
	clock := fakeclock.Stopped(time.Unix(1_700_000_000, 0))
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
