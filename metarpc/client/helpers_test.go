package client_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/fsmeta/fsmeta/internal/testenv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
	"github.com/stretchr/testify/require"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newStore opens a filesystem on the test engine.
func newStore(tb testing.TB) *meta.Store {
	tb.Helper()
	db, root := testenv.Engine(tb)
	s, err := meta.Open(context.Background(), db, meta.Options{Root: root})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

// running is a server serving in the background.
type running struct {
	srv  *server.Server
	addr string
	stop func() error // cancels Serve and returns its result
}

// serve starts a server over store on 127.0.0.1:0 with cfg; the cleanup
// stops it.
func serve(tb testing.TB, store *meta.Store, cfg server.Config) *running {
	tb.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	srv, err := server.New(store, cfg)
	require.NoError(tb, err)
	require.NoError(tb, srv.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var result error
	stopped := false
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
		}
		return result
	}
	tb.Cleanup(func() { require.NoError(tb, stop()) })
	return &running{srv: srv, addr: srv.Addr(), stop: stop}
}

// dial connects a client; the cleanup shuts it down.
func dial(tb testing.TB, addr string, o client.Options) *client.Client {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	c, err := client.Dial(context.Background(), addr, o)
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Shutdown(context.Background()) })
	return c
}
