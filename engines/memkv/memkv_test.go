package memkv_test

import (
	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/engines/memkv"
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

// A shorter window changes nothing but the window tests' horizon.
func TestConformanceShortWindow(t *testing.T) {
	clock := &fakeclock.Clock{}
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
