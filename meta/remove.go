package meta

import (
	"context"
	"math/rand/v2"
	"syscall"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/kv"
)

// request records the success of a non-idempotent operation in the
// transaction that applies it, so that a retry after an unknown commit
// result recognises it even when other clients changed the names since.
type request struct {
	Expiry int64  `msgpack:"e"`
	Ino    uint64 `msgpack:"i,omitempty"` // the inode the operation returned
}

// appendRequest appends r's msgpack form: the bytes msgpack.Marshal writes
// for request, without reflection.
func appendRequest(b []byte, r request) []byte {
	if r.Ino == 0 {
		return msgcodec.AppendInt64(msgcodec.AppendKey(msgcodec.AppendMapHeader(b, 1), "e"), r.Expiry)
	}
	b = msgcodec.AppendInt64(msgcodec.AppendKey(msgcodec.AppendMapHeader(b, 2), "e"), r.Expiry)
	return msgcodec.AppendUint64(msgcodec.AppendKey(b, "i"), r.Ino)
}

// decodeRequest decodes a request record, by hand when it is in
// appendRequest's form and else with msgpack.Unmarshal.
func decodeRequest(b []byte) (request, error) {
	var r request
	rd := msgcodec.NewReader(b)
	n, ok := rd.MapLen()
	for ; ok && n > 0; n-- {
		var k []byte
		if k, ok = rd.Key(); !ok {
			break
		}
		switch string(k) {
		case "e":
			r.Expiry, ok = rd.Int64()
		case "i":
			r.Ino, ok = rd.Uint64()
		default:
			ok = false
		}
	}
	if ok && rd.Done() {
		return r, nil
	}
	slow := new(request) // through an interface: on the heap
	err := msgcodec.Unmarshal(b, slow)
	return *slow, err
}

// op is the state of one recorded operation, shared by its attempts: the
// request id, the clock reading of the current attempt, and an arena for
// the attempts' keys and values, which starts in buf (room for a create's
// nine keys and six values).
type op struct {
	req     uint64
	now     int64
	attempt int
	a       arena
	buf     [448]byte
}

// recordedOp runs fn as one retried transaction that also writes fn's
// request record. On attempts after the first, a record left by an earlier
// attempt that committed short-cuts to replay, which rebuilds the result
// from the recorded inode.
func recordedOp[T any](ctx context.Context, s *Store,
	fn func(ctx context.Context, tx kv.ReadWriteTxn, o *op) (T, error),
	inoOf func(T) uint64,
	replay func(ctx context.Context, tx kv.ReadWriteTxn, ino uint64) (T, error),
) (T, error) {
	o := &op{req: rand.Uint64()}
	o.a.b, o.a.chunk = o.buf[:0], 512
	v, err := transact(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn) (T, error) {
		o.attempt++
		if o.attempt > 1 {
			b, found, err := tx.SnapshotGet(ctx, o.a.request(&s.k, s.client, o.req))
			if err != nil {
				var zero T
				return zero, err
			}
			if found {
				r, _ := decodeRequest(b) // written by this store: a bad record yields ino 0
				return replay(ctx, tx, r.Ino)
			}
		}
		o.now = s.now()
		v, err := fn(ctx, tx, o)
		if err != nil {
			return v, err
		}
		rec := o.a.requestRecord(request{Expiry: o.now + s.ttl.Nanoseconds(), Ino: inoOf(v)})
		tx.Set(o.a.request(&s.k, s.client, o.req), rec)
		return v, nil
	})
	if err == nil && s.recordedOps.Add(1)%256 == 0 {
		s.purgeRequests(ctx, 256)
	}
	return v, err
}

func noIno(struct{}) uint64 { return 0 }

func noReplay(context.Context, kv.ReadWriteTxn, uint64) (struct{}, error) { return struct{}{}, nil }

// recordedUpdate runs an operation without a result under a request record.
func (s *Store) recordedUpdate(ctx context.Context, fn func(ctx context.Context, tx kv.ReadWriteTxn, o *op) error) error {
	_, err := recordedOp(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) (struct{}, error) {
		return struct{}{}, fn(ctx, tx, o)
	}, noIno, noReplay)
	return err
}

// replayAttr is the result of a recorded operation that returned inode
// ino's attributes: its attributes now, or just its id if another client
// removed it since.
func (s *Store) replayAttr(ctx context.Context, tx kv.ReadWriteTxn, ino uint64) (Attr, error) {
	var a arena
	n, ok, err := inode.Load(ctx, tx, s.l, ino, true)
	if err != nil || !ok {
		return Attr{Ino: ino}, err
	}
	return s.attr(ctx, tx, &a, n)
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
			if r, err := decodeRequest(row.Value); err != nil || r.Expiry < now {
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
	err := s.recordedUpdate(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) error {
		if len(name) > MaxNameLen {
			return syscall.ENAMETOOLONG
		}
		a := &o.a
		e, ek, n, err := s.loadVictim(ctx, tx, a, c, parent, name)
		if err != nil {
			return err
		}
		if e.Type == inode.TypeDir {
			return syscall.EISDIR
		}
		tx.Clear(ek)
		s.countDir(tx, a, parent, -1, 0)
		s.touchDir(tx, a, parent, o.now)
		return s.dropLink(ctx, tx, a, n, o.now)
	})
	return entErr("unlink", parent, name, err)
}

