package meta

import (
	"context"
	"syscall"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// RenameFlags are the flags of renameat2.
type RenameFlags uint32

// Rename flags, with Linux's values.
const (
	RenameNoReplace RenameFlags = 1 << 0 // fail with EEXIST if the target exists
	RenameExchange  RenameFlags = 1 << 1 // swap source and target atomically
)

// Rename moves the entry srcName of srcParent to dstName of dstParent,
// replacing what is there as POSIX allows.
func (s *Store) Rename(ctx context.Context, c Cred, srcParent uint64, srcName string, dstParent uint64, dstName string, flags RenameFlags) error {
	if err := s.rename(ctx, c, srcParent, srcName, dstParent, dstName, flags); err != nil {
		return linkErr("rename", entPath(srcParent, srcName), entPath(dstParent, dstName), err)
	}
	return nil
}

func (s *Store) rename(ctx context.Context, c Cred, sp uint64, sname string, dp uint64, dname string, flags RenameFlags) error {
	if flags&^(RenameNoReplace|RenameExchange) != 0 || flags == RenameNoReplace|RenameExchange {
		return syscall.EINVAL
	}
	for _, n := range []string{sname, dname} {
		if err := checkName(n); err != nil {
			if n == "." || n == ".." {
				return syscall.EBUSY
			}
			return err
		}
	}
	bs, bd := []byte(sname), []byte(dname)
	exchange := flags&RenameExchange != 0
	return s.recordedUpdate(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) error {
		a, req := &o.a, o.req
		// Checks run in the order of Linux's renameat2: search on both
		// parents, the names, the loop checks, then may_delete/may_create
		// on each side (write permission, sticky bit, types), then write
		// permission on a directory that changes parent.
		// One batch reads, with conflicts, both parents and both entries;
		// they are checked in that order.
		sek, dek := a.dirent(&s.k, sp, bs), a.dirent(&s.k, dp, bd)
		batch := a.keys(a.inode(&s.k, sp), sek, dek)
		if dp != sp {
			batch = a.keys(batch[0], a.inode(&s.k, dp), sek, dek)
		}
		nk := len(batch)
		ls, err := kv.GetMany(ctx, tx, false, batch...)
		if err != nil {
			return err
		}
		var spv, dpv inode.Inode
		if err := dirFrom(ls[0], c, sp, accessX, &spv); err != nil {
			return err
		}
		spi, dpi := &spv, &spv
		if dp != sp {
			if err := dirFrom(ls[1], c, dp, accessX, &dpv); err != nil {
				return err
			}
			dpi = &dpv
		}
		var se, de dirent.Entry
		sok, err := entryIf(ls[nk-2], sp, sname, &se)
		if err != nil {
			return err
		}
		dok, err := entryIf(ls[nk-1], dp, dname, &de)
		if err != nil {
			return err
		}
		switch {
		case !sok:
			return syscall.ENOENT
		case flags&RenameNoReplace != 0 && dok:
			return syscall.EEXIST
		case exchange && !dok:
			return syscall.ENOENT
		}
		// The inodes named, in one batch with conflicts.
		batch = a.keys(a.inode(&s.k, se.Ino))
		if dok {
			batch = a.keys(batch[0], a.inode(&s.k, de.Ino))
		}
		ls, err = kv.GetMany(ctx, tx, false, batch...)
		if err != nil {
			return err
		}
		sn, err := inodeFrom(ls[0], se.Ino)
		if err != nil {
			return err
		}
		var dn *inode.Inode
		if dok {
			if dn, err = inodeFrom(ls[1], de.Ino); err != nil {
				return err
			}
		}
		// A directory that changes parent must not move under itself.
		if sn.Type == inode.TypeDir && sp != dp {
			if err := s.checkNotAncestor(ctx, tx, a, sn.Ino, dp); err != nil {
				return err
			}
		}
		// Nor may the target be an ancestor of the source: EINVAL for an
		// exchange, else ENOTEMPTY (whatever the source's type, as Linux).
		if dok && dn.Type == inode.TypeDir && sp != dp {
			if err := s.checkNotAncestor(ctx, tx, a, dn.Ino, sp); err != nil {
				if err == syscall.EINVAL && !exchange {
					err = syscall.ENOTEMPTY
				}
				return err
			}
		}
		if dok && de.Ino == se.Ino {
			return nil // same inode: POSIX says do nothing
		}
		if err := access(c, spi, accessW); err != nil {
			return err
		}
		if stickyDenied(c, spi, sn) {
			return syscall.EPERM
		}
		if err := access(c, dpi, accessW); err != nil {
			return err
		}
		if dok {
			if stickyDenied(c, dpi, dn) {
				return syscall.EPERM
			}
			switch {
			case exchange:
			case sn.Type == inode.TypeDir && dn.Type != inode.TypeDir:
				return syscall.ENOTDIR
			case sn.Type != inode.TypeDir && dn.Type == inode.TypeDir:
				return syscall.EISDIR
			}
		}
		// A directory that changes parent rewrites its "..".
		if sp != dp {
			if sn.Type == inode.TypeDir {
				if err := access(c, sn, accessW); err != nil {
					return err
				}
			}
			if exchange && dn.Type == inode.TypeDir {
				if err := access(c, dn, accessW); err != nil {
					return err
				}
			}
		}
		now := s.now()
		if exchange {
			tx.Set(sek, a.entryRecord(&dirent.Entry{Ino: dn.Ino, Type: dn.Type, Request: req}))
			tx.Set(dek, a.entryRecord(&dirent.Entry{Ino: sn.Ino, Type: sn.Type, Request: req}))
			s.moved(tx, a, sn, sp, dp, bd, now)
			s.moved(tx, a, dn, dp, sp, bs, now)
			s.touchDir(tx, a, sp, now)
			s.touchDir(tx, a, dp, now)
			return nil
		}
		if dok {
			switch {
			case dn.Type == inode.TypeDir:
				if err := s.checkEmpty(ctx, tx, a, dn.Ino); err != nil {
					return err
				}
				s.deleteDir(tx, a, dn.Ino)
				s.countDir(tx, a, dp, -1, -1)
			default:
				if err := s.dropLink(ctx, tx, a, dn, now); err != nil {
					return err
				}
				s.countDir(tx, a, dp, -1, 0)
			}
		}
		tx.Clear(sek)
		s.countDir(tx, a, sp, -1, 0)
		tx.Set(dek, a.entryRecord(&dirent.Entry{Ino: sn.Ino, Type: sn.Type, Request: req}))
		s.countDir(tx, a, dp, 1, 0)
		s.moved(tx, a, sn, sp, dp, bd, now)
		s.touchDir(tx, a, sp, now)
		if dp != sp {
			s.touchDir(tx, a, dp, now)
		}
		return nil
	})
}

