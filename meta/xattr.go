package meta

import (
	"bytes"
	"context"
	"strings"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// Extended attribute namespaces.
const (
	xattrUser     = "user."
	xattrTrusted  = "trusted."
	xattrSecurity = "security."
	xattrSystem   = "system."
)

// checkXattrName validates a name as Linux's setxattr and getxattr copy it
// in: empty or longer than MaxXattrNameLen is ERANGE.
func checkXattrName(name string) error {
	if name == "" || len(name) > MaxXattrNameLen {
		return syscall.ERANGE
	}
	return nil
}

// xattrNamespace is Linux's xattr_resolve_name: the namespace of name, a
// namespace prefix with nothing after it is EINVAL, an unknown namespace
// and system.* (no POSIX ACLs here) are EOPNOTSUPP.
func xattrNamespace(name string) (string, error) {
	for _, ns := range []string{xattrUser, xattrTrusted, xattrSecurity} {
		if strings.HasPrefix(name, ns) {
			if len(name) == len(ns) {
				return "", syscall.EINVAL
			}
			return ns, nil
		}
	}
	return "", syscall.EOPNOTSUPP
}

// xattrPermission is Linux's xattr_permission followed by the capability
// module's setxattr and removexattr hooks, for an attribute of n that c
// reads (write false) or writes. ns is the name's namespace, "" when it
// has none that the store knows; the caller reports that after this check,
// as Linux resolves the handler after it.
func xattrPermission(c Cred, n *inode.Inode, name string, write bool) error {
	mask := uint32(accessR)
	if write {
		mask = accessW
	}
	switch {
	case strings.HasPrefix(name, xattrSecurity):
		// No VFS check; commoncap lets only CAP_SYS_ADMIN write.
		if write && c.Uid != 0 {
			return syscall.EPERM
		}
		return nil
	case strings.HasPrefix(name, xattrSystem):
		return nil
	case strings.HasPrefix(name, xattrTrusted):
		if c.Uid != 0 {
			if write {
				return syscall.EPERM
			}
			return syscall.ENODATA
		}
	case strings.HasPrefix(name, xattrUser):
		if n.Type != inode.TypeFile && n.Type != inode.TypeDir {
			if write {
				return syscall.EPERM
			}
			return syscall.ENODATA
		}
		if n.Type == inode.TypeDir && n.Mode&inode.ModeSticky != 0 && write && c.Uid != 0 && c.Uid != n.Uid {
			return syscall.EPERM
		}
	}
	return access(c, n, mask)
}

// bumpCtime sets the ctime of n to now in tx: in the record for files, in
// the stats counter for directories.
func (s *Store) bumpCtime(tx kv.ReadWriteTxn, n *inode.Inode, now int64) {
	if n.Type == inode.TypeDir {
		tx.Atomic(kv.AtomicMax, s.l.Stat(n.Ino, statCtime), le64(now))
		return
	}
	n.Ctime = now
	inode.Store(tx, s.l, n)
}

// SetXattr sets the extended attribute name of ino to value, as
// setxattr(2): flags XattrCreate fails with EEXIST if it exists,
// XattrReplace with ENODATA if it does not (both set, as on Linux, fail
// one way or the other); other flag bits are EINVAL. An empty name or one
// over MaxXattrNameLen bytes is ERANGE, a value over MaxXattrValueLen
// E2BIG, a namespace other than user., trusted. and security. EOPNOTSUPP.
// Permissions are Linux's (see xattrPermission). It sets ino's ctime.
func (s *Store) SetXattr(ctx context.Context, c Cred, ino uint64, name string, value []byte, flags int) error {
	err := s.setXattr(ctx, c, ino, name, value, flags)
	return inoErr("setxattr", ino, err)
}

func (s *Store) setXattr(ctx context.Context, c Cred, ino uint64, name string, value []byte, flags int) error {
	if flags&^(XattrCreate|XattrReplace) != 0 {
		return syscall.EINVAL
	}
	if err := checkXattrName(name); err != nil {
		return err
	}
	if len(value) > MaxXattrValueLen {
		return syscall.E2BIG
	}
	val := bytes.Clone(value)
	if val == nil {
		val = []byte{}
	}
	key := s.l.Xattr(ino, []byte(name))
	return s.recordedUpdate(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, _ *op) error {
		n, cur, err := s.loadXattr(ctx, tx, c, ino, name, key, true)
		if err != nil {
			return err
		}
		switch {
		case flags&XattrCreate != 0 && cur.Found:
			return syscall.EEXIST
		case flags&XattrReplace != 0 && !cur.Found:
			return syscall.ENODATA
		}
		tx.Set(key, val)
		s.bumpCtime(tx, n, s.now())
		return nil
	})
}

