package fsmodel

import (
	"slices"
	"strings"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

// LockCells is the number of byte positions the lock model tracks: lock
// ranges start below LockCells-1, and the last cell stands for every byte
// from LockCells-1 to the end of the file, so ranges that end at EOF or
// below LockCells-1 are modelled exactly.
const LockCells = 17

// PosixModel is the POSIX lock state of one inode, byte by byte: for every
// owner, the lock type it holds on each cell. It knows nothing of ranges;
// the ranges the store must hold (merged and split as Linux does) are
// derived from the cells.
type PosixModel map[uint64]*[LockCells]meta.LockType

// cells returns the cell span of [start, end].
func cells(start, end uint64) (int, int) {
	hi := LockCells - 1
	if end < LockCells-1 {
		hi = int(end)
	}
	return int(start), hi
}

// SetLk applies F_SETLK of lk for lk.Owner; it returns EAGAIN if another
// owner holds a conflicting lock on a cell of the range.
func (pm PosixModel) SetLk(lk meta.Lock) syscall.Errno {
	lo, hi := cells(lk.Start, lk.End)
	if lk.Type != meta.LockUnlock {
		for o, cs := range pm {
			if o == lk.Owner {
				continue
			}
			for i := lo; i <= hi; i++ {
				if cs[i] != meta.LockUnlock && (cs[i] == meta.LockWrite || lk.Type == meta.LockWrite) {
					return syscall.EAGAIN
				}
			}
		}
	}
	cs := pm[lk.Owner]
	if cs == nil {
		cs = &[LockCells]meta.LockType{}
		pm[lk.Owner] = cs
	}
	for i := lo; i <= hi; i++ {
		cs[i] = lk.Type
	}
	return 0
}

// Ranges returns every owner's maximal ranges of one type, in the order
// of (start, owner): what the store must list.
func (pm PosixModel) Ranges() []meta.Lock {
	var out []meta.Lock
	for o, cs := range pm {
		for i := 0; i < LockCells; {
			if cs[i] == meta.LockUnlock {
				i++
				continue
			}
			j := i
			for j+1 < LockCells && cs[j+1] == cs[i] {
				j++
			}
			end := uint64(j)
			if j == LockCells-1 {
				end = meta.LockEOF
			}
			out = append(out, meta.Lock{Type: cs[i], Start: uint64(i), End: end, Owner: o})
			i = j + 1
		}
	}
	slices.SortFunc(out, func(a, b meta.Lock) int {
		if a.Start != b.Start {
			return cmpU(a.Start, b.Start)
		}
		return cmpU(a.Owner, b.Owner)
	})
	return out
}

// GetLk is F_GETLK of lk by lk.Owner: the conflicting range of another
// owner with the lowest start (then owner), or lk with type unlock.
func (pm PosixModel) GetLk(lk meta.Lock) meta.Lock {
	for _, r := range pm.Ranges() {
		if r.Owner == lk.Owner || r.Start > lk.End || lk.Start > r.End {
			continue
		}
		if r.Type == meta.LockWrite || lk.Type == meta.LockWrite {
			return r
		}
	}
	lk.Type = meta.LockUnlock
	return lk
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FlockKey is who holds a flock lock: a handle (by its slot in the
// harness) and an owner.
type FlockKey struct {
	Handle int
	Owner  uint64
}

// FlockModel is the flock state of one inode.
type FlockModel map[FlockKey]meta.LockType

// Flock applies flock(2) by k: a conflict with another holder is EAGAIN
// and leaves k's lock as it was.
func (fm FlockModel) Flock(k FlockKey, t meta.LockType) syscall.Errno {
	if t == meta.LockUnlock {
		delete(fm, k)
		return 0
	}
	for o, ot := range fm {
		if o != k && (ot == meta.LockWrite || t == meta.LockWrite) {
			return syscall.EAGAIN
		}
	}
	fm[k] = t
	return 0
}

// Xattr namespaces.
const (
	nsUser     = "user."
	nsTrusted  = "trusted."
	nsSecurity = "security."
	nsSystem   = "system."
)

// xattrPerm is Linux's xattr_permission plus commoncap's setxattr hook,
// for c reading or writing attribute name of n.
func xattrPerm(c meta.Cred, n *Node, name string, write bool) syscall.Errno {
	mask := uint32(MayRead)
	if write {
		mask = MayWrite
	}
	switch {
	case strings.HasPrefix(name, nsSecurity):
		if write && c.Uid != 0 {
			return syscall.EPERM
		}
		return 0
	case strings.HasPrefix(name, nsSystem):
		return 0
	case strings.HasPrefix(name, nsTrusted):
		if c.Uid != 0 {
			if write {
				return syscall.EPERM
			}
			return syscall.ENODATA
		}
	case strings.HasPrefix(name, nsUser):
		if n.Type != inode.TypeFile && !n.IsDir() {
			if write {
				return syscall.EPERM
			}
			return syscall.ENODATA
		}
		if n.IsDir() && n.Mode&inode.ModeSticky != 0 && write && c.Uid != 0 && c.Uid != n.Uid {
			return syscall.EPERM
		}
	}
	return access(c, n, mask)
}

// xattrHandler is Linux's xattr_resolve_name for the namespaces fsmeta
// stores.
func xattrHandler(name string) syscall.Errno {
	for _, ns := range []string{nsUser, nsTrusted, nsSecurity} {
		if strings.HasPrefix(name, ns) {
			if name == ns {
				return syscall.EINVAL
			}
			return 0
		}
	}
	return syscall.EOPNOTSUPP
}

func xattrName(name string) syscall.Errno {
	if name == "" || len(name) > meta.MaxXattrNameLen {
		return syscall.ERANGE
	}
	return 0
}

// SetXattr is setxattr(2) of name on n by c.
func (m *Model) SetXattr(c meta.Cred, n *Node, name string, value []byte, flags int) syscall.Errno {
	if flags&^(meta.XattrCreate|meta.XattrReplace) != 0 {
		return syscall.EINVAL
	}
	if e := xattrName(name); e != 0 {
		return e
	}
	if len(value) > meta.MaxXattrValueLen {
		return syscall.E2BIG
	}
	if e := xattrPerm(c, n, name, true); e != 0 {
		return e
	}
	if e := xattrHandler(name); e != 0 {
		return e
	}
	_, exists := n.Xattrs[name]
	switch {
	case flags&meta.XattrCreate != 0 && exists:
		return syscall.EEXIST
	case flags&meta.XattrReplace != 0 && !exists:
		return syscall.ENODATA
	}
	if n.Xattrs == nil {
		n.Xattrs = map[string]string{}
	}
	n.Xattrs[name] = string(value)
	return 0
}

// GetXattr is getxattr(2) of name on n by c.
func (m *Model) GetXattr(c meta.Cred, n *Node, name string) (string, syscall.Errno) {
	if e := xattrName(name); e != 0 {
		return "", e
	}
	if e := xattrPerm(c, n, name, false); e != 0 {
		return "", e
	}
	if e := xattrHandler(name); e != 0 {
		return "", e
	}
	v, ok := n.Xattrs[name]
	if !ok {
		return "", syscall.ENODATA
	}
	return v, 0
}

// ListXattr is listxattr(2) of n by c: no permission needed, trusted.*
// shown to root only, names in byte order.
func (m *Model) ListXattr(c meta.Cred, n *Node) []string {
	out := []string{}
	for name := range n.Xattrs {
		if c.Uid != 0 && strings.HasPrefix(name, nsTrusted) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// RemoveXattr is removexattr(2) of name on n by c.
func (m *Model) RemoveXattr(c meta.Cred, n *Node, name string) syscall.Errno {
	if e := xattrName(name); e != 0 {
		return e
	}
	if e := xattrPerm(c, n, name, true); e != 0 {
		return e
	}
	if e := xattrHandler(name); e != 0 {
		return e
	}
	if _, ok := n.Xattrs[name]; !ok {
		return syscall.ENODATA
	}
	delete(n.Xattrs, name)
	return 0
}