// entryIf decodes the entry name of parent read in a batch, if found.
func entryIf(l kv.Lookup, parent uint64, name string, e *dirent.Entry) (bool, error) {
	if !l.Found {
		return false, nil
	}
	err := entryFrom(l, parent, name, e)
	return err == nil, err
}

// moved rewrites n after it moved from directory from to name in to: its
// ctime, and for a directory its parent pointer, name and the subdirectory
// counters of both parents.
func (s *Store) moved(tx kv.ReadWriteTxn, a *arena, n *inode.Inode, from, to uint64, name []byte, now int64) {
	if n.Type == inode.TypeDir {
		n.Parent, n.Name = to, name
		if from != to {
			s.countDir(tx, a, from, 0, -1)
			s.countDir(tx, a, to, 0, 1)
		}
		tx.Atomic(kv.AtomicMax, a.stat(&s.k, n.Ino, statCtime), a.le64(now))
	} else {
		n.Ctime = now
	}
	tx.Set(a.inode(&s.k, n.Ino), a.inodeRecord(n))
}

// checkNotAncestor fails with EINVAL if dir is dst or one of its ancestors.
// The walk reads every ancestor with a conflict, so a concurrent rename
// that changes the chain conflicts with this one.
func (s *Store) checkNotAncestor(ctx context.Context, tx kv.ReadWriteTxn, a *arena, dir, dst uint64) error {
	cur := dst
	for hops := 0; ; hops++ {
		if cur == dir {
			return syscall.EINVAL
		}
		if cur == inode.RootIno {
			return nil
		}
		if hops > 1<<20 {
			return syscall.ELOOP // a corrupt parent chain; fsck reports it
		}
		n, err := s.mustLoad(ctx, tx, a, cur, false)
		if err != nil {
			return err
		}
		cur = n.Parent
	}
}
