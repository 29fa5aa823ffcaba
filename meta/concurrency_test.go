package meta_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// gate wraps an engine so that a test can hold one transaction at its
// commit: after arm, the next read-write commit signals reached and waits
// for release. That forces an interleaving inside the kv.Update loop: the
// held operation has done all its reads, another runs to completion, and
// then the held one commits (conflicting, or not).
type gate struct {
	kv.Engine
	mu      sync.Mutex
	armed   bool
	reached chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{Engine: memkv.New(memkv.Options{})} }

func (g *gate) NewReadWrite() kv.ReadWriteTxn {
	return &gatedTxn{ReadWriteTxn: g.Engine.NewReadWrite(), g: g}
}

func (g *gate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
	g.reached = make(chan struct{})
	g.release = make(chan struct{})
}

type gatedTxn struct {
	kv.ReadWriteTxn
	g *gate
}

func (t *gatedTxn) Commit(ctx context.Context) error {
	g := t.g
	g.mu.Lock()
	hold := g.armed
	g.armed = false
	reached, release := g.reached, g.release
	g.mu.Unlock()
	if hold {
		close(reached)
		<-release
	}
	return t.ReadWriteTxn.Commit(ctx)
}

// interleave runs held until its first commit, then other to completion,
// then lets held commit: held reads before other commits and commits after
// it. It returns both errors.
func interleave(t *testing.T, g *gate, held, other func() error) (heldErr, otherErr error) {
	t.Helper()
	g.arm()
	done := make(chan error, 1)
	go func() { done <- held() }()
	<-g.reached
	otherErr = other()
	close(g.release)
	return <-done, otherErr
}

// gatedStore returns a store on a gate whose id allocator has already
// claimed a block, so that the next commit is an operation's own.
func gatedStore(t *testing.T) (*meta.Store, *gate) {
	g := newGate()
	t.Cleanup(func() { _ = g.Close() })
	s := newStoreWith(t, g, meta.Options{})
	create(t, s, rootCred, root, "warm", 0o644)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "warm"))
	return s, g
}

// orders names the two commit orders of a pair of operations a and b.
var orders = []struct {
	name    string
	aCommit bool // a commits first
}{{"a-commits-first", true}, {"b-commits-first", false}}

// both runs a and b overlapped with the given one committing first and
// returns their errors as (a, b).
func both(t *testing.T, g *gate, aFirst bool, a, b func() error) (error, error) {
	if aFirst {
		eb, ea := interleave(t, g, b, a)
		return ea, eb
	}
	return interleave(t, g, a, b)
}

func TestConcurrent_CreatesOfDifferentNamesDoNotRetry(t *testing.T) {
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			s, g := gatedStore(t)
			d := mkdir(t, s, rootCred, root, "d", 0o755)
			mkdirSub := func() error { _, err := s.Mkdir(ctx, rootCred, d.Ino, "b", 0o755); return err }
			createA := func() error { _, err := s.Create(ctx, rootCred, d.Ino, "a", 0o644, true); return err }
			ea, eb := both(t, g, o.aCommit, createA, mkdirSub)
			require.NoError(t, ea)
			require.NoError(t, eb)
			require.Zero(t, s.Retries(), "creates in one directory must not conflict")
			require.Equal(t, []string{"a", "b"}, names(t, s, d.Ino))
			require.EqualValues(t, 3, getattr(t, s, d.Ino).Nlink)
			require.EqualValues(t, 2, getattr(t, s, d.Ino).Entries)
		})
	}
}

func TestConcurrent_ParallelCreatesInOneDirectoryDoNotRetry(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				var err error
				if i%4 == 0 {
					_, err = s.Mkdir(ctx, rootCred, d.Ino, name, 0o755)
				} else {
					_, err = s.Create(ctx, rootCred, d.Ino, name, 0o644, true)
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, s.Retries())
	a := getattr(t, s, d.Ino)
	require.EqualValues(t, workers*each, a.Entries)
	require.EqualValues(t, 2+workers*each/4, a.Nlink)
}

func TestConcurrent_CreatesOfOneName_OneEEXIST(t *testing.T) {
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			s, g := gatedStore(t)
			var inoA, inoB uint64
			a := func() error { x, err := s.Create(ctx, rootCred, root, "n", 0o644, true); inoA = x.Ino; return err }
			b := func() error { x, err := s.Mkdir(ctx, rootCred, root, "n", 0o755); inoB = x.Ino; return err }
			ea, eb := both(t, g, o.aCommit, a, b)
			winner, loser, winnerIno := ea, eb, inoA
			if !o.aCommit {
				winner, loser, winnerIno = eb, ea, inoB
			}
			require.NoError(t, winner)
			requirePathErr(t, loser, syscall.EEXIST)
			require.Equal(t, winnerIno, lookup(t, s, root, "n").Ino)
			require.EqualValues(t, 1, s.Retries(), "the loser conflicted once, then saw the name")
		})
	}
}

