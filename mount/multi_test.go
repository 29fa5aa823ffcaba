package mount_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
)

// twoMounts mounts one store twice over one data directory: two clients
// of one filesystem.
func twoMounts(t *testing.T) (a, b *env) {
	t.Helper()
	requireFUSE(t)
	store, err := meta.Open(context.Background(), memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	t.Cleanup(func() {
		checkStore(t, store)
		checkNoHandles(t, store)
	})
	data := filepath.Join(t.TempDir(), "data")
	a = mountStore(t, store, data, mount.Options{})
	b = mountStore(t, store, data, mount.Options{})
	return a, b
}

// TestMount_TwoClientsRenameOverOpen: a file open in one mount and
// replaced by a rename in the other stays readable in the first, and its
// data goes at its last close there.
func TestMount_TwoClientsRenameOverOpen(t *testing.T) {
	a, b := twoMounts(t)
	writeFile(t, a.path("f"), "victim")
	data := a.dataPath(t, a.path("f"))
	f, err := os.Open(a.path("f"))
	require.NoError(t, err)
	writeFile(t, b.path("g"), "new")
	require.NoError(t, os.Rename(b.path("g"), b.path("f")))
	require.Equal(t, "new", readFile(t, a.path("f")))
	buf := make([]byte, 6)
	_, err = f.ReadAt(buf, 0)
	require.NoError(t, err)
	require.Equal(t, "victim", string(buf))
	require.NoError(t, f.Close())
	requireGone(t, data, "victim's data removed after its last close in the other mount")
}

// TestMount_TwoClientsTruncate: a write in one mount after the other
// truncated the open file sets the size the write ends at.
func TestMount_TwoClientsTruncate(t *testing.T) {
	t.Skip("known limitation (see the package doc): a mount caches the size of an open file; needs a grow-only size update in meta")
	a, b := twoMounts(t)
	f, err := os.OpenFile(a.path("f"), os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt(make([]byte, 100), 0)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(b.path("f"), 0))
	_, err = f.WriteAt([]byte("0123456789"), 0)
	require.NoError(t, err)
	require.Equal(t, int64(10), statT(t, b.path("f")).Size)
	require.Equal(t, "0123456789", readFile(t, b.path("f")))
}

// TestMount_TwoClientsUtimes: times set explicitly in one mount after a
// write in the other are not overwritten when the writer closes.
func TestMount_TwoClientsUtimes(t *testing.T) {
	t.Skip("known limitation (see the package doc): the mtime of writes is stored at flush; needs a conditional time update in meta")
	a, b := twoMounts(t)
	writeFile(t, a.path("f"), "0123456789")
	f, err := os.OpenFile(a.path("f"), os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("x"), 0) // in place: mtime pending until close
	require.NoError(t, err)
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	require.NoError(t, os.Chtimes(b.path("f"), past, past))
	require.NoError(t, f.Close())
	time.Sleep(50 * time.Millisecond) // RELEASE is asynchronous
	st := statT(t, b.path("f"))
	require.Equal(t, past.UnixNano(), st.Mtim.Nano())
}
