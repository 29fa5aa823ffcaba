package mount_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
)

// kvServer is a custom KV server on a data directory, in process.
type kvServer struct {
	srv  *server.Server
	addr string
	done chan error
}

func startKV(tb testing.TB, dataDir string) *kvServer {
	tb.Helper()
	srv, err := server.Open(server.Config{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(tb, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	k := &kvServer{srv: srv, addr: lis.Addr().String(), done: make(chan error, 1)}
	go func() { k.done <- srv.Serve(lis) }()
	tb.Cleanup(func() { k.stop(tb) })
	return k
}

func (k *kvServer) stop(tb testing.TB) {
	tb.Helper()
	if k.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(tb, k.srv.Shutdown(ctx))
	require.NoError(tb, <-k.done)
	k.srv = nil
}

// openStore opens the filesystem on the KV server at addr.
func openStore(tb testing.TB, addr string, create bool) (*meta.Store, *customkv.Engine) {
	tb.Helper()
	ctx := context.Background()
	db, err := customkv.Open(ctx, customkv.Options{
		Endpoints:      []string{addr},
		ConnectTimeout: 5 * time.Second,
		PoolSize:       2,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(tb, err)
	store, err := meta.Open(ctx, db, meta.Options{NoCreate: !create})
	require.NoError(tb, err)
	return store, db
}

// TestMount_RemountPersistent builds a tree through a mount over a custom
// KV server with a data directory, unmounts, restarts the server on the
// same directory and mounts again: the same tree, contents and attributes.
func TestMount_RemountPersistent(t *testing.T) {
	requireFUSE(t)
	kvDir, fileData := t.TempDir(), t.TempDir()
	kv1 := startKV(t, kvDir)
	store, db := openStore(t, kv1.addr, true)
	e := mountStore(t, store, fileData, mount.Options{})

	require.NoError(t, os.MkdirAll(e.path("a", "b", "c"), 0o755))
	writeFile(t, e.path("a", "file"), "persistent contents")
	require.NoError(t, os.Chmod(e.path("a", "file"), 0o600))
	require.NoError(t, os.Chown(e.path("a", "file"), 1234, 4321))
	require.NoError(t, os.Link(e.path("a", "file"), e.path("a", "b", "hard")))
	require.NoError(t, os.Symlink("../file", e.path("a", "b", "sym")))
	require.NoError(t, syscall.Mknod(e.path("a", "fifo"), syscall.S_IFIFO|0o640, 0))
	past := time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)
	require.NoError(t, os.Chtimes(e.path("a", "b"), past, past))
	writeFile(t, e.path("gone"), "removed before the remount")
	require.NoError(t, os.Remove(e.path("gone")))
	before := snapshot(t, e.dir)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("a", "file"), &st))
	ino := st.Ino

	e.unmount(t)
	checkStore(t, store)
	require.NoError(t, store.Shutdown(context.Background()))
	require.NoError(t, db.Close())
	kv1.stop(t)

	kv2 := startKV(t, kvDir)
	store2, db2 := openStore(t, kv2.addr, false)
	t.Cleanup(func() { _ = db2.Close() })
	t.Cleanup(func() { _ = store2.Shutdown(context.Background()) })
	e2 := mountStore(t, store2, fileData, mount.Options{})
	require.Equal(t, before, snapshot(t, e2.dir), "the tree after a restart")
	require.NoError(t, syscall.Stat(e2.path("a", "b", "hard"), &st))
	require.Equal(t, ino, st.Ino)
	require.Equal(t, uint64(2), uint64(st.Nlink))
	require.Equal(t, uint32(1234), st.Uid)
	require.Equal(t, uint32(4321), st.Gid)
	ents, err := os.ReadDir(fileData)
	require.NoError(t, err)
	require.Len(t, ents, 1, "one data file: the removed file's went with it")
	require.Equal(t, strconv.FormatUint(ino, 10), ents[0].Name(), "named by the inode id")
	e2.unmount(t)
	checkStore(t, store2)
}
