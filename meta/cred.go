package meta

import (
	"slices"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
)

// Cred is the identity an operation runs as.
type Cred struct {
	Uid    uint32
	Gid    uint32
	Groups []uint32 // supplementary groups
}

// RootCred is uid 0, which bypasses permission checks as on Linux.
func RootCred() Cred { return Cred{} }

func (c Cred) inGroup(g uint32) bool {
	return c.Gid == g || slices.Contains(c.Groups, g)
}

// Access bits.
const (
	accessR = 4
	accessW = 2
	accessX = 1
)

// access checks mask (accessR|W|X) on n as Linux's generic_permission does.
func access(c Cred, n *inode.Inode, mask uint32) error {
	if c.Uid == 0 {
		// Root may do anything except execute a file with no x bit at all.
		if mask&accessX != 0 && n.Type != inode.TypeDir && n.Mode&0o111 == 0 {
			return syscall.EACCES
		}
		return nil
	}
	var bits uint32
	switch {
	case c.Uid == n.Uid:
		bits = n.Mode >> 6
	case c.inGroup(n.Gid):
		bits = n.Mode >> 3
	default:
		bits = n.Mode
	}
	if bits&mask&7 != mask {
		return syscall.EACCES
	}
	return nil
}

// stickyDenied reports whether the sticky bit of dir forbids c to remove or
// rename victim in it.
func stickyDenied(c Cred, dir, victim *inode.Inode) bool {
	return dir.Mode&inode.ModeSticky != 0 && c.Uid != 0 && c.Uid != dir.Uid && c.Uid != victim.Uid
}
