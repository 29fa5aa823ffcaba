package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/kv"
)

// DefaultLease is the lease of a session when Options.Lease is zero.
const DefaultLease = 30 * time.Second

// sessionRecord is the value under ("e", session).
type sessionRecord struct {
	V       int    `msgpack:"v"`
	Created int64  `msgpack:"c"`
	Expires int64  `msgpack:"e"`
	Lease   int64  `msgpack:"l"`
	Desc    string `msgpack:"d,omitempty"`
	// Dead is set by the first transaction that expires or closes the
	// session; from then on the session fails every check, whatever the
	// clocks say, while its leftovers are cleaned up in batches.
	Dead bool `msgpack:"x,omitempty"`
}

// Session is a client's lease on the filesystem: the open handles and
// locks taken in it belong to it and are released when it is closed or,
// once its lease has run out without renewal, expired by any client (see
// Store.ExpireSessions). A Session is safe for concurrent use.
type Session struct {
	s     *Store
	id    uint64
	lease time.Duration

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{} // closed when the renewal goroutine ends; nil without one
	// lost is set once the session is known to be expired (its renewal
	// or an Open found it so). A lost default session is replaced by a
	// new one on the next Open.
	lost atomic.Bool
}

// ID is the session's id (Handle.Session, Lock.Session).
func (se *Session) ID() uint64 { return se.id }

type sessionKey struct{}

// WithSession returns a context whose Open and lock calls run in se
// instead of the store's default session.
func WithSession(ctx context.Context, se *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, se)
}

func sessPath(id uint64) string { return fmt.Sprintf("session:%016x", id) }

// session returns the session Open and lock calls in ctx run in: the one
// given by WithSession, else the store's default session, registered on
// first use.
func (s *Store) session(ctx context.Context) (*Session, error) {
	if se, ok := ctx.Value(sessionKey{}).(*Session); ok && se != nil {
		return se, nil
	}
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if s.shut {
		return nil, fmt.Errorf("store shut down: %w", ErrSessionExpired)
	}
	if s.defSess != nil && !s.defSess.lost.Load() {
		return s.defSess, nil
	}
	var se *Session
	var err error
	if s.defSess == nil {
		se, err = s.newSession(ctx, s.client, SessionOptions{}, true)
	} else {
		// The default session expired (a stall longer than its lease):
		// its handles and locks are gone, and calls through them stay
		// fenced. New opens run in a fresh session.
		s.defSess.stopOnce.Do(func() { close(s.defSess.stop) })
		for {
			id := rand.Uint64()
			if id == 0 {
				continue
			}
			se, err = s.newSession(ctx, id, SessionOptions{}, true)
			if !errors.Is(err, errSessionIDTaken) {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	s.defSess = se
	return se, nil
}

var errSessionIDTaken = errors.New("session id in use")

// NewSession registers a new session with a lease of o.Lease (default
// Options.Lease). Unless o.NoRenew, a goroutine renews it every third of
// its lease until Close. Use it with WithSession.
func (s *Store) NewSession(ctx context.Context, o SessionOptions) (*Session, error) {
	for {
		id := rand.Uint64()
		if id == 0 {
			continue
		}
		se, err := s.newSession(ctx, id, o, false)
		if errors.Is(err, errSessionIDTaken) {
			continue
		}
		return se, err
	}
}

// ResumeSession returns the live session id, registered earlier by this
// or another Store (a meta server restarting while its clients' sessions
// live on), to run calls in and renew. Unless o.NoRenew a goroutine renews
// it; o.Lease and o.Description are ignored (the record keeps its own). A
// session that is gone or expired is ErrSessionExpired.
func (s *Store) ResumeSession(ctx context.Context, id uint64, o SessionOptions) (*Session, error) {
	r, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (*sessionRecord, error) {
		b, found, err := tx.Get(ctx, s.l.Session(id))
		if err != nil {
			return nil, err
		}
		return s.liveSession(kv.Lookup{Value: b, Found: found}, id)
	})
	if err != nil {
		return nil, pathErr("resumesession", sessPath(id), err)
	}
	se := &Session{s: s, id: id, lease: time.Duration(r.Lease), stop: make(chan struct{})}
	if se.lease <= 0 {
		se.lease = s.lease
	}
	if !o.NoRenew {
		se.done = make(chan struct{})
		go se.renewLoop(false)
	}
	return se, nil
}

func (s *Store) newSession(ctx context.Context, id uint64, o SessionOptions, isDefault bool) (*Session, error) {
	lease := o.Lease
	if lease <= 0 {
		lease = s.lease
	}
	now := s.now()
	rec := sessionRecord{V: 1, Created: now, Expires: now + lease.Nanoseconds(), Lease: lease.Nanoseconds(), Desc: o.Description}
	b, err := msgpack.Marshal(&rec)
	if err != nil {
		return nil, err
	}
	key := s.l.Session(id)
	err = s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		old, found, err := tx.Get(ctx, key)
		if err != nil {
			return err
		}
		if found {
			if bytes.Equal(old, b) {
				return nil // an earlier attempt of ours committed
			}
			return errSessionIDTaken
		}
		tx.Set(key, b)
		return nil
	})
	if err != nil {
		if errors.Is(err, errSessionIDTaken) && !isDefault {
			return nil, err
		}
		return nil, pathErr("newsession", sessPath(id), err)
	}
	se := &Session{s: s, id: id, lease: lease, stop: make(chan struct{})}
	if !o.NoRenew {
		se.done = make(chan struct{})
		go se.renewLoop(isDefault)
	}
	return se, nil
}

