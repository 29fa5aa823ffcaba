package mount_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
