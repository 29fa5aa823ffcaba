package meta

import (
	"context"
	"fmt"
	"syscall"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// Lookup returns the attributes of the entry name in directory parent.
// "." is the directory itself and ".." its parent (the root's is the root).
func (s *Store) Lookup(ctx context.Context, c Cred, parent uint64, name string) (Attr, error) {
	a, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (Attr, error) {
		n, err := s.lookup(ctx, tx, c, parent, name)
		if err != nil {
			return Attr{}, err
		}
		return s.attr(ctx, tx, n)
	})
	return a, pathErr("lookup", entPath(parent, name), err)
}

// lookup resolves one name with snapshot reads.
func (s *Store) lookup(ctx context.Context, tx kv.ReadOnlyTxn, c Cred, parent uint64, name string) (*inode.Inode, error) {
	if len(name) > MaxNameLen {
		return nil, syscall.ENAMETOOLONG
	}
	d, err := s.loadDir(ctx, tx, c, parent, accessX, true)
	if err != nil {
		return nil, err
	}
	switch name {
	case ".", "":
		return d, nil
	case "..":
		return s.mustLoad(ctx, tx, d.Parent, true)
	}
	e, ok, err := dirent.Load(ctx, tx, s.l, parent, []byte(name), true)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	return s.mustLoad(ctx, tx, e.Ino, true)
}

// Create makes a regular file name in parent with permission bits mode.
// Without excl an existing non-directory is returned as it is (O_CREAT);
// with excl it is EEXIST (O_CREAT|O_EXCL).
func (s *Store) Create(ctx context.Context, c Cred, parent uint64, name string, mode uint32, excl bool) (Attr, error) {
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeFile, Mode: mode}, excl)
	return a, pathErr("create", entPath(parent, name), err)
}

// Mkdir makes a directory name in parent.
func (s *Store) Mkdir(ctx context.Context, c Cred, parent uint64, name string, mode uint32) (Attr, error) {
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeDir, Mode: mode}, true)
	return a, pathErr("mkdir", entPath(parent, name), err)
}

// Mknod makes a node of the type in the S_IFMT bits of mode (a regular
// file, FIFO, socket, or character or block device with rdev).
func (s *Store) Mknod(ctx context.Context, c Cred, parent uint64, name string, mode, rdev uint32) (Attr, error) {
	t := inode.TypeOfMode(mode)
	if mode&inode.ModeIFMT == 0 {
		t = inode.TypeFile
	}
	switch t {
	case inode.TypeDir: // as mknod(2)
		return Attr{}, pathErr("mknod", entPath(parent, name), syscall.EPERM)
	case 0, inode.TypeSymlink:
		return Attr{}, pathErr("mknod", entPath(parent, name), syscall.EINVAL)
	}
	if (t == inode.TypeChar || t == inode.TypeBlock) && c.Uid != 0 {
		return Attr{}, pathErr("mknod", entPath(parent, name), syscall.EPERM)
	}
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: t, Mode: mode, Rdev: rdev}, true)
	return a, pathErr("mknod", entPath(parent, name), err)
}

// Symlink makes a symbolic link name in parent pointing to target.
func (s *Store) Symlink(ctx context.Context, c Cred, parent uint64, name, target string) (Attr, error) {
	var err error
	switch {
	case target == "":
		err = syscall.EINVAL
	case len(target) >= MaxSymlinkLen:
		err = syscall.ENAMETOOLONG
	}
	if err != nil {
		return Attr{}, pathErr("symlink", entPath(parent, name), err)
	}
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeSymlink, Mode: 0o777, Target: []byte(target)}, true)
	return a, pathErr("symlink", entPath(parent, name), err)
}

// Readlink returns the target of symlink ino.
func (s *Store) Readlink(ctx context.Context, c Cred, ino uint64) (string, error) {
	t, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (string, error) {
		n, err := s.mustLoad(ctx, tx, ino, true)
		if err != nil {
			return "", err
		}
		if n.Type != inode.TypeSymlink {
			return "", syscall.EINVAL
		}
		return string(n.Target), nil
	})
	return t, pathErr("readlink", inoPath(ino), err)
}

