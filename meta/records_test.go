package meta_test

import (
	"testing"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestRecords_RoundTrip(t *testing.T) {
	n := &inode.Inode{Ino: 42, Type: inode.TypeDir, Mode: 0o1755, Uid: 7, Gid: 8, Nlink: 2,
		Atime: -5, Parent: 9, Name: []byte("d\x00ir"), Target: []byte{}}
	got, err := inode.Decode(inode.Encode(n))
	require.NoError(t, err)
	n.Target = nil // omitempty
	require.Equal(t, n, got)

	e := &dirent.Entry{Ino: 42, Type: inode.TypeSymlink, Request: 1 << 63}
	ge, err := dirent.Decode(dirent.Encode(e))
	require.NoError(t, err)
	require.Equal(t, e, ge)
}

// Records of a later minor change may carry fields this code does not know.
func TestRecords_UnknownFieldsTolerated(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{"v": 1, "i": 5, "t": 1, "future": []int{1, 2}})
	require.NoError(t, err)
	n, err := inode.Decode(b)
	require.NoError(t, err)
	require.EqualValues(t, 5, n.Ino)
	e, err := dirent.Decode(b)
	require.NoError(t, err)
	require.EqualValues(t, 5, e.Ino)
}

func TestRecords_GarbageIsCorrupt(t *testing.T) {
	valid := inode.Encode(&inode.Inode{Ino: 5, Type: inode.TypeFile})
	validEntry := dirent.Encode(&dirent.Entry{Ino: 5, Type: inode.TypeFile})
	noVersion, _ := msgpack.Marshal(map[string]any{"i": 5, "t": 1})
	badType, _ := msgpack.Marshal(map[string]any{"v": 1, "i": 5, "t": 99})
	laterVersion, _ := msgpack.Marshal(map[string]any{"v": 2, "i": 5, "t": 1})
	for name, b := range map[string][]byte{
		"empty":         nil,
		"not msgpack":   []byte("\xc1\xc1\xc1"),
		"not a map":     {0x93, 0x01, 0x02, 0x03},
		"truncated":     valid[:len(valid)-1],
		"trailing":      append(append([]byte{}, valid...), 0x00),
		"no version":    noVersion,
		"unknown type":  badType,
		"later version": laterVersion,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := inode.Decode(b)
			require.ErrorIs(t, err, inode.ErrCorrupt)
			_, err = dirent.Decode(b)
			require.ErrorIs(t, err, dirent.ErrCorrupt)
		})
	}
	_, err := dirent.Decode(append(append([]byte{}, validEntry...), 0x01))
	require.ErrorIs(t, err, dirent.ErrCorrupt)
	zeroIno, _ := msgpack.Marshal(map[string]any{"v": 1, "i": 0, "t": 1})
	_, err = dirent.Decode(zeroIno)
	require.ErrorIs(t, err, dirent.ErrCorrupt)
}
