package meta

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/kv"
)

// Lock kinds, the third element of a lock key.
const (
	lockFlock = "f" // ("l", ino, "f", session, handle, owner)
	lockPosix = "p" // ("l", ino, "p", session, owner, start)
)

// lockRecord is the value of a lock key.
type lockRecord struct {
	T   LockType `msgpack:"t"`
	End uint64   `msgpack:"e,omitempty"` // POSIX locks
	Pid uint32   `msgpack:"p,omitempty"`
}

// LockInfo is one lock as Locks lists it.
type LockInfo struct {
	Lock
	// Flock is set for a flock lock (whole file; Start 0, End LockEOF),
	// held by Handle; else it is a POSIX byte-range lock.
	Flock  bool
	Handle uint64
}

// storedLock is a lock read from the store with its key.
type storedLock struct {
	key []byte
	LockInfo
}

// Waits of blocking lock calls poll with this backoff.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 100 * time.Millisecond
)

// lockSession is the session a lock call on h runs in: the handle's, or
// the context's for a handle that names none. A handle of another session
// than the one WithSession put in ctx is EBADF, so that a meta server that
// runs each client's calls in its session cannot be handed another
// client's handle.
func (s *Store) lockSession(ctx context.Context, h Handle) (uint64, error) {
	if se, ok := ctx.Value(sessionKey{}).(*Session); ok && se != nil && h.Session != 0 && h.Session != se.id {
		return 0, syscall.EBADF
	}
	if h.Session != 0 {
		return h.Session, nil
	}
	se, err := s.session(ctx)
	if err != nil {
		return 0, err
	}
	return se.id, nil
}

// poll runs attempt once, or with wait until it stops failing with EAGAIN,
// backing off from lockPollMin to lockPollMax. A context that ends while
// waiting is EINTR wrapping the context's error.
func poll(ctx context.Context, wait bool, attempt func() error) error {
	d := lockPollMin
	for {
		err := attempt()
		if !wait {
			return err
		}
		if ctx.Err() != nil && err != nil {
			return &interrupted{cause: ctx.Err()}
		}
		if err != syscall.EAGAIN {
			return err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return &interrupted{cause: ctx.Err()}
		case <-t.C:
		}
		d = min(2*d, lockPollMax)
	}
}

// checkLockHandle checks, on a batch read of the session record and the
// handle record, that the session is live and the handle open in it
// (EBADF otherwise; with mayBeClosed a missing handle is fine). It
// returns the handle's access mode, -1 when it is closed.
func (s *Store) checkLockHandle(ls []kv.Lookup, sid uint64, mayBeClosed bool) (int, error) {
	if _, err := s.liveSession(ls[0], sid); err != nil {
		return 0, err
	}
	if !ls[1].Found {
		if mayBeClosed {
			return -1, nil
		}
		return 0, syscall.EBADF
	}
	hs, mode, ok := parseHandle(ls[1].Value)
	if !ok || hs != sid {
		return 0, syscall.EBADF
	}
	return mode, nil
}

// readLocks reads every lock of ino of kind, with conflicts unless
// snapshot. Records that do not decode are skipped (Check reports them).
func (s *Store) readLocks(ctx context.Context, tx kv.ReadOnlyTxn, ino uint64, kind string, snapshot bool) ([]storedLock, error) {
	sub := s.l.Root().Sub("l", ino, kind)
	b, e := sub.Range()
	var out []storedLock
	sel := kv.FirstGreaterOrEqual(b)
	for {
		var res kv.RangeResult
		var err error
		if snapshot {
			res, err = tx.SnapshotGetRange(ctx, sel, kv.FirstGreaterOrEqual(e), 256)
		} else {
			res, err = tx.GetRange(ctx, sel, kv.FirstGreaterOrEqual(e), 256)
		}
		if err != nil {
			return nil, err
		}
		for _, row := range res.KVs {
			t, err := sub.Unpack(row.Key)
			var r lockRecord
			if err != nil || len(t) != 3 || msgcodec.Unmarshal(row.Value, &r) != nil {
				continue
			}
			l := storedLock{key: row.Key}
			l.Session, l.Type, l.Pid = tupleUint(t[0]), r.T, r.Pid
			if kind == lockFlock {
				l.Flock, l.Handle, l.Owner = true, tupleUint(t[1]), tupleUint(t[2])
				l.Start, l.End = 0, LockEOF
			} else {
				l.Owner, l.Start, l.End = tupleUint(t[1]), tupleUint(t[2]), r.End
			}
			out = append(out, l)
		}
		if !res.More || len(res.KVs) == 0 {
			return out, nil
		}
		sel = kv.FirstGreaterThan(res.KVs[len(res.KVs)-1].Key)
	}
}

func encodeLock(r lockRecord) []byte {
	b, err := msgpack.Marshal(&r)
	if err != nil {
		panic(fmt.Sprintf("meta: encode lock: %v", err)) // plain struct: cannot fail
	}
	return b
}

