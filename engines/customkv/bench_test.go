package customkv_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// benchServer starts a real kvserver process for a benchmark.
func benchServer(b *testing.B, fsync bool) string {
	b.Helper()
	mode := "off"
	if fsync {
		mode = "on"
	}
	p := testserver.Start(b, "--data-dir", b.TempDir(), "--fsync", mode)
	b.Cleanup(func() { p.Stop(b) })
	return p.Addr
}

func BenchmarkHealthRoundTrip(b *testing.B) {
	addr := benchServer(b, false)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(b, err)
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)
	ctx := context.Background()
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	db := open(b, customkv.Options{Endpoints: []string{benchServer(b, false)}})
	ctx := context.Background()
	require.NoError(b, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.Set([]byte("key"), []byte("value"))
		return nil
	}))
	b.ResetTimer()
	for b.Loop() {
		// One round trip: the read version rides on the get.
		if _, _, err := db.NewReadOnly().Get(ctx, []byte("key")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTxn1Get1Set(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			db := open(b, customkv.Options{Endpoints: []string{benchServer(b, fsync)}})
			ctx := context.Background()
			i := 0
			for b.Loop() {
				k := fmt.Appendf(nil, "k%d", i%1000)
				i++
				if err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
					if _, _, err := tx.Get(ctx, k); err != nil {
						return err
					}
					tx.Set(k, []byte("v"))
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCommit measures blind-write commits from 1, 8 and 64 concurrent
// clients, with and without fsync, and reports commits/s and the p99
// commit latency.
func BenchmarkCommit(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		for _, clients := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("fsync=%v/clients=%d", fsync, clients), func(b *testing.B) {
				db := open(b, customkv.Options{Endpoints: []string{benchServer(b, fsync)}, PoolSize: 4})
				lat := runCommits(b, db, clients, b.N)
				reportLatency(b, lat)
			})
		}
	}
}

func runCommits(b *testing.B, db kv.Engine, clients, n int) []time.Duration {
	ctx := context.Background()
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per := n / clients
			if c < n%clients {
				per++
			}
			for i := range per {
				t0 := time.Now()
				tx := db.NewReadWrite()
				tx.Set(fmt.Appendf(nil, "c%d/%d", c, i%100), []byte("value"))
				if err := tx.Commit(ctx); err != nil {
					b.Error(err)
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "commits/s")
	return slices.Concat(lats...)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
