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
		ar := newArena()
		n, err := s.lookup(ctx, tx, ar, c, parent, name)
		if err != nil {
			return Attr{}, err
		}
		return s.attr(ctx, tx, ar, n)
	})
	return a, entErr("lookup", parent, name, err)
}

// lookup resolves one name with snapshot reads.
func (s *Store) lookup(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, c Cred, parent uint64, name string) (*inode.Inode, error) {
	if len(name) > MaxNameLen {
		return nil, syscall.ENAMETOOLONG
	}
	switch name {
	case ".", "":
		return s.loadDir(ctx, tx, a, c, parent, accessX, true)
	case "..":
		d, err := s.loadDir(ctx, tx, a, c, parent, accessX, true)
		if err != nil {
			return nil, err
		}
		return s.mustLoad(ctx, tx, a, d.Parent, true)
	}
	// The directory and the entry in one batch; the entry counts only once
	// the directory passed its checks.
	ls, err := kv.GetMany(ctx, tx, true, a.keys(a.inode(&s.k, parent), a.direntString(&s.k, parent, name))...)
	if err != nil {
		return nil, err
	}
	var d inode.Inode
	if err := dirFrom(ls[0], c, parent, accessX, &d); err != nil {
		return nil, err
	}
	var e dirent.Entry
	if err := entryFrom(ls[1], parent, name, &e); err != nil {
		return nil, err
	}
	return s.mustLoad(ctx, tx, a, e.Ino, true)
}

// lookupIn is lookup in directory d, already loaded in tx.
func (s *Store) lookupIn(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, c Cred, d *inode.Inode, name string) (*inode.Inode, error) {
	if len(name) > MaxNameLen {
		return nil, syscall.ENAMETOOLONG
	}
	if _, err := checkDir(c, d, accessX); err != nil {
		return nil, err
	}
	switch name {
	case ".", "":
		return d, nil
	case "..":
		return s.mustLoad(ctx, tx, a, d.Parent, true)
	}
	b, found, err := tx.SnapshotGet(ctx, a.direntString(&s.k, d.Ino, name))
	if err != nil {
		return nil, err
	}
	var e dirent.Entry
	if err := entryFrom(kv.Lookup{Value: b, Found: found}, d.Ino, name, &e); err != nil {
		return nil, err
	}
	return s.mustLoad(ctx, tx, a, e.Ino, true)
}

// Create makes a regular file name in parent with permission bits mode.
// Without excl an existing non-directory is returned as it is (O_CREAT);
// with excl it is EEXIST (O_CREAT|O_EXCL).
func (s *Store) Create(ctx context.Context, c Cred, parent uint64, name string, mode uint32, excl bool) (Attr, error) {
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeFile, Mode: mode}, excl)
	return a, entErr("create", parent, name, err)
}

// Mkdir makes a directory name in parent.
func (s *Store) Mkdir(ctx context.Context, c Cred, parent uint64, name string, mode uint32) (Attr, error) {
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeDir, Mode: mode}, true)
	return a, entErr("mkdir", parent, name, err)
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
		return Attr{}, entErr("mknod", parent, name, syscall.EPERM)
	case 0, inode.TypeSymlink:
		return Attr{}, entErr("mknod", parent, name, syscall.EINVAL)
	}
	if (t == inode.TypeChar || t == inode.TypeBlock) && c.Uid != 0 {
		return Attr{}, entErr("mknod", parent, name, syscall.EPERM)
	}
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: t, Mode: mode, Rdev: rdev}, true)
	return a, entErr("mknod", parent, name, err)
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
		return Attr{}, entErr("symlink", parent, name, err)
	}
	a, err := s.mknode(ctx, c, parent, name, &inode.Inode{Type: inode.TypeSymlink, Mode: 0o777, Target: []byte(target)}, true)
	return a, entErr("symlink", parent, name, err)
}

