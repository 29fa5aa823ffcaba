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
	if !c.permits(n.Type, n.Mode, n.Uid, n.Gid, mask) {
		return syscall.EACCES
	}
	return nil
}

// Permits reports whether c may access a with mask (4 read, 2 write, 1
// execute or search, as access(2)'s R_OK, W_OK, X_OK) by the rule every
// operation of this package applies: Linux's generic_permission on the
// owner's, group's (primary or supplementary) or others' bits; uid 0 may do
// anything but execute a non-directory with no x bit at all. A FUSE server
// answering ACCESS uses it on the attributes it fetched.
func (c Cred) Permits(a Attr, mask uint32) bool {
	return c.permits(a.Type, a.Mode, a.Uid, a.Gid, mask)
}

func (c Cred) permits(t inode.Type, mode, uid, gid, mask uint32) bool {
	mask &= 7
	if c.Uid == 0 {
		// Root may do anything except execute a file with no x bit at all.
		return mask&accessX == 0 || t == inode.TypeDir || mode&0o111 != 0
	}
	var bits uint32
	switch {
	case c.Uid == uid:
		bits = mode >> 6
	case c.inGroup(gid):
		bits = mode >> 3
	default:
		bits = mode
	}
	return bits&mask&7 == mask
}

// stickyDenied reports whether the sticky bit of dir forbids c to remove or
// rename victim in it.
func stickyDenied(c Cred, dir, victim *inode.Inode) bool {
	return dir.Mode&inode.ModeSticky != 0 && c.Uid != 0 && c.Uid != dir.Uid && c.Uid != victim.Uid
}
