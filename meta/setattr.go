package meta

import (
	"context"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// SetAttr says which attributes to change; nil fields stay as they are.
type SetAttr struct {
	Mode *uint32 // permission, setuid, setgid and sticky bits
	Uid  *uint32
	Gid  *uint32
	Size *uint64 // regular files only
	// Atime and Mtime set explicit times (owner or root only); AtimeNow and
	// MtimeNow set the current time (owner, root, or write permission).
	Atime    *time.Time
	Mtime    *time.Time
	AtimeNow bool
	MtimeNow bool
}

// SetAttr changes the attributes of ino as chmod, chown, truncate and
// utimensat do, and sets its ctime.
func (s *Store) SetAttr(ctx context.Context, c Cred, ino uint64, set SetAttr) (Attr, error) {
	a, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) (Attr, error) {
		a := &o.a
		n, err := s.mustLoad(ctx, tx, a, ino, false)
		if err != nil {
			return Attr{}, err
		}
		owner := c.Uid == 0 || c.Uid == n.Uid
		now := s.now()
		if set.Mode != nil {
			if !owner {
				return Attr{}, syscall.EPERM
			}
			m := *set.Mode & inode.ModePerm
			if c.Uid != 0 && !c.inGroup(n.Gid) {
				m &^= inode.ModeSetgid
			}
			n.Mode = m
		}
		// As Linux's chown_ok and chgrp_ok: only root changes the owner;
		// the owner may "change" it to itself, and the group to one of
		// its groups. A non-owner may do neither, not even to the same id.
		if set.Uid != nil && c.Uid != 0 && (c.Uid != n.Uid || *set.Uid != n.Uid) {
			return Attr{}, syscall.EPERM
		}
		if set.Gid != nil && c.Uid != 0 && (c.Uid != n.Uid || (*set.Gid != n.Gid && !c.inGroup(*set.Gid))) {
			return Attr{}, syscall.EPERM
		}
		if (set.Uid != nil && *set.Uid != n.Uid) || (set.Gid != nil && *set.Gid != n.Gid) {
			// As Linux's should_remove_suid: setuid goes; setgid goes
			// only with group execute (without it, it marks mandatory
			// locking and stays).
			if n.Type != inode.TypeDir {
				n.Mode &^= inode.ModeSetuid
				if n.Mode&0o010 != 0 {
					n.Mode &^= inode.ModeSetgid
				}
			}
		}
		if set.Uid != nil {
			n.Uid = *set.Uid
		}
		if set.Gid != nil {
			n.Gid = *set.Gid
		}
		if set.Size != nil {
			switch n.Type {
			case inode.TypeDir:
				return Attr{}, syscall.EISDIR
			case inode.TypeFile:
			default:
				return Attr{}, syscall.EINVAL
			}
			if err := access(c, n, accessW); err != nil {
				return Attr{}, err
			}
			n.Size = *set.Size
			n.Mtime = now
		}
		if set.Atime != nil || set.Mtime != nil {
			if !owner {
				return Attr{}, syscall.EPERM
			}
		}
		if (set.AtimeNow || set.MtimeNow) && !owner {
			if err := access(c, n, accessW); err != nil {
				return Attr{}, err
			}
		}
		switch {
		case set.Atime != nil:
			n.Atime = set.Atime.UnixNano()
		case set.AtimeNow:
			n.Atime = now
		}
		mtime := int64(-1)
		switch {
		case set.Mtime != nil:
			mtime = set.Mtime.UnixNano()
		case set.MtimeNow:
			mtime = now
		}
		if n.Type == inode.TypeDir {
			// A directory's times are its stats keys: an explicit time
			// overwrites them (utimes into the past, as tar does).
			if mtime >= 0 {
				tx.Set(a.stat(&s.k, ino, statMtime), a.le64(mtime))
			}
			tx.Atomic(kv.AtomicMax, a.stat(&s.k, ino, statCtime), a.le64(now))
		} else {
			if mtime >= 0 {
				n.Mtime = mtime
			}
			n.Ctime = now
		}
		tx.Set(a.inode(&s.k, n.Ino), a.inodeRecord(n))
		return s.attr(ctx, tx, a, n)
	}, attrIno, s.replayAttr)
	if err != nil {
		return a, inoErr("setattr", ino, err)
	}
	return a, nil
}