func overlaps(a, b Lock) bool { return a.Start <= b.End && b.Start <= a.End }

func conflicts(a, b Lock) bool {
	return overlaps(a, b) && (a.Type == LockWrite || b.Type == LockWrite)
}

// Flock applies flock(2) operation typ (LockRead = LOCK_SH, LockWrite =
// LOCK_EX, LockUnlock = LOCK_UN) to h's inode for (h, owner): the lock is
// held by the pair, so two handles conflict even in one session, as two
// open file descriptions do on Linux. Converting a held lock between
// shared and exclusive is atomic: on conflict the old lock stays. A
// conflict is EWOULDBLOCK (EAGAIN); with wait the call polls until the lock
// is granted or ctx ends (EINTR wrapping ctx's error). flock locks and
// POSIX locks do not conflict with each other. Close(h) releases h's
// flock locks. A closed handle or one of another session is EBADF; a call
// in an expired session is ErrSessionExpired.
func (s *Store) Flock(ctx context.Context, h Handle, owner uint64, typ LockType, wait bool) error {
	err := s.flock(ctx, h, owner, typ, wait)
	return inoErr("flock", h.Ino, err)
}

func (s *Store) flock(ctx context.Context, h Handle, owner uint64, typ LockType, wait bool) error {
	if typ > LockWrite {
		return syscall.EINVAL
	}
	sid, err := s.lockSession(ctx, h)
	if err != nil {
		return err
	}
	mine := s.l.Lock(h.Ino, lockFlock, sid, h.ID, owner)
	return poll(ctx, wait && typ != LockUnlock, func() error {
		return s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			ls, err := kv.GetMany(ctx, tx, false, s.l.Session(sid), s.l.Handle(h.Ino, h.ID))
			if err != nil {
				return err
			}
			if _, err := s.checkLockHandle(ls, sid, false); err != nil {
				return err
			}
			locks, err := s.readLocks(ctx, tx, h.Ino, lockFlock, false)
			if err != nil {
				return err
			}
			others := 0 // other flocks of this session on the inode
			req := Lock{Type: typ, Start: 0, End: LockEOF}
			for _, l := range locks {
				if l.Session == sid && l.Handle == h.ID && l.Owner == owner {
					continue
				}
				if l.Session == sid {
					others++
				}
				if typ != LockUnlock && conflicts(req, l.Lock) {
					return syscall.EAGAIN
				}
			}
			idx := s.l.SessionLocks(sid, lockFlock, h.Ino)
			if typ == LockUnlock {
				tx.Clear(mine)
				if others == 0 {
					tx.Clear(idx)
				}
				return nil
			}
			tx.Set(mine, encodeLock(lockRecord{T: typ}))
			tx.Set(idx, nil)
			return nil
		})
	})
}

// SetLk applies fcntl(2) F_SETLK (F_SETLKW with wait) to h's inode: lock
// (LockRead, LockWrite) or unlock (LockUnlock) the bytes [lk.Start,
// lk.End] for owner lk.Owner of h's session, recording lk.Pid. An owner's
// ranges merge with its adjacent and overlapping ranges of the same type,
// and a lock or unlock in the middle of a range splits it. A range
// overlapping another owner's lock where either is a write lock is EAGAIN;
// with wait the call polls until it is granted or ctx ends (EINTR wrapping
// ctx's error). A read lock needs h open for reading, a write lock for
// writing (EBADF otherwise); an unlock works on a closed handle too. A bad
// type or Start > End is EINVAL; a call in an expired session is
// ErrSessionExpired. Locks stay after Close(h) (a FUSE server drops the
// closing owner's POSIX locks itself when the kernel sends FLUSH, as package
// mount does); they go with an unlock, the end of the session, or the inode.
func (s *Store) SetLk(ctx context.Context, h Handle, lk Lock, wait bool) error {
	err := s.setLk(ctx, h, lk, wait)
	return inoErr("setlk", h.Ino, err)
}

