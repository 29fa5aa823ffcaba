package meta

import (
	"context"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// Attr is what stat reports about an inode.
type Attr struct {
	Ino   uint64
	Type  inode.Type
	Mode  uint32 // permission, setuid, setgid and sticky bits
	Uid   uint32
	Gid   uint32
	Nlink uint32
	Size  uint64
	Atime time.Time
	Mtime time.Time
	Ctime time.Time
	Rdev  uint32
	// Entries is the number of entries of a directory.
	Entries int64
}

// IsDir reports whether a is a directory.
func (a Attr) IsDir() bool { return a.Type == inode.TypeDir }

// StMode is the st_mode of a: type bits and permission bits.
func (a Attr) StMode() uint32 { return a.Type.IFMT() | a.Mode }

// FileMode is a's mode as io/fs reports it.
func (a Attr) FileMode() fs.FileMode {
	m := fs.FileMode(a.Mode & 0o777)
	switch a.Type {
	case inode.TypeDir:
		m |= fs.ModeDir
	case inode.TypeSymlink:
		m |= fs.ModeSymlink
	case inode.TypeFIFO:
		m |= fs.ModeNamedPipe
	case inode.TypeSocket:
		m |= fs.ModeSocket
	case inode.TypeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case inode.TypeBlock:
		m |= fs.ModeDevice
	}
	if a.Mode&inode.ModeSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if a.Mode&inode.ModeSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if a.Mode&inode.ModeSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// dirStats are a directory's counters.
type dirStats struct {
	entries, subdirs, mtime, ctime int64
}

func toAttr(n *inode.Inode, st *dirStats) Attr {
	a := Attr{
		Ino: n.Ino, Type: n.Type, Mode: n.Mode, Uid: n.Uid, Gid: n.Gid,
		Nlink: n.Nlink, Size: n.Size, Rdev: n.Rdev,
		Atime: time.Unix(0, n.Atime), Mtime: time.Unix(0, n.Mtime), Ctime: time.Unix(0, n.Ctime),
	}
	if n.Type == inode.TypeSymlink {
		a.Size = uint64(len(n.Target))
	}
	if st != nil {
		a.Nlink = uint32(2 + st.subdirs)
		a.Mtime = time.Unix(0, st.mtime)
		a.Ctime = time.Unix(0, st.ctime)
		a.Entries = st.entries
	}
	return a
}

// loadStats reads a directory's counters with snapshot reads.
func (s *Store) loadStats(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, dir uint64) (*dirStats, error) {
	ls, err := kv.GetMany(ctx, tx, true, a.keys(
		a.stat(&s.k, dir, statEntries), a.stat(&s.k, dir, statSubdirs), a.stat(&s.k, dir, statMtime), a.stat(&s.k, dir, statCtime))...)
	if err != nil {
		return nil, err
	}
	return &dirStats{
		entries: parseLE64(ls[0].Value), subdirs: parseLE64(ls[1].Value),
		mtime: parseLE64(ls[2].Value), ctime: parseLE64(ls[3].Value),
	}, nil
}

// attr composes the Attr of n, reading a directory's counters.
func (s *Store) attr(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, n *inode.Inode) (Attr, error) {
	if n.Type != inode.TypeDir {
		return toAttr(n, nil), nil
	}
	st, err := s.loadStats(ctx, tx, a, n.Ino)
	if err != nil {
		return Attr{}, err
	}
	return toAttr(n, st), nil
}

// GetAttr returns the attributes of ino.
func (s *Store) GetAttr(ctx context.Context, c Cred, ino uint64) (Attr, error) {
	a, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (Attr, error) {
		// A file's attributes need one key: built on its own, with the
		// arena on the stack. A directory's counters take an arena.
		var one arena
		n, err := s.mustLoad(ctx, tx, &one, ino, true)
		if err != nil {
			return Attr{}, err
		}
		if n.Type != inode.TypeDir {
			return toAttr(n, nil), nil
		}
		return s.attr(ctx, tx, newArena(), n)
	})
	if err != nil {
		return a, inoErr("getattr", ino, err)
	}
	return a, nil
}

// mustLoad loads an inode, mapping absence to ENOENT; snapshot chooses a
// snapshot read.
func (s *Store) mustLoad(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, ino uint64, snapshot bool) (*inode.Inode, error) {
	k := a.inode(&s.k, ino)
	var b []byte
	var found bool
	var err error
	if snapshot {
		b, found, err = tx.SnapshotGet(ctx, k)
	} else {
		b, found, err = tx.Get(ctx, k)
	}
	if err != nil {
		return nil, err
	}
	return inodeFrom(kv.Lookup{Value: b, Found: found}, ino)
}

// inodeFrom decodes an inode read in a batch, mapping absence to ENOENT.
func inodeFrom(l kv.Lookup, ino uint64) (*inode.Inode, error) {
	if !l.Found {
		return nil, syscall.ENOENT
	}
	n, err := inode.Decode(l.Value)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", ino, err)
	}
	return n, nil
}

// loadDir loads a directory inode and checks mask on it; snapshot chooses a
// snapshot read.
func (s *Store) loadDir(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, c Cred, ino uint64, mask uint32, snapshot bool) (*inode.Inode, error) {
	d, err := s.mustLoad(ctx, tx, a, ino, snapshot)
	if err != nil {
		return nil, err
	}
	return checkDir(c, d, mask)
}

// checkDir fails unless d is a directory c may access with mask.
func checkDir(c Cred, d *inode.Inode, mask uint32) (*inode.Inode, error) {
	if d.Type != inode.TypeDir {
		return nil, syscall.ENOTDIR
	}
	if err := access(c, d, mask); err != nil {
		return nil, err
	}
	return d, nil
}

func inoPath(ino uint64) string { return "#" + uitoa(ino) }

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

func entPath(parent uint64, name string) string { return inoPath(parent) + "/" + name }

// inoErr is pathErr on inoPath(ino), which it builds only for an error.
func inoErr(op string, ino uint64, err error) error {
	if err == nil {
		return nil
	}
	return pathErr(op, inoPath(ino), err)
}

// entErr is pathErr on entPath(parent, name), which it builds only for an
// error.
func entErr(op string, parent uint64, name string, err error) error {
	if err == nil {
		return nil
	}
	return pathErr(op, entPath(parent, name), err)
}

// checkName validates a name for a new entry.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return syscall.EINVAL
	case len(name) > MaxNameLen:
		return syscall.ENAMETOOLONG
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return syscall.EINVAL
		}
	}
	return nil
}