// renewLoop renews se every third of its lease (real time) until it is
// stopped or the session is found expired. The default session's loop
// also runs an expiry pass about once a lease.
func (se *Session) renewLoop(expire bool) {
	defer close(se.done)
	every := max(se.lease/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-se.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := se.Renew(ctx)
		if expire && err == nil && n%3 == 0 {
			_, _ = se.s.ExpireSessions(ctx) // housekeeping: the next pass retries
		}
		cancel()
		if errors.Is(err, ErrSessionExpired) {
			se.lost.Store(true)
			return
		}
	}
}

// decodeSession parses a session record.
func decodeSession(b []byte) (*sessionRecord, error) {
	var r sessionRecord
	if err := msgcodec.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: session record: %v", ErrFormat, err)
	}
	if r.V != 1 {
		return nil, fmt.Errorf("%w: session record version %d", ErrFormat, r.V)
	}
	return &r, nil
}

// liveSession checks a session record read in a transaction: it must exist,
// not be dead, and not have expired by the store's clock.
func (s *Store) liveSession(l kv.Lookup, id uint64) (*sessionRecord, error) {
	if !l.Found {
		return nil, fmt.Errorf("session %016x is gone: %w", id, ErrSessionExpired)
	}
	r, err := decodeSession(l.Value)
	if err != nil {
		return nil, err
	}
	if r.Dead {
		return nil, fmt.Errorf("session %016x was expired or closed: %w", id, ErrSessionExpired)
	}
	if now := s.now(); r.Expires < now {
		return nil, fmt.Errorf("session %016x lease ran out %v ago: %w", id, time.Duration(now-r.Expires), ErrSessionExpired)
	}
	return r, nil
}

// Renew extends the session's lease to a full lease from now. It fails
// with ErrSessionExpired (ESTALE) if the lease has already run out or the
// session was expired or closed: a session is never revived. It may be
// retried.
func (se *Session) Renew(ctx context.Context) error {
	s := se.s
	key := s.l.Session(se.id)
	err := s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		b, found, err := tx.Get(ctx, key)
		if err != nil {
			return err
		}
		r, err := s.liveSession(kv.Lookup{Value: b, Found: found}, se.id)
		if err != nil {
			return err
		}
		r.Expires = s.now() + r.Lease
		nb, err := msgpack.Marshal(r)
		if err != nil {
			return err
		}
		tx.Set(key, nb)
		return nil
	})
	return pathErr("renew", sessPath(se.id), err)
}

// Close ends the session now: it stops the renewal, closes the session's
// handles (deleting files unlinked while open), releases its locks and
// removes its record. Later calls in the session fail with
// ErrSessionExpired. Closing a session that is already gone is not an
// error.
func (se *Session) Close(ctx context.Context) error {
	se.stopOnce.Do(func() { close(se.stop) })
	if se.done != nil {
		<-se.done
	}
	_, err := se.s.expireSession(ctx, se.id, true)
	return pathErr("closesession", sessPath(se.id), err)
}

// Shutdown closes the store's default session, if it was ever registered:
// its handles are closed, its locks released, its renewal stopped. Open
// and lock calls without WithSession fail afterwards with
// ErrSessionExpired; namespace operations keep working.
func (s *Store) Shutdown(ctx context.Context) error {
	s.sessMu.Lock()
	s.shut = true
	se := s.defSess
	s.sessMu.Unlock()
	if se == nil {
		return nil
	}
	return se.Close(ctx)
}

// Sessions lists every session record, live or waiting to be expired, in
// id order, in one snapshot.
func (s *Store) Sessions(ctx context.Context) ([]SessionInfo, error) {
	return view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) ([]SessionInfo, error) {
		var out []SessionInfo
		err := s.scanSessions(ctx, tx, func(id uint64, r *sessionRecord) {
			out = append(out, SessionInfo{
				ID: id, Expires: time.Unix(0, r.Expires), Description: r.Desc,
				Created: time.Unix(0, r.Created), Dead: r.Dead,
			})
		})
		return out, err
	})
}

