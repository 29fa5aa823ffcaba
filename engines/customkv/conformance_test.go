package customkv_test

import (
	"testing"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/kv"
)

func workload() (workers, txns int) {
	if testing.Short() {
		return 4, 100
	}
	return 8, 400
}

func TestConformance_InProcess(t *testing.T) {
	clock := &testserver.Clock{}
	w, n := workload()
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			_, addr := testserver.InProcess(tb, server.Config{Clock: clock.Now})
			return open(tb, customkv.Options{Endpoints: []string{addr}})
		},
		Advance:       clock.Advance,
		Workers:       w,
		TxnsPerWorker: n,
	})
}

// TestConformance_Process runs the suite against one real kvserver process
// with a data directory and fsync on; each subtest clears the key space.
func TestConformance_Process(t *testing.T) {
	p := testserver.Start(t, "--data-dir", t.TempDir(), "--fsync", "on")
	w, n := workload()
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			e := open(tb, customkv.Options{Endpoints: []string{p.Addr}})
			clearAll(tb, e)
			return e
		},
		Workers:       w,
		TxnsPerWorker: n,
	})
	p.Stop(t)
}