// GetXattr returns the value of the extended attribute name of ino, or
// ENODATA. Reading needs read permission on ino for user.* (and user.* of
// anything but files and directories is ENODATA), uid 0 for trusted.*
// (ENODATA otherwise); security.* is readable by anyone.
func (s *Store) GetXattr(ctx context.Context, c Cred, ino uint64, name string) ([]byte, error) {
	if err := checkXattrName(name); err != nil {
		return nil, inoErr("getxattr", ino, err)
	}
	key := s.l.Xattr(ino, []byte(name))
	v, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) ([]byte, error) {
		_, cur, err := s.loadXattr(ctx, tx, c, ino, name, key, false)
		if err != nil {
			return nil, err
		}
		if !cur.Found {
			return nil, syscall.ENODATA
		}
		if cur.Value == nil {
			return []byte{}, nil
		}
		return cur.Value, nil
	})
	return v, inoErr("getxattr", ino, err)
}

// ListXattr returns the names of ino's extended attributes in byte order.
// As on Linux it needs no permission on ino, and trusted.* names are
// listed for uid 0 only.
func (s *Store) ListXattr(ctx context.Context, c Cred, ino uint64) ([]string, error) {
	names, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) ([]string, error) {
		var a arena
		if _, err := s.mustLoad(ctx, tx, &a, ino, true); err != nil {
			return nil, err
		}
		sub := s.l.Root().Sub("x", ino)
		b, e := sub.Range()
		out := []string{}
		sel := kv.FirstGreaterOrEqual(b)
		for {
			res, err := tx.SnapshotGetRange(ctx, sel, kv.FirstGreaterOrEqual(e), 256)
			if err != nil {
				return nil, err
			}
			for _, row := range res.KVs {
				t, err := sub.Unpack(row.Key)
				if err != nil || len(t) != 1 {
					continue // Check reports it
				}
				name, _ := t[0].([]byte)
				if c.Uid != 0 && strings.HasPrefix(string(name), xattrTrusted) {
					continue
				}
				out = append(out, string(name))
			}
			if !res.More || len(res.KVs) == 0 {
				return out, nil
			}
			sel = kv.FirstGreaterThan(res.KVs[len(res.KVs)-1].Key)
		}
	})
	return names, inoErr("listxattr", ino, err)
}

// RemoveXattr removes the extended attribute name of ino, or fails with
// ENODATA. It needs what SetXattr needs and sets ino's ctime.
func (s *Store) RemoveXattr(ctx context.Context, c Cred, ino uint64, name string) error {
	if err := checkXattrName(name); err != nil {
		return inoErr("removexattr", ino, err)
	}
	key := s.l.Xattr(ino, []byte(name))
	err := s.recordedUpdate(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, _ *op) error {
		n, cur, err := s.loadXattr(ctx, tx, c, ino, name, key, true)
		if err != nil {
			return err
		}
		if !cur.Found {
			return syscall.ENODATA
		}
		tx.Clear(key)
		s.bumpCtime(tx, n, s.now())
		return nil
	})
	return inoErr("removexattr", ino, err)
}

// loadXattr reads ino and its attribute key in one batch (non-snapshot when
// write: the caller changes it) and checks that c may read, or with write
// change, the attribute name of ino.
func (s *Store) loadXattr(ctx context.Context, tx kv.ReadOnlyTxn, c Cred, ino uint64, name string, key []byte, write bool) (*inode.Inode, kv.Lookup, error) {
	ls, err := kv.GetMany(ctx, tx, !write, s.l.Inode(ino), key)
	if err != nil {
		return nil, kv.Lookup{}, err
	}
	n, err := inodeFrom(ls[0], ino)
	if err != nil {
		return nil, kv.Lookup{}, err
	}
	if err := xattrPermission(c, n, name, write); err != nil {
		return nil, kv.Lookup{}, err
	}
	if _, err := xattrNamespace(name); err != nil {
		return nil, kv.Lookup{}, err
	}
	return n, ls[1], nil
}
