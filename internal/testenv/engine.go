package testenv

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
)

// Custom reports whether FSMETA_ENGINE asks for the custom KV server, so
// that tests can size their randomized parts for round trips.
func Custom() bool { return os.Getenv("FSMETA_ENGINE") == "custom" }

// Engine returns the engine named by FSMETA_ENGINE and a fresh root
// subspace for one filesystem on it:
//
//   - "" or "memkv": a new in-memory engine;
//   - "custom": a client of the KV servers listed, comma-separated, in
//     FSMETA_KV_ENDPOINTS (.ci/run starts one); the root is cleared when
//     the test ends.
//
// Any other value skips the test with a message saying what to set.
func Engine(tb testing.TB) (kv.Engine, keys.Subspace) {
	tb.Helper()
	root := keys.Sub(keys.Tuple{"fsmeta-test", rand.Uint64()})
	switch name := os.Getenv("FSMETA_ENGINE"); name {
	case "", "memkv":
		db := memkv.New(memkv.Options{})
		tb.Cleanup(func() { _ = db.Close() })
		return db, root
	case "custom":
		eps := os.Getenv("FSMETA_KV_ENDPOINTS")
		if eps == "" {
			tb.Skip("FSMETA_ENGINE=custom needs FSMETA_KV_ENDPOINTS=host:port[,host:port...] of running kvservers")
		}
		db, err := customkv.Open(context.Background(), customkv.Options{
			Endpoints:      strings.Split(eps, ","),
			ConnectTimeout: 5 * time.Second,
			Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			tb.Fatalf("open customkv at %s: %v", eps, err)
		}
		tb.Cleanup(func() {
			b, e := root.Range()
			_ = kv.Update(context.Background(), db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				tx.ClearRange(b, e)
				return nil
			})
			_ = db.Close()
		})
		return db, root
	default:
		tb.Skipf("FSMETA_ENGINE=%q is not an engine these tests know: use memkv (default) or custom", name)
		return nil, keys.Subspace{}
	}
}
