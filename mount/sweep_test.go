package mount_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
)

// TestMount_SweepsDataOfGoneInodes: a mount on a data directory left by an
// earlier one removes, in the background, the contents of inodes the store
// no longer has, keeps those of live inodes, and leaves foreign files.
func TestMount_SweepsDataOfGoneInodes(t *testing.T) {
	requireFUSE(t)
	ctx := context.Background()
	store, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { checkStore(t, store) })
	live, err := store.Create(ctx, meta.RootCred(), 1, "live", 0o644, true)
	require.NoError(t, err)
	size := uint64(len("kept")) // sizes live in meta, contents in DataDir
	_, err = store.SetAttr(ctx, meta.RootCred(), live.Ino, meta.SetAttr{Size: &size})
	require.NoError(t, err)
	gone, err := store.Create(ctx, meta.RootCred(), 1, "gone", 0o644, true)
	require.NoError(t, err)
	require.NoError(t, store.Unlink(ctx, meta.RootCred(), 1, "gone"))

	data := t.TempDir()
	name := func(ino uint64) string { return filepath.Join(data, strconv.FormatUint(ino, 10)) }
	for p, content := range map[string]string{
		name(live.Ino):                   "kept",
		name(gone.Ino):                   "stale",
		name(1 << 60):                    "never allocated",
		filepath.Join(data, "notes.txt"): "not ours",
		filepath.Join(data, "12x"):       "not ours either",
	} {
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	}
	e := mountStore(t, store, data, mount.Options{})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, e.srv.WaitSwept(wctx))

	for _, p := range []string{name(gone.Ino), name(1 << 60)} {
		_, err := os.Stat(p)
		require.True(t, os.IsNotExist(err), "%s: data of an inode the store does not have: %v", p, err)
	}
	for p, want := range map[string]string{
		name(live.Ino):                   "kept",
		filepath.Join(data, "notes.txt"): "not ours",
		filepath.Join(data, "12x"):       "not ours either",
	} {
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, want, string(got), p)
	}
	require.Equal(t, "kept", readFile(t, e.path("live")), "the live file reads its contents through the mount")
}
