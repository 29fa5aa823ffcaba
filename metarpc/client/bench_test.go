package client_test

import (
	"strconv"
	"syscall"
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

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clock is the start of a measurement: wall time and process CPU time.
type clock struct {
	wall time.Time
	cpu  time.Duration
}

func startClock() clock { return clock{wall: time.Now(), cpu: cpuTime()} }

// report adds ops/s and the process's CPU time per op (client and server
// together, as both run in the process): on a shared machine the CPU per
// op is steadier than the rate, and a rate that does not grow with
// goroutines while the CPU per op stays put means the CPU is the limit.
func report(b *testing.B, c clock) {
	b.ReportMetric(float64(b.N)/time.Since(c.wall).Seconds(), "ops/s")
	b.ReportMetric(float64((cpuTime()-c.cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

func BenchmarkCreate(b *testing.B) {
	each(b, func(b *testing.B, f meta.FS) {
		d, err := f.Mkdir(ctx, meta.RootCred(), root, "d", 0o755)
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		start := startClock()
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
		start := startClock()
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
		start := startClock()
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
		start := startClock()
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