func TestConcurrent_ManyCreatesOfOneName_OneWins(t *testing.T) {
	s := newStore(t)
	for round := range 20 {
		name := fmt.Sprintf("n%d", round)
		const workers = 6
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { _, errs[w] = s.Create(ctx, rootCred, root, name, 0o644, true) })
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				requirePathErr(t, err, syscall.EEXIST)
			}
		}
		require.Equal(t, 1, wins, "round %d: %v", round, errs)
	}
	require.Equal(t, 21, requireClean(t, s).Inodes)
}

func TestConcurrent_CreateVsRmdirOfParent(t *testing.T) {
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			s, g := gatedStore(t)
			d := mkdir(t, s, rootCred, root, "d", 0o755)
			createIn := func() error { _, err := s.Create(ctx, rootCred, d.Ino, "f", 0o644, true); return err }
			rmdir := func() error { return s.Rmdir(ctx, rootCred, root, "d") }
			ec, er := both(t, g, o.aCommit, createIn, rmdir)
			if o.aCommit {
				require.NoError(t, ec)
				requirePathErr(t, er, syscall.ENOTEMPTY)
				require.Equal(t, []string{"f"}, names(t, s, d.Ino))
			} else {
				require.NoError(t, er)
				requirePathErr(t, ec, syscall.ENOENT)
				requireGone(t, s, d.Ino)
			}
			require.EqualValues(t, 1, s.Retries())
			requireClean(t, s)
		})
	}
}

func TestConcurrent_CreateVsRmdirOfParent_Repeated(t *testing.T) {
	s := newStore(t)
	for round := range 30 {
		d := mkdir(t, s, rootCred, root, "d", 0o755)
		var ec, er error
		var wg sync.WaitGroup
		wg.Go(func() { _, ec = s.Mkdir(ctx, rootCred, d.Ino, "sub", 0o755) })
		wg.Go(func() { er = s.Rmdir(ctx, rootCred, root, "d") })
		wg.Wait()
		require.True(t, (ec == nil) != (er == nil), "round %d: exactly one wins: create %v, rmdir %v", round, ec, er)
		if ec == nil {
			requirePathErr(t, er, syscall.ENOTEMPTY)
			require.NoError(t, s.RemoveAll(ctx, rootCred, "/d"))
		} else {
			requirePathErr(t, ec, syscall.ENOENT)
		}
		requireClean(t, s)
	}
}

// crossingTree is /a and /b/d/x: renaming /a into /b/d (or deeper, into
// /b/d/x) while /b/d moves to /a/c would make a cycle if both went through.
func crossingTree(t *testing.T, s *meta.Store) (a, b, d, x meta.Attr) {
	a = mkdir(t, s, rootCred, root, "a", 0o755)
	b = mkdir(t, s, rootCred, root, "b", 0o755)
	d = mkdir(t, s, rootCred, b.Ino, "d", 0o755)
	x = mkdir(t, s, rootCred, d.Ino, "x", 0o755)
	return a, b, d, x
}

func TestConcurrent_CrossingRenamesNeverCycle(t *testing.T) {
	for _, depth := range []string{"into-d", "into-d/x"} {
		for _, o := range orders {
			t.Run(depth+"/"+o.name, func(t *testing.T) {
				s, g := gatedStore(t)
				a, b, d, x := crossingTree(t, s)
				dst := d
				if depth == "into-d/x" {
					// a's rename reads neither d's inode nor its entry
					// except through the ancestor walk.
					dst = x
				}
				aIntoD := func() error { return s.Rename(ctx, rootCred, root, "a", dst.Ino, "e", 0) }
				dIntoA := func() error { return s.Rename(ctx, rootCred, b.Ino, "d", a.Ino, "c", 0) }
				e1, e2 := both(t, g, o.aCommit, aIntoD, dIntoA)
				if o.aCommit {
					require.NoError(t, e1)
					requireLinkErr(t, e2, syscall.EINVAL)
					require.Equal(t, dst.Ino, lookup(t, s, a.Ino, "..").Ino)
				} else {
					require.NoError(t, e2)
					requireLinkErr(t, e1, syscall.EINVAL)
					require.Equal(t, a.Ino, lookup(t, s, d.Ino, "..").Ino)
				}
				require.EqualValues(t, 1, s.Retries())
				requireClean(t, s)
			})
		}
	}
}

func TestConcurrent_CrossingRenamesNeverCycle_Repeated(t *testing.T) {
	s := newStore(t)
	for round := range 30 {
		a, b, d, _ := crossingTree(t, s)
		var e1, e2 error
		var wg sync.WaitGroup
		wg.Go(func() { e1 = s.Rename(ctx, rootCred, root, "a", d.Ino, "e", 0) })
		wg.Go(func() { e2 = s.Rename(ctx, rootCred, b.Ino, "d", a.Ino, "c", 0) })
		wg.Wait()
		require.True(t, (e1 == nil) != (e2 == nil), "round %d: exactly one succeeds: %v, %v", round, e1, e2)
		for _, err := range []error{e1, e2} {
			if err != nil {
				requireLinkErr(t, err, syscall.EINVAL)
			}
		}
		requireClean(t, s) // no cycle, nothing unreachable
		require.NoError(t, s.RemoveAll(ctx, rootCred, "/a"))
		require.NoError(t, s.RemoveAll(ctx, rootCred, "/b"))
	}
}

