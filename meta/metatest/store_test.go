package metatest_test

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
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/meta/metatest"
	"github.com/stretchr/testify/require"
)

// engine returns the engine FSMETA_ENGINE names (memkv by default; custom
// needs FSMETA_KV_ENDPOINTS) and a fresh root on it, as test/internal/
// testenv does for the tests under test/.
func engine(tb testing.TB) (kv.Engine, keys.Subspace) {
	tb.Helper()
	root := keys.Sub(keys.Tuple{"fsmeta-metatest", rand.Uint64()})
	switch name := os.Getenv("FSMETA_ENGINE"); name {
	case "", "memkv":
		db := memkv.New(memkv.Options{})
		tb.Cleanup(func() { db.Close() })
		return db, root
	case "custom":
		eps := os.Getenv("FSMETA_KV_ENDPOINTS")
		if eps == "" {
			tb.Skip("FSMETA_ENGINE=custom needs FSMETA_KV_ENDPOINTS=host:port[,host:port...] of running kvservers")
		}
		db, err := customkv.Open(context.Background(), customkv.Options{
			Endpoints: strings.Split(eps, ","), ConnectTimeout: 5 * time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(tb, err)
		tb.Cleanup(func() {
			b, e := root.Range()
			_ = kv.Update(context.Background(), db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				tx.ClearRange(b, e)
				return nil
			})
			db.Close()
		})
		return db, root
	default:
		tb.Skipf("FSMETA_ENGINE=%q is not an engine these tests know: use memkv (default) or custom", name)
		return nil, keys.Subspace{}
	}
}

func TestStore(t *testing.T) {
	metatest.Run(t, func(tb testing.TB) meta.FS {
		db, root := engine(tb)
		s, err := meta.Open(context.Background(), db, meta.Options{Root: root})
		require.NoError(tb, err)
		tb.Cleanup(func() { s.Shutdown(context.Background()) })
		return s
	})
}
