package customkv_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

func b(s string) []byte { return []byte(s) }

func TestEngine_ReadWriteRoundTrip(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}})
	ctx := context.Background()
	require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.Set(b("a"), b("1"))
		tx.Set(b("b"), []byte{})
		tx.Atomic(kv.AtomicAdd, b("n"), []byte{5, 0, 0, 0, 0, 0, 0, 0})
		return tx.SetVersionstampedKey(append(b("vs"), make([]byte, 10)...), 2, b("x"))
	}))
	tx := db.NewReadOnly()
	got, err := kv.GetMany(ctx, tx, false, b("a"), b("b"), b("c"), b("n"))
	require.NoError(t, err)
	require.Equal(t, []kv.Lookup{{Value: b("1"), Found: true}, {Value: []byte{}, Found: true}, {}, {Value: []byte{5, 0, 0, 0, 0, 0, 0, 0}, Found: true}}, got)
	res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b("v")), kv.FirstGreaterOrEqual(b("w")), 0)
	require.NoError(t, err)
	require.Len(t, res.KVs, 1)
	require.Len(t, res.KVs[0].Key, 12)
}

func TestEngine_ConflictIsRetryable(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}})
	ctx := context.Background()
	t1 := db.NewReadWrite()
	_, _, err := t1.Get(ctx, b("k"))
	require.NoError(t, err)
	t2 := db.NewReadWrite()
	t2.Set(b("k"), b("2"))
	require.NoError(t, t2.Commit(ctx))
	t1.Set(b("k"), b("1"))
	err = t1.Commit(ctx)
	require.ErrorIs(t, err, kv.ErrConflict)
	require.True(t, kv.Retryable(err))
	require.False(t, kv.MaybeCommitted(err))
}

func TestEngine_LimitsAreCheckedByServerToo(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}})
	tx := db.NewReadWrite()
	tx.Set(make([]byte, kv.MaxKeySize+1), nil)
	err := tx.Commit(context.Background())
	require.ErrorIs(t, err, kv.ErrKeyTooLarge)
	require.False(t, kv.Retryable(err))
}

// TestEngine_LostCommitReplyIsMaybeCommitted cuts the connection after the
// commit request reached the server: the commit applied, and the client
// must say it may have.
func TestEngine_LostCommitReplyIsMaybeCommitted(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	proxy := testserver.NewProxy(t, addr)
	db := open(t, customkv.Options{Endpoints: []string{proxy.Addr}, PoolSize: 1, HealthCheckInterval: time.Hour, CallTimeout: 2 * time.Second})
	ctx := context.Background()
	tx := db.NewReadWrite()
	tx.Set(b("lost"), b("reply"))
	proxy.LoseReplies()
	err := tx.Commit(ctx)
	require.ErrorIs(t, err, kv.ErrMaybeCommitted)
	require.True(t, kv.MaybeCommitted(err))
	proxy.Heal()

	direct := open(t, customkv.Options{Endpoints: []string{addr}})
	v, ok, err := direct.NewReadOnly().Get(ctx, b("lost"))
	require.NoError(t, err)
	require.True(t, ok, "the commit was applied")
	require.Equal(t, b("reply"), v)
}

func TestEngine_ServerDownIsUnavailable(t *testing.T) {
	srv, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}, CallTimeout: time.Second})
	ctx := context.Background()
	require.NoError(t, srv.Shutdown(ctx))
	tx := db.NewReadWrite()
	tx.Set(b("a"), b("1"))
	err := tx.Commit(ctx)
	require.ErrorIs(t, err, kv.ErrUnavailable, "%v", err)
	require.True(t, kv.Retryable(err))
	require.False(t, kv.MaybeCommitted(err))
	_, _, err = db.NewReadOnly().Get(ctx, b("a"))
	require.ErrorIs(t, err, kv.ErrUnavailable)
}

func TestEngine_OpenFailsWhenNothingAnswers(t *testing.T) {
	_, err := customkv.Open(context.Background(), customkv.Options{Endpoints: []string{"127.0.0.1:1"}, ConnectTimeout: 300 * time.Millisecond})
	require.ErrorIs(t, err, kv.ErrUnavailable)
	_, err = customkv.Open(context.Background(), customkv.Options{})
	require.ErrorIs(t, err, kv.ErrInvalid)
}

// TestEngine_FailsOverToTheNextHealthyEndpoint puts two addresses of one
// server behind proxies and takes the first away.
func TestEngine_FailsOverToTheNextHealthyEndpoint(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	p1 := testserver.NewProxy(t, addr)
	p2 := testserver.NewProxy(t, addr)
	db := open(t, customkv.Options{Endpoints: []string{p1.Addr, p2.Addr}, HealthCheckInterval: 50 * time.Millisecond, CallTimeout: time.Second})
	ctx := context.Background()
	put := func(k string) error {
		return kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			tx.Set(b(k), b("v"))
			return nil
		}, kv.Idempotent())
	}
	require.NoError(t, put("before"))
	p1.Close()
	for i := range 20 {
		require.NoError(t, put(fmt.Sprintf("after%d", i)))
	}
	v, ok, err := db.NewReadOnly().Get(ctx, b("after19"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, b("v"), v)
}

func TestEngine_TransactionTimeout(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}, TransactionTimeout: 100 * time.Millisecond})
	ctx := context.Background()
	tx := db.NewReadWrite()
	_, _, err := tx.Get(ctx, b("a"))
	require.NoError(t, err)
	time.Sleep(150 * time.Millisecond)
	tx.Set(b("a"), b("1"))
	err = tx.Commit(ctx)
	require.ErrorIs(t, err, kv.ErrTimeout)
	tx.Reset()
	tx.Set(b("a"), b("1"))
	require.NoError(t, tx.Commit(ctx), "Reset restarts the timeout")
}

func TestEngine_ClosedEngineFails(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db, err := customkv.Open(context.Background(), customkv.Options{Endpoints: []string{addr}})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, _, err = db.NewReadOnly().Get(context.Background(), b("a"))
	require.ErrorIs(t, err, kv.ErrClosed)
}

// TestEngine_ReconnectsAfterServerRestart restarts a real kvserver process
// under a running client: in-flight commits end retryable or
// maybe-committed, and the client reconnects by itself.
func TestEngine_ReconnectsAfterServerRestart(t *testing.T) {
	dir := t.TempDir()
	p := testserver.Start(t, "--data-dir", dir)
	db := open(t, customkv.Options{Endpoints: []string{p.Addr}, HealthCheckInterval: 100 * time.Millisecond, CallTimeout: time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	outcomes := map[string]int{}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tx := db.NewReadWrite()
				tx.Set(b(fmt.Sprintf("w%d/%d", w, i)), b("v"))
				err := tx.Commit(ctx)
				kind := "ok"
				switch {
				case err == nil:
				case kv.MaybeCommitted(err):
					kind = "maybe"
				case kv.Retryable(err):
					kind = "retryable"
				default:
					kind = "other: " + err.Error()
				}
				mu.Lock()
				outcomes[kind]++
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	p.Stop(t)
	p2 := testserver.Start(t, "--data-dir", dir, "--listen", p.Addr)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	for k := range outcomes {
		require.Contains(t, []string{"ok", "maybe", "retryable"}, k, "outcomes %v", outcomes)
	}
	// The client is back without being reopened.
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		err = kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			tx.Set(b("after"), b("restart"))
			return nil
		})
		if err == nil {
			break
		}
	}
	require.NoError(t, err)
	t.Logf("outcomes across the restart: %v", outcomes)
	p2.Stop(t)
}
