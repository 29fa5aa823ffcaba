package customkv_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

// open returns an engine with opts, closed at cleanup.
func open(tb testing.TB, opts customkv.Options) *customkv.Engine {
	tb.Helper()
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = 2
	}
	e, err := customkv.Open(context.Background(), opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, e.Close()) })
	return e
}

func clearAll(tb testing.TB, e kv.Engine) {
	tb.Helper()
	require.NoError(tb, kv.Update(context.Background(), e, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.ClearRange([]byte{}, []byte{0xff})
		return nil
	}))
}
