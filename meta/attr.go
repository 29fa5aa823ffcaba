package meta

import (
	"context"
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
func (s *Store) loadStats(ctx context.Context, tx kv.ReadOnlyTxn, dir uint64) (*dirStats, error) {
	ls, err := kv.GetMany(ctx, tx, true,
		s.l.Stat(dir, statEntries), s.l.Stat(dir, statSubdirs), s.l.Stat(dir, statMtime), s.l.Stat(dir, statCtime))
	if err != nil {
		return nil, err
	}
	return &dirStats{
		entries: parseLE64(ls[0].Value), subdirs: parseLE64(ls[1].Value),
		mtime: parseLE64(ls[2].Value), ctime: parseLE64(ls[3].Value),
	}, nil
}

// attr composes the Attr of n, reading a directory's counters.
func (s *Store) attr(ctx context.Context, tx kv.ReadOnlyTxn, n *inode.Inode) (Attr, error) {
	if n.Type != inode.TypeDir {
		return toAttr(n, nil), nil
	}
	st, err := s.loadStats(ctx, tx, n.Ino)
	if err != nil {
		return Attr{}, err
	}
	return toAttr(n, st), nil
}

// GetAttr returns the attributes of ino.
func (s *Store) GetAttr(ctx context.Context, c Cred, ino uint64) (Attr, error) {
	a, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (Attr, error) {
		n, err := s.mustLoad(ctx, tx, ino, true)
		if err != nil {
			return Attr{}, err
		}
		return s.attr(ctx, tx, n)
	})
	return a, pathErr("getattr", inoPath(ino), err)
}

// mustLoad loads an inode, mapping absence to ENOENT.
func (s *Store) mustLoad(ctx context.Context, tx kv.ReadOnlyTxn, ino uint64, snapshot bool) (*inode.Inode, error) {
	n, ok, err := inode.Load(ctx, tx, s.l, ino, snapshot)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	return n, nil
}

// loadDir loads a directory inode with a read conflict and checks mask on it.
func (s *Store) loadDir(ctx context.Context, tx kv.ReadOnlyTxn, c Cred, ino uint64, mask uint32, snapshot bool) (*inode.Inode, error) {
	d, err := s.mustLoad(ctx, tx, ino, snapshot)
	if err != nil {
		return nil, err
	}
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
