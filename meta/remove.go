package meta

import (
	"context"
	"math/rand/v2"
	"syscall"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/vmihailenco/msgpack/v5"
)

// request records the success of a non-idempotent operation in the
// transaction that applies it, so that a retry after an unknown commit
// result recognises it even when other clients changed the names since.
type request struct {
	Expiry int64  `msgpack:"e"`
	Ino    uint64 `msgpack:"i,omitempty"` // the inode the operation returned
}

// recordedOp runs fn as one retried transaction that also writes fn's
// request record. On attempts after the first, a record left by an earlier
// attempt that committed short-cuts to replay, which rebuilds the result
// from the recorded inode.
func recordedOp[T any](ctx context.Context, s *Store,
	fn func(ctx context.Context, tx kv.ReadWriteTxn, req uint64, now int64) (T, error),
	inoOf func(T) uint64,
	replay func(ctx context.Context, tx kv.ReadWriteTxn, ino uint64) (T, error),
) (T, error) {
	req := rand.Uint64()
	attempt := 0
	v, err := transact(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn) (T, error) {
		attempt++
		if attempt > 1 {
			b, found, err := tx.SnapshotGet(ctx, s.l.Request(s.client, req))
			if err != nil {
				var zero T
				return zero, err
			}
			if found {
				var r request
				_ = msgpack.Unmarshal(b, &r) // written by this store: a bad record yields ino 0
				return replay(ctx, tx, r.Ino)
			}
		}
		now := s.now()
		v, err := fn(ctx, tx, req, now)
		if err != nil {
			return v, err
		}
		rb, _ := msgpack.Marshal(&request{Expiry: now + s.ttl.Nanoseconds(), Ino: inoOf(v)})
		tx.Set(s.l.Request(s.client, req), rb)
		return v, nil
	})
	if err == nil && s.recordedOps.Add(1)%256 == 0 {
		s.purgeRequests(ctx, 256)
	}
	return v, err
}

func noIno(struct{}) uint64 { return 0 }

func noReplay(context.Context, kv.ReadWriteTxn, uint64) (struct{}, error) { return struct{}{}, nil }

// removeOp runs an operation without a result under a request record.
func (s *Store) removeOp(ctx context.Context, fn func(ctx context.Context, tx kv.ReadWriteTxn, now int64) error) error {
	_, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, _ uint64, now int64) (struct{}, error) {
		return struct{}{}, fn(ctx, tx, now)
	}, noIno, noReplay)
	return err
}

// recordedUpdate runs an operation without a result under a request
// record, giving it the request id.
func (s *Store) recordedUpdate(ctx context.Context, fn func(ctx context.Context, tx kv.ReadWriteTxn, req uint64) error) error {
	_, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, req uint64, _ int64) (struct{}, error) {
		return struct{}{}, fn(ctx, tx, req)
	}, noIno, noReplay)
	return err
}

// replayAttr is the result of a recorded operation that returned inode
// ino's attributes: its attributes now, or just its id if another client
// removed it since.
func (s *Store) replayAttr(ctx context.Context, tx kv.ReadWriteTxn, ino uint64) (Attr, error) {
	n, ok, err := inode.Load(ctx, tx, s.l, ino, true)
	if err != nil || !ok {
		return Attr{Ino: ino}, err
	}
	return s.attr(ctx, tx, n)
}

func attrIno(a Attr) uint64 { return a.Ino }

// purgeRequests removes up to n expired request records of this store. It
// is housekeeping: failures are left for the next round.
func (s *Store) purgeRequests(ctx context.Context, n int) {
	now := s.now()
	_ = s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		b, e := s.l.Root().Sub("q", s.client).Range()
		res, err := tx.SnapshotGetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), n)
		if err != nil {
			return err
		}
		for _, row := range res.KVs {
			var r request
			if msgpack.Unmarshal(row.Value, &r) != nil || r.Expiry < now {
				tx.Clear(row.Key)
			}
		}
		return nil
	})
}

// Unlink removes the entry name of parent, which must not be a directory.
// The inode goes with its last link, unless it is open: then it stays,
// with nlink 0, until the last Close.
func (s *Store) Unlink(ctx context.Context, c Cred, parent uint64, name string) error {
	err := s.removeOp(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, now int64) error {
		if len(name) > MaxNameLen {
			return syscall.ENAMETOOLONG
		}
		e, n, err := s.loadVictim(ctx, tx, c, parent, name)
		if err != nil {
			return err
		}
		if e.Type == inode.TypeDir {
			return syscall.EISDIR
		}
		bname := []byte(name)
		dirent.Delete(tx, s.l, parent, bname)
		s.countDir(tx, parent, -1, 0)
		s.touchDir(tx, parent, now)
		return s.dropLink(ctx, tx, n, now)
	})
	return pathErr("unlink", entPath(parent, name), err)
}

