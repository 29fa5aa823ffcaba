package client_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
	"github.com/stretchr/testify/require"
)

// The same operations on the store in process and through the client over
// loopback gRPC to an in-process server, so the difference is the cost of
// the wire. Run:
//
//	go test -run XXX -bench . -benchtime 2s ./metarpc/client/

// targets are the two implementations of meta.FS.
func targets(b *testing.B) map[string]func(b *testing.B) meta.FS {
	return map[string]func(b *testing.B) meta.FS{
		"store": func(b *testing.B) meta.FS { return newStore(b) },
		"client": func(b *testing.B) meta.FS {
			r := serve(b, newStore(b), server.Config{})
			return dial(b, r.addr, client.Options{})
		},
	}
}

func each(b *testing.B, fn func(b *testing.B, f meta.FS)) {
	for _, name := range []string{"store", "client"} {
		open := targets(b)[name]
		b.Run(name, func(b *testing.B) {
			f := open(b)
			fn(b, f)
		})
	}
}

func report(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

func BenchmarkCreate(b *testing.B) {
	each(b, func(b *testing.B, f meta.FS) {
		d, err := f.Mkdir(ctx, meta.RootCred(), root, "d", 0o755)
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if _, err := f.Create(ctx, meta.RootCred(), d.Ino, "f"+strconv.Itoa(i), 0o644, true); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start)
	})
}

// populate makes /d/sub with n files.
func populate(b *testing.B, f meta.FS, n int) meta.Attr {
	sub, err := f.MkdirAll(ctx, meta.RootCred(), "/d/sub", 0o755)
	require.NoError(b, err)
	for i := range n {
		_, err := f.Create(ctx, meta.RootCred(), sub.Ino, "f"+strconv.Itoa(i), 0o644, true)
		require.NoError(b, err)
	}
	return sub
}

func BenchmarkLookup(b *testing.B) {
	each(b, func(b *testing.B, f meta.FS) {
		const n = 1000
		sub := populate(b, f, n)
		names := make([]string, n)
		for i := range names {
			names[i] = "f" + strconv.Itoa(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if _, err := f.Lookup(ctx, meta.RootCred(), sub.Ino, names[i%n]); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start)
	})
}

func BenchmarkStat(b *testing.B) {
	each(b, func(b *testing.B, f meta.FS) {
		const n = 1000
		populate(b, f, n)
		paths := make([]string, n)
		for i := range paths {
			paths[i] = "/d/sub/f" + strconv.Itoa(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if _, err := f.Stat(ctx, meta.RootCred(), paths[i%n]); err != nil {
				b.Fatal(err)
			}
		}
		report(b, start)
	})
}

// BenchmarkLookupParallel is Lookup from 4 goroutines per CPU over one
// client connection (or one store): throughput rather than latency.
func BenchmarkLookupParallel(b *testing.B) {
	each(b, func(b *testing.B, f meta.FS) {
		const n = 1000
		sub := populate(b, f, n)
		b.ReportAllocs()
		b.SetParallelism(4)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := f.Lookup(ctx, meta.RootCred(), sub.Ino, "f"+strconv.Itoa(i%n)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		report(b, start)
	})
}