// scanSessions calls fn for every decodable session record.
func (s *Store) scanSessions(ctx context.Context, tx kv.ReadOnlyTxn, fn func(id uint64, r *sessionRecord)) error {
	sub := s.l.Root().Sub("e")
	b, e := sub.Range()
	sel := kv.FirstGreaterOrEqual(b)
	for {
		res, err := tx.SnapshotGetRange(ctx, sel, kv.FirstGreaterOrEqual(e), 256)
		if err != nil {
			return err
		}
		for _, row := range res.KVs {
			t, err := sub.Unpack(row.Key)
			if err != nil || len(t) != 1 {
				continue // Check reports it
			}
			r, err := decodeSession(row.Value)
			if err != nil {
				r = &sessionRecord{Dead: true} // unreadable: expire it
			}
			fn(tupleUint(t[0]), r)
		}
		if !res.More || len(res.KVs) == 0 {
			return nil
		}
		sel = kv.FirstGreaterThan(res.KVs[len(res.KVs)-1].Key)
	}
}

// ExpireSessions expires every session whose lease has run out by the
// store's clock (and finishes any expiry another client left half done):
// it closes their handles, deleting files that were unlinked while open,
// releases their locks, removes the request records kept under their id
// and the session records. Any client may call it at any time; the work is
// done in transactions that read what they remove, so two clients
// expiring the same session do it once. It returns how many sessions this
// call removed (a removal whose commit reply was lost and found done on
// retry is not counted; none is counted twice).
func (s *Store) ExpireSessions(ctx context.Context) (int, error) {
	var ids []uint64
	now := s.now()
	err := kv.View(ctx, s.db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		ids = ids[:0]
		return s.scanSessions(ctx, tx, func(id uint64, r *sessionRecord) {
			if r.Dead || r.Expires < now {
				ids = append(ids, id)
			}
		})
	}, kv.WithRetryOptions(s.retry))
	if err != nil {
		return 0, fmt.Errorf("meta: expire sessions: %w", err)
	}
	n := 0
	for _, id := range ids {
		deleted, err := s.expireSession(ctx, id, false)
		if err != nil {
			return n, pathErr("expire", sessPath(id), err)
		}
		if deleted {
			n++
		}
	}
	return n, nil
}

// expireBatch bounds the owned records one expiry transaction handles.
const expireBatch = 128

// expireSession expires session id if its lease ran out (or always, with
// force), in transactions of up to expireBatch owned records each. deleted
// reports whether this call removed the session record.
func (s *Store) expireSession(ctx context.Context, id uint64, force bool) (deleted bool, err error) {
	type step struct{ done, deleted bool }
	key := s.l.Session(id)
	owned := s.l.Root().Sub("h", id)
	for {
		st, err := transact(ctx, s, func(ctx context.Context, tx kv.ReadWriteTxn) (step, error) {
			b, found, err := tx.Get(ctx, key)
			if err != nil || !found {
				return step{done: true}, err
			}
			r, err := decodeSession(b)
			if err != nil {
				r = &sessionRecord{V: 1} // unreadable: expire it
			}
			if !force && !r.Dead && r.Expires >= s.now() {
				return step{done: true}, nil // renewed meanwhile
			}
			if !r.Dead {
				r.Dead = true
				nb, _ := msgpack.Marshal(r)
				tx.Set(key, nb)
			}
			ob, oe := owned.Range()
			res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(ob), kv.FirstGreaterOrEqual(oe), expireBatch)
			if err != nil {
				return step{}, err
			}
			for _, row := range res.KVs {
				tx.Clear(row.Key)
				t, err := owned.Unpack(row.Key)
				if err != nil || len(t) < 2 {
					continue
				}
				kind, _ := t[0].(string)
				ino := tupleUint(t[1])
				switch {
				case kind == "o" && len(t) == 3:
					if err := s.closeHandleTx(ctx, tx, ino, tupleUint(t[2]), id); err != nil {
						return step{}, err
					}
				case kind == lockFlock || kind == lockPosix:
					lb, le := s.l.LockRange(ino, kind, id)
					tx.ClearRange(lb, le)
				}
			}
			if res.More {
				return step{}, nil
			}
			tx.Clear(key)
			qb, qe := s.l.RequestClientRange(id)
			tx.ClearRange(qb, qe)
			return step{done: true, deleted: true}, nil
		})
		if err != nil || st.done {
			return st.deleted, err
		}
	}
}

// tupleUint reads an integer tuple element.
func tupleUint(v any) uint64 {
	switch x := v.(type) {
	case int64:
		return uint64(x)
	case uint64:
		return x
	}
	return 0
}

// Handle records: ("o", ino, handle) holds the session (8 bytes, little
// endian) and the access mode of the open (1 byte).
func handleValue(session uint64, flags int) []byte {
	b := make([]byte, 9)
	binary.LittleEndian.PutUint64(b, session)
	b[8] = byte(flags & syscall.O_ACCMODE)
	return b
}

// parseHandle decodes a handle record; ok is false for garbage.
func parseHandle(b []byte) (session uint64, accmode int, ok bool) {
	if len(b) < 8 {
		return 0, 0, false
	}
	session = binary.LittleEndian.Uint64(b)
	if len(b) > 8 {
		accmode = int(b[8])
	}
	return session, accmode, true
}
