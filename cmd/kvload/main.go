// Command kvload is a small load generator for the fsmeta KV server: it
// runs concurrent clients doing one kind of transaction for a while and
// prints throughput and latency percentiles.
//
//	kvload --endpoints 127.0.0.1:9090 --clients 64 --duration 10s --op commit
//
// Operations: commit (one blind write), getset (one get and one set),
// get (one read-only get).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/kv"
)

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:9090", "comma-separated server addresses")
	clients := flag.Int("clients", 8, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to run")
	op := flag.String("op", "commit", "commit, getset or get")
	keys := flag.Int("keys", 10_000, "number of distinct keys")
	valueSize := flag.Int("value-size", 100, "bytes per value")
	pool := flag.Int("pool", 4, "connections per endpoint")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load generator to this file")
	flag.Parse()
	stop := func() {}
	if *cpuProfile != "" {
		var err error
		if stop, err = startCPUProfile(*cpuProfile); err != nil {
			fmt.Fprintf(os.Stderr, "kvload: %v\n", err)
			os.Exit(1)
		}
	}
	err := run(*endpoints, *clients, *duration, *op, *keys, *valueSize, *pool)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvload: %v\n", err)
		os.Exit(1)
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func run(endpoints string, clients int, d time.Duration, op string, nkeys, valueSize, pool int) error {
	if clients < 1 || nkeys < 1 || valueSize < 0 || valueSize > kv.MaxValueSize {
		return fmt.Errorf("bad flags: clients %d, keys %d, value-size %d", clients, nkeys, valueSize)
	}
	ctx := context.Background()
	db, err := customkv.Open(ctx, customkv.Options{
		Endpoints: strings.Split(endpoints, ","),
		PoolSize:  pool,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	defer db.Close()
	value := make([]byte, valueSize)
	var txn func(ctx context.Context, k []byte) error
	switch op {
	case "commit":
		txn = func(ctx context.Context, k []byte) error {
			tx := db.NewReadWrite()
			tx.Set(k, value)
			return tx.Commit(ctx)
		}
	case "getset":
		txn = func(ctx context.Context, k []byte) error {
			return kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				if _, _, err := tx.Get(ctx, k); err != nil {
					return err
				}
				tx.Set(k, value)
				return nil
			})
		}
	case "get":
		txn = func(ctx context.Context, k []byte) error {
			_, _, err := db.NewReadOnly().Get(ctx, k)
			return err
		}
	default:
		return fmt.Errorf("unknown --op %q", op)
	}
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				k := fmt.Appendf(nil, "load/%08d", (c*7919+i)%nkeys)
				t0 := time.Now()
				if err := txn(ctx, k); err != nil {
					errs[c]++
					continue
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lats...)
	slices.Sort(all)
	nerr := 0
	for _, e := range errs {
		nerr += e
	}
	if len(all) == 0 {
		return fmt.Errorf("no transaction succeeded (%d errors)", nerr)
	}
	pct := func(p float64) time.Duration { return all[int(float64(len(all)-1)*p)] }
	fmt.Printf("op=%s clients=%d duration=%v txns=%d errors=%d rate=%.0f/s p50=%v p99=%v p999=%v max=%v\n",
		op, clients, elapsed.Round(time.Millisecond), len(all), nerr, float64(len(all))/elapsed.Seconds(),
		pct(0.50), pct(0.99), pct(0.999), all[len(all)-1])
	return nil
}
