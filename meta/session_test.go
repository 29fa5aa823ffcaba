package meta_test

import (
	"errors"
	"io/fs"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// twoStores opens two stores of one filesystem on one memkv engine, each
// with its own fake clock, as two clients on two hosts.
func twoStores(t *testing.T) (a, b *meta.Store, ca, cb *fakeClock) {
	t.Helper()
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	ca, cb = newClock(), newClock()
	a = newStoreWith(t, db, meta.Options{Clock: ca.Now})
	b = newStoreWith(t, db, meta.Options{Clock: cb.Now, NoCreate: true})
	return a, b, ca, cb
}

func requireExpired(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, meta.ErrSessionExpired)
	require.ErrorIs(t, err, syscall.ESTALE)
	require.Equal(t, syscall.ESTALE, meta.Errno(err))
	require.IsType(t, &fs.PathError{}, err)
}

func TestSession_ExclusiveLockBlocksOtherClientUntilRelease(t *testing.T) {
	a, b, _, _ := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	ha := open(t, a, f.Ino, meta.ORdWr)
	hb := open(t, b, f.Ino, meta.ORdWr)
	require.NotEqual(t, ha.Session, hb.Session)
	require.NoError(t, a.SetLk(ctx, ha, wr(0, meta.LockEOF, 1), false))
	require.NoError(t, a.Flock(ctx, ha, 1, meta.LockWrite, false))

	got, err := b.GetLk(ctx, hb, rd(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, ha.Session, got.Session, "same owner number, other session: a conflict")

	done := make(chan error, 2)
	go func() { done <- b.SetLk(ctx, hb, wr(10, 20, 1), true) }()
	go func() { done <- b.Flock(ctx, hb, 1, meta.LockRead, true) }()
	select {
	case err := <-done:
		t.Fatalf("a wait returned while A held the locks: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, a.SetLk(ctx, ha, un(0, meta.LockEOF, 1), false))
	require.NoError(t, a.Close(ctx, ha)) // releases the flock
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	require.NoError(t, a.Shutdown(ctx))
	require.NoError(t, b.Shutdown(ctx))
	ls, err := a.Locks(ctx, f.Ino)
	require.NoError(t, err)
	require.Empty(t, ls, "shutdown released B's locks")
}

func TestSession_ExclusiveLockBlocksOtherClientUntilExpiry(t *testing.T) {
	a, b, ca, cb := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	ha := open(t, a, f.Ino, meta.ORdWr)
	hb := open(t, b, f.Ino, meta.ORdWr)
	require.NoError(t, a.SetLk(ctx, ha, wr(0, meta.LockEOF, 1), false))
	require.NoError(t, a.Flock(ctx, ha, 1, meta.LockWrite, false))
	require.NoError(t, a.Unlink(ctx, rootCred, root, "f")) // open in both

	done := make(chan error, 2)
	go func() { done <- b.SetLk(ctx, hb, wr(10, 20, 7), true) }()
	go func() { done <- b.Flock(ctx, hb, 7, meta.LockWrite, true) }()
	select {
	case err := <-done:
		t.Fatalf("a wait returned while A held the locks: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	n, err := b.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")

	// A stops renewing (it hung); on B's clock its lease runs out. B keeps
	// its own session alive.
	cb.Advance(meta.DefaultLease + time.Second)
	se, err := b.Sessions(ctx)
	require.NoError(t, err)
	require.Len(t, se, 2)
	n, err = b.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "A's session, and B's own, whose lease ran out on B's clock too")
	// B's waits end: they either got the locks before B's own session was
	// expired, or fail as fenced. Either way A's locks are gone.
	for range 2 {
		if err := <-done; err != nil {
			requireExpired(t, err)
		}
	}
	ls, err := b.Locks(ctx, f.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	requireGone(t, b, f.Ino)

	// A wakes up: fenced.
	ca.Advance(time.Second)
	requireExpired(t, a.SetLk(ctx, ha, un(0, 1, 1), false))
	requireExpired(t, a.Flock(ctx, ha, 1, meta.LockUnlock, false))
	_, err = a.GetLk(ctx, ha, rd(0, 1, 1))
	requireExpired(t, err)
	require.NoError(t, a.Close(ctx, ha), "closing a handle the expiry closed is fine")

	// A's next Open registers a fresh default session; the old handle
	// stays fenced, the new one locks.
	g := create(t, a, rootCred, root, "g", 0o666)
	hg, err := a.Open(ctx, rootCred, g.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NotEqual(t, ha.Session, hg.Session)
	require.NoError(t, a.Flock(ctx, hg, 1, meta.LockWrite, false))
	requireExpired(t, a.Flock(ctx, ha, 1, meta.LockWrite, false))
	require.NoError(t, a.Close(ctx, hg))
}

func TestSession_WaiterGetsLockWhenHolderExpires(t *testing.T) {
	a, b, _, cb := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	ha := open(t, a, f.Ino, meta.ORdWr)
	se, err := b.NewSession(ctx, meta.SessionOptions{Lease: time.Hour, NoRenew: true, Description: "b"})
	require.NoError(t, err)
	bctx := meta.WithSession(ctx, se)
	hb, err := b.Open(bctx, rootCred, f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.Equal(t, se.ID(), hb.Session)
	require.NoError(t, a.SetLk(ctx, ha, wr(0, meta.LockEOF, 1), false))

	done := make(chan error, 1)
	go func() { done <- b.SetLk(bctx, hb, wr(0, 0, 1), true) }()
	select {
	case err := <-done:
		t.Fatalf("the wait returned while A held the lock: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	cb.Advance(meta.DefaultLease + time.Second)
	n, err := b.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "A's default session only: B's has an hour")
	require.NoError(t, <-done)
	require.Equal(t, []string{"W 0-0 o1"}, posixLocks(t, b, f.Ino))
	require.NoError(t, se.Close(ctx))
	require.Empty(t, posixLocks(t, b, f.Ino))
	requireExpired(t, se.Renew(ctx))
	_, err = b.Open(bctx, rootCred, f.Ino, meta.ORdOnly)
	requireExpired(t, err)
	require.NoError(t, se.Close(ctx), "closing twice")
}

func TestSession_RenewExtendsTheLease(t *testing.T) {
	clk := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clk.Now, Lease: 10 * time.Second})
	se, err := s.NewSession(ctx, meta.SessionOptions{NoRenew: true, Description: "host:1"})
	require.NoError(t, err)
	infos, err := s.Sessions(ctx)
	require.NoError(t, err)
	require.Equal(t, []meta.SessionInfo{{ID: se.ID(), Expires: clk.Now().Add(10 * time.Second), Description: "host:1", Created: clk.Now()}}, infos)
	for range 5 {
		clk.Advance(8 * time.Second)
		require.NoError(t, se.Renew(ctx))
		n, err := s.ExpireSessions(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	}
	clk.Advance(11 * time.Second)
	requireExpired(t, se.Renew(ctx))
	f := create(t, s, rootCred, root, "f", 0o644)
	_, err = s.Open(meta.WithSession(ctx, se), rootCred, f.Ino, meta.ORdOnly)
	requireExpired(t, err)
	n, err := s.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	infos, err = s.Sessions(ctx)
	require.NoError(t, err)
	require.Empty(t, infos)
}

func TestSession_BackgroundRenewal(t *testing.T) {
	s := newStoreWith(t, nil, meta.Options{Lease: 1500 * time.Millisecond})
	h := openFile(t, s, "f", meta.ORdOnly)
	infos, err := s.Sessions(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, h.Session, infos[0].ID)
	first := infos[0].Expires
	require.Eventually(t, func() bool {
		infos, err := s.Sessions(ctx)
		return err == nil && len(infos) == 1 && infos[0].Expires.After(first)
	}, 5*time.Second, 5*time.Millisecond, "the default session is renewed in the background")
	require.NoError(t, s.Flock(ctx, h, 1, meta.LockWrite, false))
	require.NoError(t, s.Shutdown(ctx))
	infos, err = s.Sessions(ctx)
	require.NoError(t, err)
	require.Empty(t, infos)
	_, err = s.Open(ctx, rootCred, h.Ino, meta.ORdOnly)
	requireExpired(t, err)
}

func TestSession_ShutdownClosesHandles(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	g := create(t, s, rootCred, root, "g", 0o644)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	hf := open(t, s, f.Ino, meta.ORdWr)
	open(t, s, f.Ino, meta.ORdOnly)
	open(t, s, g.Ino, meta.ORdOnly)
	open(t, s, d.Ino, meta.ORdOnly)
	require.NoError(t, s.SetLk(ctx, hf, wr(0, 1, 1), false))
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	getattr(t, s, f.Ino)
	require.NoError(t, s.Shutdown(ctx))
	requireGone(t, s, f.Ino)
	getattr(t, s, g.Ino)
	for _, sub := range []string{"o", "h", "l", "e", "g", "q"} {
		b, e := s.Layout().Root().Sub(sub).Range()
		require.Zero(t, countKeys(t, s, b, e), "records under %q left after shutdown", sub)
	}
	require.NoError(t, s.Shutdown(ctx), "twice")
}

func TestSession_HandleOfAnotherSession(t *testing.T) {
	s := newStore(t)
	se, err := s.NewSession(ctx, meta.SessionOptions{NoRenew: true})
	require.NoError(t, err)
	h := openFile(t, s, "f", meta.ORdWr) // default session
	forged := h
	forged.Session = se.ID()
	requirePathErr(t, s.SetLk(ctx, forged, wr(0, 1, 1), false), syscall.EBADF)
	requirePathErr(t, s.Flock(ctx, forged, 1, meta.LockRead, false), syscall.EBADF)
	// A real handle of the default session, used in another session's ctx.
	sctx := meta.WithSession(ctx, se)
	requirePathErr(t, s.SetLk(sctx, h, wr(0, 1, 1), false), syscall.EBADF)
	_, err = s.GetLk(sctx, h, wr(0, 1, 1))
	requirePathErr(t, err, syscall.EBADF)
	require.NoError(t, s.SetLk(ctx, h, wr(0, 1, 1), false))
	require.NoError(t, se.Close(ctx))
	require.NoError(t, s.Shutdown(ctx))
}

// Expiry works in batches: a session owning more records than one batch
// takes is expired completely.
func TestSession_ExpiryOfManyHandles(t *testing.T) {
	a, b, _, cb := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	for i := range 300 {
		h := open(t, a, f.Ino, meta.ORdWr)
		require.NoError(t, a.SetLk(ctx, h, wr(uint64(2*i), uint64(2*i), uint64(i)), false))
	}
	require.NoError(t, a.Unlink(ctx, rootCred, root, "f"))
	cb.Advance(meta.DefaultLease + time.Second)
	n, err := b.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	requireGone(t, b, f.Ino)
	for _, sub := range []string{"o", "h", "l", "e", "g"} {
		bb, e := b.Layout().Root().Sub(sub).Range()
		require.Zero(t, countKeys(t, b, bb, e), "records under %q left after expiry", sub)
	}
}

// Two clients expiring the same sessions at once do the work once: every
// session is counted by exactly one of them and the store is clean.
func TestSession_ConcurrentExpiryDoesTheWorkOnce(t *testing.T) {
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	clk := newClock()
	owner := newStoreWith(t, db, meta.Options{Clock: clk.Now})
	var files []uint64
	const sessions = 6
	for i := range sessions {
		se, err := owner.NewSession(ctx, meta.SessionOptions{NoRenew: true})
		require.NoError(t, err)
		sctx := meta.WithSession(ctx, se)
		f := create(t, owner, rootCred, root, "f"+strconvI(i), 0o666)
		files = append(files, f.Ino)
		for j := range 20 {
			h, err := owner.Open(sctx, rootCred, f.Ino, meta.ORdWr)
			require.NoError(t, err)
			require.NoError(t, owner.SetLk(sctx, h, wr(uint64(j), uint64(j), uint64(j)), false))
			if j == 0 {
				require.NoError(t, owner.Flock(sctx, h, 0, meta.LockWrite, false))
			}
		}
		require.NoError(t, owner.Unlink(ctx, rootCred, root, "f"+strconvI(i)))
	}
	clk.Advance(time.Hour)
	x := newStoreWith(t, db, meta.Options{Clock: clk.Now, NoCreate: true})
	y := newStoreWith(t, db, meta.Options{Clock: clk.Now, NoCreate: true})
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i, s := range []*meta.Store{x, y} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = s.ExpireSessions(ctx)
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Equal(t, sessions, counts[0]+counts[1], "each session expired exactly once: %v", counts)
	for _, ino := range files {
		requireGone(t, x, ino)
	}
	for _, sub := range []string{"o", "h", "l", "e", "g"} {
		b, e := x.Layout().Root().Sub(sub).Range()
		require.Zero(t, countKeys(t, x, b, e), "records under %q left after expiry", sub)
	}
}

// The default session's id is the store's request client id, so expiry
// also removes the request records a dead client left.
func TestSession_ExpiryRemovesRequestRecords(t *testing.T) {
	a, b, _, cb := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	open(t, a, f.Ino, meta.ORdOnly)
	mkdir(t, a, rootCred, root, "d", 0o755)
	require.NoError(t, a.Rmdir(ctx, rootCred, root, "d"))
	qb, qe := a.Layout().Root().Sub("q").Range()
	before := countKeys(t, a, qb, qe)
	require.NotZero(t, before)
	cb.Advance(meta.DefaultLease + time.Second)
	mkdir(t, b, rootCred, root, "e", 0o755) // B's own request record
	_, err := b.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, countKeys(t, b, qb, qe), "only B's record is left")
}

// Lockers in two stores exclude each other: a POSIX write lock and an
// exclusive flock taken with wait are never held by two at once.
func TestLocks_MutualExclusionAcrossStores(t *testing.T) {
	a, b, _, _ := twoStores(t)
	f := create(t, a, rootCred, root, "f", 0o666)
	const workers, rounds = 4, 15
	for _, kind := range []string{"posix", "flock"} {
		t.Run(kind, func(t *testing.T) {
			var mu sync.Mutex
			inside, maxInside := 0, 0
			var wg sync.WaitGroup
			errs := make([]error, workers)
			for w := range workers {
				s := []*meta.Store{a, b}[w%2]
				h := open(t, s, f.Ino, meta.ORdWr)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range rounds {
						var err error
						if kind == "posix" {
							err = s.SetLk(ctx, h, wr(0, meta.LockEOF, uint64(w)), true)
						} else {
							err = s.Flock(ctx, h, uint64(w), meta.LockWrite, true)
						}
						if err != nil {
							errs[w] = err
							return
						}
						mu.Lock()
						inside++
						maxInside = max(maxInside, inside)
						mu.Unlock()
						time.Sleep(time.Millisecond)
						mu.Lock()
						inside--
						mu.Unlock()
						if kind == "posix" {
							err = s.SetLk(ctx, h, un(0, meta.LockEOF, uint64(w)), false)
						} else {
							err = s.Flock(ctx, h, uint64(w), meta.LockUnlock, false)
						}
						if err != nil {
							errs[w] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			require.NoError(t, errors.Join(errs...))
			require.Equal(t, 1, maxInside, "two lockers held the lock at once")
			ls, err := a.Locks(ctx, f.Ino)
			require.NoError(t, err)
			require.Empty(t, ls)
		})
	}
	require.NoError(t, a.Shutdown(ctx))
	require.NoError(t, b.Shutdown(ctx))
}

func TestSession_Resume(t *testing.T) {
	a, b, _, cb := twoStores(t)
	se, err := a.NewSession(ctx, meta.SessionOptions{NoRenew: true, Lease: time.Minute})
	require.NoError(t, err)
	f := create(t, a, rootCred, root, "f", 0o666)
	h, err := a.Open(meta.WithSession(ctx, se), rootCred, f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, a.SetLk(ctx, h, wr(0, 9, 1), false))

	// Another store (a restarted server) picks the session up.
	re, err := b.ResumeSession(ctx, se.ID(), meta.SessionOptions{NoRenew: true})
	require.NoError(t, err)
	require.Equal(t, se.ID(), re.ID())
	rctx := meta.WithSession(ctx, re)
	require.NoError(t, b.SetLk(rctx, h, un(0, 9, 1), false))
	h2, err := b.Open(rctx, rootCred, f.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.Equal(t, se.ID(), h2.Session)
	cb.Advance(50 * time.Second)
	require.NoError(t, re.Renew(ctx))
	cb.Advance(50 * time.Second)
	require.NoError(t, b.SetLk(rctx, h2, rd(0, 0, 1), false), "the renewal extended the lease")

	_, err = b.ResumeSession(ctx, 12345, meta.SessionOptions{NoRenew: true})
	requireExpired(t, err)
	require.NoError(t, re.Close(ctx))
	_, err = b.ResumeSession(ctx, se.ID(), meta.SessionOptions{NoRenew: true})
	requireExpired(t, err)
}
