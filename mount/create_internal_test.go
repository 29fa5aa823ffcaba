package mount

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stretchr/testify/require"
)

// TestCreateExistingTruncates: a CREATE of a name that appeared after the
// kernel's lookup opens the existing file; the kernel then believes it
// created the file and applies no O_TRUNC, so the mount must.
func TestCreateExistingTruncates(t *testing.T) {
	ctx := context.Background()
	store, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	data := t.TempDir()
	f := newFsys(store, data, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer f.stop()

	a, err := store.Create(ctx, meta.RootCred(), inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	sz := uint64(5)
	_, err = store.SetAttr(ctx, meta.RootCred(), a.Ino, meta.SetAttr{Size: &sz})
	require.NoError(t, err)
	dp := filepath.Join(data, dataName(a.Ino))
	require.NoError(t, os.WriteFile(dp, []byte("hello"), 0o600))

	in := &fuse.CreateIn{InHeader: fuse.InHeader{NodeId: inode.RootIno}, Flags: syscall.O_CREAT | syscall.O_EXCL | syscall.O_WRONLY, Mode: 0o644}
	var out fuse.CreateOut
	require.Equal(t, fuse.Status(syscall.EEXIST), f.Create(nil, in, "f", &out), "O_EXCL")

	in.Flags = syscall.O_CREAT | syscall.O_WRONLY
	require.Equal(t, fuse.OK, f.Create(nil, in, "f", &out))
	f.Release(nil, &fuse.ReleaseIn{Fh: out.Fh})
	got, err := store.GetAttr(ctx, meta.RootCred(), a.Ino)
	require.NoError(t, err)
	require.Equal(t, uint64(5), got.Size, "without O_TRUNC the contents stay")

	in.Flags = syscall.O_CREAT | syscall.O_TRUNC | syscall.O_WRONLY
	require.Equal(t, fuse.OK, f.Create(nil, in, "f", &out))
	require.Equal(t, uint64(0), out.Attr.Size, "reply carries the truncated size")
	f.Release(nil, &fuse.ReleaseIn{Fh: out.Fh})
	got, err = store.GetAttr(ctx, meta.RootCred(), a.Ino)
	require.NoError(t, err)
	require.Equal(t, uint64(0), got.Size, "O_TRUNC of the existing file")
	st, err := os.Stat(dp)
	require.NoError(t, err)
	require.Zero(t, st.Size(), "data file truncated")
}