// mknode creates the inode described by tmpl under parent/name.
func (s *Store) mknode(ctx context.Context, c Cred, parent uint64, name string, tmpl *inode.Inode, excl bool) (Attr, error) {
	if err := checkName(name); err != nil {
		return Attr{}, err
	}
	ino, err := s.allocate(ctx)
	if err != nil {
		return Attr{}, err
	}
	bname := []byte(name)
	return recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, req uint64, _ int64) (Attr, error) {
		// Linux's order: search on the parent, then the name (EEXIST, or
		// O_CREAT of an existing file, needs no write permission), then
		// write permission.
		// One batch (one round trip on a remote engine) reads, with
		// conflicts, the parent, the new entry's key and the new inode's key.
		ls, err := kv.GetMany(ctx, tx, false, s.l.Inode(parent), s.l.Dirent(parent, bname), s.l.Inode(ino))
		if err != nil {
			return Attr{}, err
		}
		p, err := dirFrom(ls[0], parent)
		if err != nil {
			return Attr{}, err
		}
		if err := access(c, p, accessX); err != nil {
			return Attr{}, err
		}
		var e *dirent.Entry
		exists := ls[1].Found
		if exists {
			if e, err = dirent.Decode(ls[1].Value); err != nil {
				return Attr{}, fmt.Errorf("entry %q in %d: %w", name, parent, err)
			}
		}
		if exists {
			if e.Request == req || (!excl && tmpl.Type == inode.TypeFile) {
				// Our own earlier attempt committed, or O_CREAT of an
				// existing name.
				n, err := s.mustLoad(ctx, tx, e.Ino, true)
				if err != nil {
					return Attr{}, err
				}
				if e.Request != req && n.Type == inode.TypeDir {
					return Attr{}, syscall.EISDIR
				}
				return s.attr(ctx, tx, n)
			}
			return Attr{}, syscall.EEXIST
		}
		if err := access(c, p, accessW); err != nil {
			return Attr{}, err
		}
		if ls[2].Found {
			return Attr{}, fmt.Errorf("meta: allocated inode id %d is in use: %w", ino, syscall.EIO)
		}
		now := s.now()
		n := *tmpl
		n.Ino, n.Uid, n.Gid = ino, c.Uid, c.Gid
		n.Mode &= inode.ModePerm
		if n.Type == inode.TypeDir {
			// mkdir(2) honours only the permission and sticky bits;
			// setgid comes from a setgid parent alone.
			n.Mode &= 0o1777
		}
		n.Atime, n.Mtime, n.Ctime = now, now, now
		n.Nlink = 1
		if p.Mode&inode.ModeSetgid != 0 {
			// BSD group semantics under a setgid directory.
			n.Gid = p.Gid
			if n.Type == inode.TypeDir {
				n.Mode |= inode.ModeSetgid
			}
		}
		var st *dirStats
		var subdirs int64
		if n.Type == inode.TypeDir {
			n.Nlink = 2
			n.Parent, n.Name = parent, bname
			n.Mtime, n.Ctime = 0, 0
			tx.Set(s.l.Stat(ino, statMtime), le64(now))
			tx.Set(s.l.Stat(ino, statCtime), le64(now))
			st = &dirStats{mtime: now, ctime: now}
			subdirs = 1
		}
		inode.Store(tx, s.l, &n)
		dirent.Store(tx, s.l, parent, bname, &dirent.Entry{Ino: ino, Type: n.Type, Request: req})
		s.countDir(tx, parent, 1, subdirs)
		s.touchDir(tx, parent, now)
		return toAttr(&n, st), nil
	}, attrIno, s.replayAttr)
}

// Link makes newName in newParent another name of ino, which must not be a
// directory.
func (s *Store) Link(ctx context.Context, c Cred, ino, newParent uint64, newName string) (Attr, error) {
	if err := checkName(newName); err != nil {
		return Attr{}, linkErr("link", inoPath(ino), entPath(newParent, newName), err)
	}
	bname := []byte(newName)
	a, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, req uint64, _ int64) (Attr, error) {
		// Linux's order: the source, search on the new parent, the new
		// name, then write permission.
		n, err := s.mustLoad(ctx, tx, ino, false)
		if err != nil {
			return Attr{}, err
		}
		p, err := s.loadDir(ctx, tx, c, newParent, accessX, false)
		if err != nil {
			return Attr{}, err
		}
		e, exists, err := dirent.Load(ctx, tx, s.l, newParent, bname, false)
		if err != nil {
			return Attr{}, err
		}
		if exists {
			if e.Request == req {
				return toAttr(n, nil), nil
			}
			return Attr{}, syscall.EEXIST
		}
		if err := access(c, p, accessW); err != nil {
			return Attr{}, err
		}
		if n.Type == inode.TypeDir {
			return Attr{}, syscall.EPERM
		}
		if n.Nlink == 0 {
			return Attr{}, syscall.ENOENT // unlinked while open
		}
		now := s.now()
		n.Nlink++
		n.Ctime = now
		inode.Store(tx, s.l, n)
		dirent.Store(tx, s.l, newParent, bname, &dirent.Entry{Ino: ino, Type: n.Type, Request: req})
		s.countDir(tx, newParent, 1, 0)
		s.touchDir(tx, newParent, now)
		return toAttr(n, nil), nil
	}, attrIno, s.replayAttr)
	return a, linkErr("link", inoPath(ino), entPath(newParent, newName), err)
}

// dirFrom decodes a directory inode read in a batch.
func dirFrom(l kv.Lookup, ino uint64) (*inode.Inode, error) {
	if !l.Found {
		return nil, syscall.ENOENT
	}
	d, err := inode.Decode(l.Value)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", ino, err)
	}
	if d.Type != inode.TypeDir {
		return nil, syscall.ENOTDIR
	}
	return d, nil
}