func (s *Store) setLk(ctx context.Context, h Handle, lk Lock, wait bool) error {
	if lk.Type > LockWrite || lk.Start > lk.End {
		return syscall.EINVAL
	}
	sid, err := s.lockSession(ctx, h)
	if err != nil {
		return err
	}
	lk.Session = sid
	return poll(ctx, wait && lk.Type != LockUnlock, func() error {
		return s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			ls, err := kv.GetMany(ctx, tx, false, s.l.Session(sid), s.l.Handle(h.Ino, h.ID))
			if err != nil {
				return err
			}
			mode, err := s.checkLockHandle(ls, sid, lk.Type == LockUnlock)
			if err != nil {
				return err
			}
			switch {
			case lk.Type == LockRead && mode == syscall.O_WRONLY,
				lk.Type == LockWrite && mode == syscall.O_RDONLY:
				return syscall.EBADF
			}
			locks, err := s.readLocks(ctx, tx, h.Ino, lockPosix, false)
			if err != nil {
				return err
			}
			var own []Lock
			old := map[uint64]Lock{}
			for _, l := range locks {
				if l.Session == sid && l.Owner == lk.Owner {
					own = append(own, l.Lock)
					old[l.Start] = l.Lock
					continue
				}
				if lk.Type != LockUnlock && conflicts(lk, l.Lock) {
					return syscall.EAGAIN
				}
			}
			next := applyLock(own, lk)
			for _, l := range next {
				if o, ok := old[l.Start]; ok && o == l {
					delete(old, l.Start)
					continue
				}
				delete(old, l.Start)
				tx.Set(s.l.Lock(h.Ino, lockPosix, sid, lk.Owner, l.Start), encodeLock(lockRecord{T: l.Type, End: l.End, Pid: l.Pid}))
			}
			for start := range old {
				tx.Clear(s.l.Lock(h.Ino, lockPosix, sid, lk.Owner, start))
			}
			idx := s.l.SessionLocks(sid, lockPosix, h.Ino)
			if len(next) > 0 {
				tx.Set(idx, nil)
				return nil
			}
			for _, l := range locks {
				if l.Session == sid && l.Owner != lk.Owner {
					return nil // the session's other owners still hold locks here
				}
			}
			tx.Clear(idx)
			return nil
		})
	})
}

// applyLock returns an owner's locks own (sorted by Start, disjoint, same
// types never adjacent) after lk is applied: lk's range is taken out of
// them, splitting a lock that spans it, then, unless lk unlocks, lk is
// added and merged with the owner's adjacent locks of its type (the
// result carries lk's Pid).
func applyLock(own []Lock, lk Lock) []Lock {
	var out []Lock
	for _, o := range own {
		if !overlaps(o, lk) {
			out = append(out, o)
			continue
		}
		if o.Start < lk.Start {
			l := o
			l.End = lk.Start - 1
			out = append(out, l)
		}
		if o.End > lk.End {
			l := o
			l.Start = lk.End + 1
			out = append(out, l)
		}
	}
	if lk.Type != LockUnlock {
		out = append(out, lk)
	}
	slices.SortFunc(out, func(a, b Lock) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, l := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.Type == l.Type && last.End != LockEOF && last.End+1 == l.Start {
				last.End = l.End
				last.Pid = lk.Pid
				continue
			}
		}
		merged = append(merged, l)
	}
	return merged
}

// GetLk is fcntl(2) F_GETLK: the first lock of another owner (lowest
// Start, then session and owner) that would keep lk (LockRead or
// LockWrite) from being granted, with its holder's Owner, Pid and Session;
// or lk with Type LockUnlock when there is none. flock locks are not
// considered. A bad type or Start > End is EINVAL, a closed handle EBADF, a
// call in an expired session ErrSessionExpired.
func (s *Store) GetLk(ctx context.Context, h Handle, lk Lock) (Lock, error) {
	l, err := s.getLk(ctx, h, lk)
	return l, inoErr("getlk", h.Ino, err)
}

func (s *Store) getLk(ctx context.Context, h Handle, lk Lock) (Lock, error) {
	if (lk.Type != LockRead && lk.Type != LockWrite) || lk.Start > lk.End {
		return Lock{}, syscall.EINVAL
	}
	sid, err := s.lockSession(ctx, h)
	if err != nil {
		return Lock{}, err
	}
	return view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (Lock, error) {
		ls, err := kv.GetMany(ctx, tx, true, s.l.Session(sid), s.l.Handle(h.Ino, h.ID))
		if err != nil {
			return Lock{}, err
		}
		if _, err := s.checkLockHandle(ls, sid, false); err != nil {
			return Lock{}, err
		}
		locks, err := s.readLocks(ctx, tx, h.Ino, lockPosix, true)
		if err != nil {
			return Lock{}, err
		}
		var best *Lock
		for i := range locks {
			l := &locks[i].Lock
			if (l.Session == sid && l.Owner == lk.Owner) || !conflicts(lk, *l) {
				continue
			}
			if best == nil || lockBefore(*l, *best) {
				best = l
			}
		}
		if best == nil {
			out := lk
			out.Type = LockUnlock
			return out, nil
		}
		return *best, nil
	})
}

func lockBefore(a, b Lock) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.Session != b.Session {
		return a.Session < b.Session
	}
	return a.Owner < b.Owner
}

// Locks lists every lock on ino, flock locks first, each kind in key
// order, in one snapshot. It is for tools and tests; it checks no session.
func (s *Store) Locks(ctx context.Context, ino uint64) ([]LockInfo, error) {
	out, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) ([]LockInfo, error) {
		var out []LockInfo
		for _, kind := range []string{lockFlock, lockPosix} {
			locks, err := s.readLocks(ctx, tx, ino, kind, true)
			if err != nil {
				return nil, err
			}
			for _, l := range locks {
				out = append(out, l.LockInfo)
			}
		}
		return out, nil
	})
	return out, inoErr("locks", ino, err)
}
