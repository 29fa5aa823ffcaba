package memkv_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
)

// Figures and the commands that produced them are in BENCHMARKS.md.

var bctx = context.Background()

func benchKey(i int) []byte { return fmt.Appendf(nil, "bench/%026d", i) } // 32 bytes

// preload fills db with n keys of 100-byte values in batches.
func preload(tb testing.TB, db kv.Engine, n int) {
	tb.Helper()
	val := make([]byte, 100)
	for i := 0; i < n; i += 1000 {
		tx := db.NewReadWrite()
		for j := i; j < min(n, i+1000); j++ {
			tx.Set(benchKey(j), val)
		}
		if err := tx.Commit(bctx); err != nil {
			tb.Fatal(err)
		}
	}
}

func reportOps(b *testing.B, ops int) {
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
}

// cpuTime is the CPU time the process has used, all threads (the GC's
// included).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start: on a
// machine shared with other work it varies less than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkSnapshotGet(b *testing.B) {
	const n = 100_000
	db := memkv.New(memkv.Options{})
	preload(b, db, n)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = benchKey(rand.IntN(n))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	tx := db.NewReadOnly()
	for i := 0; i < b.N; i++ {
		if i%4096 == 0 { // stay well inside the MVCC window
			tx.Cancel()
			tx = db.NewReadOnly()
		}
		if _, _, err := tx.SnapshotGet(bctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	reportOps(b, b.N)
}

func BenchmarkGetSetTxn(b *testing.B) {
	const n = 100_000
	db := memkv.New(memkv.Options{})
	preload(b, db, n)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = benchKey(rand.IntN(n))
	}
	val := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	for i := 0; i < b.N; i++ {
		tx := db.NewReadWrite()
		if _, _, err := tx.Get(bctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		tx.Set(keys[(i+1)%len(keys)], val)
		if err := tx.Commit(bctx); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	reportOps(b, b.N)
}

func BenchmarkRange100(b *testing.B) {
	const n = 100_000
	db := memkv.New(memkv.Options{})
	preload(b, db, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := db.NewReadOnly()
		start := benchKey(rand.IntN(n - 100))
		r, err := tx.GetRange(bctx, kv.FirstGreaterOrEqual(start), kv.FirstGreaterOrEqual([]byte("bench0")), 100)
		if err != nil || len(r.KVs) != 100 {
			b.Fatal(err, len(r.KVs))
		}
	}
	reportOps(b, b.N)
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkParallelDisjoint(b *testing.B) {
	db := memkv.New(memkv.Options{})
	var worker atomic.Int64
	val := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		keys := make([][]byte, 256)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "w%03d/%026d", w, i)
		}
		i := 0
		for pb.Next() {
			tx := db.NewReadWrite()
			if _, _, err := tx.Get(bctx, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			tx.Set(keys[(i+1)%len(keys)], val)
			if err := tx.Commit(bctx); err != nil {
				b.Error(err, "disjoint transactions conflicted")
				return
			}
			i++
		}
	})
	reportOps(b, b.N)
}

// BenchmarkHotKey runs read-modify-write increments of 4 counters from 8
// goroutines per CPU under kv.Update and reports retries per commit.
func BenchmarkHotKey(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts kv.RetryOptions
	}{
		{"backoff=default", kv.RetryOptions{MaxRetries: -1}},
		{"backoff=50us", kv.RetryOptions{MaxRetries: -1, InitialBackoff: 50 * time.Microsecond, MaxBackoff: 5 * time.Millisecond}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := memkv.New(memkv.Options{})
			hot := [][]byte{[]byte("hot/0"), []byte("hot/1"), []byte("hot/2"), []byte("hot/3")}
			var retries atomic.Int64
			var mu sync.Mutex
			seed := uint64(0)
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				seed++
				r := rand.New(rand.NewPCG(seed, 1))
				mu.Unlock()
				for pb.Next() {
					k := hot[r.IntN(len(hot))]
					err := kv.Update(bctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
						v, _, err := tx.Get(ctx, k)
						if err != nil {
							return err
						}
						var n uint64
						if len(v) == 8 {
							n = binary.LittleEndian.Uint64(v)
						}
						tx.Set(k, binary.LittleEndian.AppendUint64(nil, n+1))
						return nil
					}, kv.WithRetryOptions(bc.opts), kv.OnRetry(func(int, error) { retries.Add(1) }))
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportOps(b, b.N)
			b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/txn")
		})
	}
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkLoad1M loads 1M keys (32-byte keys, 100-byte values) in batches
// of 1,000 and reports the heap they hold; then rewrites every key once
// (history the MVCC window keeps), moves the clock past the window, commits
// a few transactions and reports the heap again, and once more after enough
// commits for the incremental sweep to pass every key.
func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		clock := &fakeclock.Clock{}
		base := heapBytes()
		db := memkv.New(memkv.Options{Clock: clock.Now})
		start := time.Now()
		preload(b, db, n)
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "keys/s")
		loaded := heapBytes() - base
		b.ReportMetric(float64(loaded)/(1<<20), "heapMB")
		b.ReportMetric(float64(loaded)/n, "bytes/key")

		preload(b, db, n) // a second version of every key
		rewritten := heapBytes() - base
		b.ReportMetric(float64(rewritten)/(1<<20), "heapMB-rewritten")

		clock.Advance(10 * time.Second)
		for j := range 10 {
			tx := db.NewReadWrite()
			tx.Set(benchKey(j), []byte("x"))
			if err := tx.Commit(bctx); err != nil {
				b.Fatal(err)
			}
		}
		after := heapBytes() - base
		b.ReportMetric(float64(after)/(1<<20), "heapMB-after-window")

		// The sweep owes 2*mutations+8 visits per commit (paid in runs of at
		// least 256 keys): 10 for these
		// one-key commits, so 110,000 of them pass every key once.
		tx := db.NewReadWrite()
		for j := range 110_000 {
			tx.Set(benchKey(j%1000), []byte("y"))
			if err := tx.Commit(bctx); err != nil {
				b.Fatal(err)
			}
			tx.Reset()
		}
		swept := heapBytes() - base
		b.ReportMetric(float64(swept)/(1<<20), "heapMB-after-sweep")
		runtime.KeepAlive(db)
	}
}
