package meta_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
)

// Benchmarks of meta on memkv. Run with
//
//	go test -run '^$' -bench . -benchtime 2s ./meta/
//
// Each reports ops/s; the shared-directory ones report retries/op.

func benchStore(b *testing.B) (*meta.Store, context.Context) {
	b.Helper()
	ctx := context.Background()
	s, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s, ctx
}

func reportOps(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}

func mkdirB(b *testing.B, s *meta.Store, ctx context.Context, name string) uint64 {
	b.Helper()
	a, err := s.Mkdir(ctx, meta.RootCred(), 1, name, 0o755)
	if err != nil {
		b.Fatal(err)
	}
	return a.Ino
}

func fill(b *testing.B, s *meta.Store, ctx context.Context, dir uint64, n int) {
	b.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.Create(ctx, meta.RootCred(), dir, "f"+strconv.Itoa(i), 0o644, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Create(ctx, meta.RootCred(), dir, "f"+strconv.Itoa(i), 0o644, true); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkMkdir(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Mkdir(ctx, meta.RootCred(), dir, "m"+strconv.Itoa(i), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkLookup(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	fill(b, s, ctx, dir, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Lookup(ctx, meta.RootCred(), dir, "f"+strconv.Itoa(i%1000)); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkGetAttr(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	a, err := s.Create(ctx, meta.RootCred(), dir, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.GetAttr(ctx, meta.RootCred(), a.Ino); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkReadDir(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			s, ctx := benchStore(b)
			dir := mkdirB(b, s, ctx, "d")
			fill(b, s, ctx, dir, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ents, err := s.ReadDirAll(ctx, meta.RootCred(), dir)
				if err != nil || len(ents) != n {
					b.Fatal(len(ents), err)
				}
			}
			reportOps(b, b.N)
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

func BenchmarkRename(b *testing.B) {
	s, ctx := benchStore(b)
	d1, d2 := mkdirB(b, s, ctx, "a"), mkdirB(b, s, ctx, "b")
	if _, err := s.Create(ctx, meta.RootCred(), d1, "f", 0o644, true); err != nil {
		b.Fatal(err)
	}
	dirs := [2]uint64{d1, d2}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Rename(ctx, meta.RootCred(), dirs[i%2], "f", dirs[(i+1)%2], "f", 0); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkUnlink(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	fill(b, s, ctx, dir, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Unlink(ctx, meta.RootCred(), dir, "f"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

// BenchmarkParallelCreateShared creates distinct names in one directory from
// every goroutine: the stats counters are atomics, so retries/op should be 0.
func BenchmarkParallelCreateShared(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	var seq atomicCounter
	before := s.Retries()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Create(ctx, meta.RootCred(), dir, "f"+strconv.FormatInt(seq.next(), 10), 0o644, true); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportOps(b, b.N)
	b.ReportMetric(float64(s.Retries()-before)/float64(b.N), "retries/op")
}

// BenchmarkCreateInLargeDir creates in a directory that already holds 1M
// entries; compare its ops/s with BenchmarkCreate.
func BenchmarkCreateInLargeDir(b *testing.B) {
	s, ctx := benchStore(b)
	dir := mkdirB(b, s, ctx, "d")
	fill(b, s, ctx, dir, 1_000_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Create(ctx, meta.RootCred(), dir, "n"+strconv.Itoa(i), 0o644, true); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

// BenchmarkHeapPerFile reports the heap held per empty file with 1M files:
// "default" right after the creates, with every create's request record
// still inside its RequestTTL (10 minutes); "expired" with a TTL so short
// that the purge every 256 operations removes the records as they come,
// which is what a store holds per file once the TTL has passed.
func BenchmarkHeapPerFile(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"default", 0}, {"expired", time.Nanosecond}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				ctx := context.Background()
				s, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{RequestTTL: c.ttl})
				if err != nil {
					b.Fatal(err)
				}
				const n = 1_000_000
				for d := 0; d < 100; d++ {
					dir := mkdirB(b, s, ctx, "d"+strconv.Itoa(d))
					fill(b, s, ctx, dir, n/100)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/file")
				runtime.KeepAlive(s)
			}
		})
	}
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int64 { return c.n.Add(1) }