func TestConcurrent_RenameVsUnlinkOfTarget(t *testing.T) {
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			s, g := gatedStore(t)
			x := create(t, s, rootCred, root, "x", 0o644)
			y := create(t, s, rootCred, root, "y", 0o644)
			renameXY := func() error { return s.Rename(ctx, rootCred, root, "x", root, "y", 0) }
			unlinkY := func() error { return s.Unlink(ctx, rootCred, root, "y") }
			er, eu := both(t, g, o.aCommit, renameXY, unlinkY)
			require.NoError(t, er)
			require.NoError(t, eu)
			requireGone(t, s, y.Ino)
			if o.aCommit {
				// The rename replaced y; the unlink then removed x under y's name.
				requireGone(t, s, x.Ino)
				require.Empty(t, names(t, s, root))
			} else {
				// y went first; the rename then moved x to a free name.
				require.Equal(t, x.Ino, lookup(t, s, root, "y").Ino)
				require.EqualValues(t, 1, getattr(t, s, x.Ino).Nlink)
			}
			require.EqualValues(t, 1, s.Retries())
			requireClean(t, s)
		})
	}
}

func TestConcurrent_RenameVsUnlinkOfTarget_Repeated(t *testing.T) {
	s := newStore(t)
	for round := range 30 {
		x := create(t, s, rootCred, root, "x", 0o644)
		y := create(t, s, rootCred, root, "y", 0o644)
		var er, eu error
		var wg sync.WaitGroup
		wg.Go(func() { er = s.Rename(ctx, rootCred, root, "x", root, "y", 0) })
		wg.Go(func() { eu = s.Unlink(ctx, rootCred, root, "y") })
		wg.Wait()
		require.NoError(t, er, "round %d", round)
		require.NoError(t, eu, "round %d", round)
		requireGone(t, s, y.Ino)
		if ents := names(t, s, root); len(ents) == 1 {
			require.Equal(t, x.Ino, lookup(t, s, root, "y").Ino)
			require.NoError(t, s.Unlink(ctx, rootCred, root, "y"))
		} else {
			require.Empty(t, ents)
			requireGone(t, s, x.Ino)
		}
		requireClean(t, s)
	}
}

// A maybe-committed result followed by a retry must not apply an operation
// twice nor report its own success as a failure.
func TestConcurrent_MaybeCommittedRetriesAreSafe(t *testing.T) {
	db := &flaky{Engine: memkv.New(memkv.Options{})}
	t.Cleanup(func() { _ = db.Close() })
	s := newStoreWith(t, db, meta.Options{})
	d := mkdir(t, s, rootCred, root, "d", 0o755) // claims the id block
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"create", func() error { _, err := s.Create(ctx, rootCred, d.Ino, "f", 0o644, true); return err }},
		{"mkdir", func() error { _, err := s.Mkdir(ctx, rootCred, d.Ino, "sub", 0o755); return err }},
		{"link", func() error {
			f := lookup(t, s, d.Ino, "f")
			_, err := s.Link(ctx, rootCred, f.Ino, d.Ino, "g")
			return err
		}},
		{"rename", func() error { return s.Rename(ctx, rootCred, d.Ino, "g", d.Ino, "h", 0) }},
		{"exchange", func() error { return s.Rename(ctx, rootCred, d.Ino, "h", d.Ino, "sub", meta.RenameExchange) }},
		{"unlink", func() error { return s.Unlink(ctx, rootCred, d.Ino, "sub") }},
		{"rmdir", func() error { return s.Rmdir(ctx, rootCred, d.Ino, "h") }},
	} {
		db.failNext()
		require.NoError(t, op.do(), op.name)
		require.False(t, db.pending(), "%s did not commit through the engine", op.name)
	}
	require.Equal(t, []string{"f"}, names(t, s, d.Ino))
	require.EqualValues(t, 1, getattr(t, s, lookup(t, s, d.Ino, "f").Ino).Nlink)
	require.EqualValues(t, 2, getattr(t, s, d.Ino).Nlink)
}

// flaky commits a transaction and then reports kv.ErrMaybeCommitted, once
// after each failNext.
type flaky struct {
	kv.Engine
	mu   sync.Mutex
	fail bool
}

func (f *flaky) failNext() { f.mu.Lock(); f.fail = true; f.mu.Unlock() }

func (f *flaky) pending() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.fail }

func (f *flaky) NewReadWrite() kv.ReadWriteTxn {
	return &flakyTxn{ReadWriteTxn: f.Engine.NewReadWrite(), f: f}
}

type flakyTxn struct {
	kv.ReadWriteTxn
	f *flaky
}

func (t *flakyTxn) Commit(ctx context.Context) error {
	if err := t.ReadWriteTxn.Commit(ctx); err != nil {
		return err
	}
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	if t.f.fail && t.CommittedVersion() >= 0 {
		t.f.fail = false
		return kv.ErrMaybeCommitted
	}
	return nil
}