// loadVictim loads, with conflicts, directory parent, its entry name and
// the inode that entry names, for a remove, and returns them with the
// entry's key. It checks as Linux's may_delete does and in its
// order: search on parent, the name exists, write on parent, the sticky
// bit. "." and ".." are EISDIR (unlink's answer; rmdir maps them to its
// own).
func (s *Store) loadVictim(ctx context.Context, tx kv.ReadWriteTxn, a *arena, c Cred, parent uint64, name string) (e dirent.Entry, ek []byte, n *inode.Inode, err error) {
	if name == "." || name == ".." {
		if _, err := s.loadDir(ctx, tx, a, c, parent, accessX, false); err != nil {
			return e, nil, nil, err
		}
		return e, nil, nil, syscall.EISDIR
	}
	// The directory and the entry in one batch, both with conflicts; the
	// entry counts only once the directory passed its checks.
	ek = a.direntString(&s.k, parent, name)
	ls, err := kv.GetMany(ctx, tx, false, a.keys(a.inode(&s.k, parent), ek)...)
	if err != nil {
		return e, nil, nil, err
	}
	var pv inode.Inode
	if err := dirFrom(ls[0], c, parent, accessX, &pv); err != nil {
		return e, nil, nil, err
	}
	p := &pv
	if err := entryFrom(ls[1], parent, name, &e); err != nil {
		return e, nil, nil, err
	}
	if err := access(c, p, accessW); err != nil {
		return e, nil, nil, err
	}
	b, found, err := tx.Get(ctx, a.inode(&s.k, e.Ino))
	if err != nil {
		return e, nil, nil, err
	}
	if n, err = inodeFrom(kv.Lookup{Value: b, Found: found}, e.Ino); err != nil {
		return e, nil, nil, err
	}
	if stickyDenied(c, p, n) {
		return e, nil, nil, syscall.EPERM
	}
	return e, ek, n, nil
}

// dropLink takes one link from a non-directory n; the last one deletes it,
// or queues it under the deferred deletes while it is open.
func (s *Store) dropLink(ctx context.Context, tx kv.ReadWriteTxn, a *arena, n *inode.Inode, now int64) error {
	if n.Nlink > 0 {
		n.Nlink--
	}
	n.Ctime = now
	if n.Nlink > 0 {
		tx.Set(a.inode(&s.k, n.Ino), a.inodeRecord(n))
		return nil
	}
	open, err := s.isOpen(ctx, tx, a, n.Ino)
	if err != nil {
		return err
	}
	if open {
		tx.Set(a.inode(&s.k, n.Ino), a.inodeRecord(n))
		tx.Set(a.deferred(&s.k, n.Ino), nil)
		return nil
	}
	s.deleteInode(tx, a, n.Ino)
	return nil
}

// isOpen reads the handles of ino with a conflict, so that a concurrent Open
// conflicts with the delete.
func (s *Store) isOpen(ctx context.Context, tx kv.ReadWriteTxn, a *arena, ino uint64) (bool, error) {
	b, e := a.span(s.k.handle, ino)
	res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), 1)
	if err != nil {
		return false, err
	}
	return len(res.KVs) > 0, nil
}

// deleteInode removes an inode and everything hanging off it.
func (s *Store) deleteInode(tx kv.ReadWriteTxn, a *arena, ino uint64) {
	tx.Clear(a.inode(&s.k, ino))
	tx.Clear(a.deferred(&s.k, ino))
	b, e := a.span(s.k.xattr, ino)
	tx.ClearRange(b, e)
	b, e = a.span(s.k.lock, ino)
	tx.ClearRange(b, e)
}

// Rmdir removes the empty directory name of parent.
func (s *Store) Rmdir(ctx context.Context, c Cred, parent uint64, name string) error {
	err := s.recordedUpdate(ctx, func(ctx context.Context, tx kv.ReadWriteTxn, o *op) error {
		if len(name) > MaxNameLen {
			return syscall.ENAMETOOLONG
		}
		a := &o.a
		e, ek, d, err := s.loadVictim(ctx, tx, a, c, parent, name)
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
		if err := s.checkEmpty(ctx, tx, a, d.Ino); err != nil {
			return err
		}
		tx.Clear(ek)
		s.deleteDir(tx, a, d.Ino)
		s.countDir(tx, a, parent, -1, -1)
		s.touchDir(tx, a, parent, o.now)
		return nil
	})
	return entErr("rmdir", parent, name, err)
}

// checkEmpty fails with ENOTEMPTY unless dir has no entries. The read takes
// a conflict, so a concurrent create in dir conflicts.
func (s *Store) checkEmpty(ctx context.Context, tx kv.ReadWriteTxn, a *arena, dir uint64) error {
	b, e := a.span(s.k.dirent, dir)
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
func (s *Store) deleteDir(tx kv.ReadWriteTxn, a *arena, dir uint64) {
	s.deleteInode(tx, a, dir)
	b, e := a.span(s.k.stat, dir)
	tx.ClearRange(b, e)
	b, e = a.span(s.k.handle, dir)
	tx.ClearRange(b, e)
}