// loadVictim loads, with conflicts, directory parent, its entry name and
// the inode that entry names, for a remove. It checks as Linux's may_delete
// does and in its order: search on parent, the name exists, write on
// parent, the sticky bit. "." and ".." are EISDIR (unlink's answer; rmdir
// maps them to its own).
func (s *Store) loadVictim(ctx context.Context, tx kv.ReadWriteTxn, c Cred, parent uint64, name string) (*dirent.Entry, *inode.Inode, error) {
	p, err := s.loadDir(ctx, tx, c, parent, accessX, false)
	if err != nil {
		return nil, nil, err
	}
	if name == "." || name == ".." {
		return nil, nil, syscall.EISDIR
	}
	e, ok, err := dirent.Load(ctx, tx, s.l, parent, []byte(name), false)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, syscall.ENOENT
	}
	if err := access(c, p, accessW); err != nil {
		return nil, nil, err
	}
	n, err := s.mustLoad(ctx, tx, e.Ino, false)
	if err != nil {
		return nil, nil, err
	}
	if stickyDenied(c, p, n) {
		return nil, nil, syscall.EPERM
	}
	return e, n, nil
}

// dropLink takes one link from a non-directory n; the last one deletes it,
// or queues it under the deferred deletes while it is open.
func (s *Store) dropLink(ctx context.Context, tx kv.ReadWriteTxn, n *inode.Inode, now int64) error {
	if n.Nlink > 0 {
		n.Nlink--
	}
	n.Ctime = now
	if n.Nlink > 0 {
		inode.Store(tx, s.l, n)
		return nil
	}
	open, err := s.isOpen(ctx, tx, n.Ino)
	if err != nil {
		return err
	}
	if open {
		inode.Store(tx, s.l, n)
		tx.Set(s.l.Deferred(n.Ino), nil)
		return nil
	}
	s.deleteInode(tx, n.Ino)
	return nil
}

// isOpen reads the handles of ino with a conflict, so that a concurrent Open
// conflicts with the delete.
func (s *Store) isOpen(ctx context.Context, tx kv.ReadWriteTxn, ino uint64) (bool, error) {
	b, e := s.l.HandleRange(ino)
	res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), 1)
	if err != nil {
		return false, err
	}
	return len(res.KVs) > 0, nil
}

// deleteInode removes an inode and everything hanging off it.
func (s *Store) deleteInode(tx kv.ReadWriteTxn, ino uint64) {
	inode.Delete(tx, s.l, ino)
	tx.Clear(s.l.Deferred(ino))
	b, e := s.l.XattrRange(ino)
	tx.ClearRange(b, e)
	b, e = s.l.LockRange(ino, "")
	tx.ClearRange(b, e)
}

// Rmdir removes the empty directory name of parent.
func (s *Store) Rmdir(ctx context.Context, c Cred, parent uint64, name string) error {
	err := s.removeOp(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, now int64) error {
		if len(name) > MaxNameLen {
			return syscall.ENAMETOOLONG
		}
		e, d, err := s.loadVictim(ctx, tx, c, parent, name)
		switch {
		case err == syscall.EISDIR && name == ".":
			return syscall.EINVAL
		case err == syscall.EISDIR && name == "..":
			return syscall.ENOTEMPTY
		case err != nil:
			return err
		case e.Type != inode.TypeDir:
			return syscall.ENOTDIR
		}
		bname := []byte(name)
		if err := s.checkEmpty(ctx, tx, d.Ino); err != nil {
			return err
		}
		dirent.Delete(tx, s.l, parent, bname)
		s.deleteDir(tx, d.Ino)
		s.countDir(tx, parent, -1, -1)
		s.touchDir(tx, parent, now)
		return nil
	})
	return pathErr("rmdir", entPath(parent, name), err)
}

// checkEmpty fails with ENOTEMPTY unless dir has no entries. The read takes
// a conflict, so a concurrent create in dir conflicts.
func (s *Store) checkEmpty(ctx context.Context, tx kv.ReadWriteTxn, dir uint64) error {
	b, e := s.l.DirentRange(dir)
	res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), 1)
	if err != nil {
		return err
	}
	if len(res.KVs) > 0 {
		return syscall.ENOTEMPTY
	}
	return nil
}

// deleteDir removes a directory with its counters. Directories are not
// kept for their open handles (files are): the handles go too, and a later
// Close of one finds nothing to do.
func (s *Store) deleteDir(tx kv.ReadWriteTxn, dir uint64) {
	s.deleteInode(tx, dir)
	b, e := s.l.StatRange(dir)
	tx.ClearRange(b, e)
	b, e = s.l.HandleRange(dir)
	tx.ClearRange(b, e)
}
