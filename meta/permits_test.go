package meta_test

import (
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestCred_Permits(t *testing.T) {
	file := meta.Attr{Type: inode.TypeFile, Mode: 0o640, Uid: 10, Gid: 20}
	dir := meta.Attr{Type: inode.TypeDir, Mode: 0o700, Uid: 10, Gid: 20}
	noX := meta.Attr{Type: inode.TypeFile, Mode: 0o644}
	for _, tc := range []struct {
		name string
		c    meta.Cred
		a    meta.Attr
		mask uint32
		want bool
	}{
		{"owner reads", meta.Cred{Uid: 10, Gid: 99}, file, 4, true},
		{"owner writes", meta.Cred{Uid: 10, Gid: 99}, file, 2, true},
		{"owner cannot execute", meta.Cred{Uid: 10}, file, 1, false},
		{"group reads", meta.Cred{Uid: 11, Gid: 20}, file, 4, true},
		{"group cannot write", meta.Cred{Uid: 11, Gid: 20}, file, 2, false},
		{"supplementary group reads", meta.Cred{Uid: 11, Gid: 1, Groups: []uint32{5, 20}}, file, 4, true},
		{"others nothing", meta.Cred{Uid: 11, Gid: 1}, file, 4, false},
		{"owner bits win over group bits", meta.Cred{Uid: 10, Gid: 20}, meta.Attr{Type: inode.TypeFile, Mode: 0o070, Uid: 10, Gid: 20}, 4, false},
		{"root reads anything", meta.RootCred(), dir, 4 | 2, true},
		{"root searches any dir", meta.RootCred(), meta.Attr{Type: inode.TypeDir}, 1, true},
		{"root cannot execute a file with no x bit", meta.RootCred(), noX, 1, false},
		{"root executes with any x bit", meta.RootCred(), meta.Attr{Type: inode.TypeFile, Mode: 0o001}, 1, true},
		{"empty mask", meta.Cred{Uid: 11}, file, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.c.Permits(tc.a, tc.mask))
		})
	}
}