// Readlink returns the target of symlink ino.
func (s *Store) Readlink(ctx context.Context, c Cred, ino uint64) (string, error) {
	t, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (string, error) {
		var a arena
		n, err := s.mustLoad(ctx, tx, &a, ino, true)
		if err != nil {
			return "", err
		}
		if n.Type != inode.TypeSymlink {
			return "", syscall.EINVAL
		}
		return string(n.Target), nil
	})
	if err != nil {
		return t, inoErr("readlink", ino, err)
	}
	return t, nil
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
	return recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) (Attr, error) {
		a := &o.a
		// Linux's order: search on the parent, then the name (EEXIST, or
		// O_CREAT of an existing file, needs no write permission), then
		// write permission.
		// One batch (one round trip on a remote engine) reads, with
		// conflicts, the parent, the new entry's key and the new inode's key.
		pk, ek, ik := a.inode(&s.k, parent), a.direntString(&s.k, parent, name), a.inode(&s.k, ino)
		ls, err := kv.GetMany(ctx, tx, false, a.keys(pk, ek, ik)...)
		if err != nil {
			return Attr{}, err
		}
		var pv inode.Inode
		if err := dirFrom(ls[0], c, parent, accessX, &pv); err != nil {
			return Attr{}, err
		}
		p := &pv
		if ls[1].Found {
			var e dirent.Entry
			if err := entryFrom(ls[1], parent, name, &e); err != nil {
				return Attr{}, err
			}
			if e.Request == o.req || (!excl && tmpl.Type == inode.TypeFile) {
				// Our own earlier attempt committed, or O_CREAT of an
				// existing name.
				n, err := s.mustLoad(ctx, tx, a, e.Ino, true)
				if err != nil {
					return Attr{}, err
				}
				if e.Request != o.req && n.Type == inode.TypeDir {
					return Attr{}, syscall.EISDIR
				}
				return s.attr(ctx, tx, a, n)
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
			n.Parent, n.Name = parent, []byte(name)
			n.Mtime, n.Ctime = 0, 0
			v := a.le64(now)
			tx.Set(a.stat(&s.k, ino, statMtime), v)
			tx.Set(a.stat(&s.k, ino, statCtime), v)
			st = &dirStats{mtime: now, ctime: now}
			subdirs = 1
		}
		tx.Set(ik, a.inodeRecord(&n))
		tx.Set(ek, a.entryRecord(&dirent.Entry{Ino: ino, Type: n.Type, Request: o.req}))
		s.countDir(tx, a, parent, 1, subdirs)
		s.touchDir(tx, a, parent, now)
		return toAttr(&n, st), nil
	}, attrIno, s.replayAttr)
}

// Link makes newName in newParent another name of ino, which must not be a
// directory.
func (s *Store) Link(ctx context.Context, c Cred, ino, newParent uint64, newName string) (Attr, error) {
	if err := checkName(newName); err != nil {
		return Attr{}, linkErr("link", inoPath(ino), entPath(newParent, newName), err)
	}
	a, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) (Attr, error) {
		a := &o.a
		// Linux's order: the source, search on the new parent, the new
		// name, then write permission.
		n, err := s.mustLoad(ctx, tx, a, ino, false)
		if err != nil {
			return Attr{}, err
		}
		ek := a.direntString(&s.k, newParent, newName)
		ls, err := kv.GetMany(ctx, tx, false, a.keys(a.inode(&s.k, newParent), ek)...)
		if err != nil {
			return Attr{}, err
		}
		var pv inode.Inode
		if err := dirFrom(ls[0], c, newParent, accessX, &pv); err != nil {
			return Attr{}, err
		}
		p := &pv
		if ls[1].Found {
			var e dirent.Entry
			if err := entryFrom(ls[1], newParent, newName, &e); err != nil {
				return Attr{}, err
			}
			if e.Request == o.req {
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
		tx.Set(a.inode(&s.k, n.Ino), a.inodeRecord(n))
		tx.Set(ek, a.entryRecord(&dirent.Entry{Ino: ino, Type: n.Type, Request: o.req}))
		s.countDir(tx, a, newParent, 1, 0)
		s.touchDir(tx, a, newParent, now)
		return toAttr(n, nil), nil
	}, attrIno, s.replayAttr)
	if err != nil {
		return a, linkErr("link", inoPath(ino), entPath(newParent, newName), err)
	}
	return a, nil
}

// dirFrom decodes directory inode ino read in a batch into d and checks
// mask on it; absence is ENOENT.
func dirFrom(l kv.Lookup, c Cred, ino uint64, mask uint32, d *inode.Inode) error {
	if !l.Found {
		return syscall.ENOENT
	}
	if err := inode.DecodeInto(l.Value, d); err != nil {
		return fmt.Errorf("inode %d: %w", ino, err)
	}
	_, err := checkDir(c, d, mask)
	return err
}

// entryFrom decodes the entry name of parent read in a batch into e;
// absence is ENOENT.
func entryFrom(l kv.Lookup, parent uint64, name string, e *dirent.Entry) error {
	if !l.Found {
		return syscall.ENOENT
	}
	if err := dirent.DecodeInto(l.Value, e); err != nil {
		return fmt.Errorf("entry %q in %d: %w", name, parent, err)
	}
	return nil
}
