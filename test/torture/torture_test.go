// Package torture_test is the concurrency torture of meta (issue 3, item
// 10): 16 goroutines doing random renames (with and without NOREPLACE and
// EXCHANGE), unlinks, creates, mkdirs and rmdirs on one shared tree of
// about 20 directories (kept between 15 and 30), 100,000 operations in all
// (20,000 under -race). Every returned error
// must be an errno POSIX allows for that call in a tree changing under it;
// meta.Check, run over and over during the storm, must find every
// snapshot clean; and afterwards the tree must be a tree: a walk from the
// root reaches every directory exactly once, every ".." is the directory
// the walk came from, nlinks match the entries, and no inode is left over.
//
// The engine comes from testenv.Engine: FSMETA_ENGINE=memkv (the default)
// or custom (a real kvserver at FSMETA_KV_ENDPOINTS, with fewer operations).
//
// The run is random; a failure logs the seed, and FSMETA_TORTURE_SEED=<seed>
// replays the same choices (the interleaving differs, so a replay is a
// likely rather than a certain reproduction).
package torture_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/testenv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/test/internal/fsmodel"
	"github.com/stretchr/testify/require"
)

const (
	workers    = 16
	maxRetries = 1000
)

// totalOps is the number of operations of a run: 20,000 under -race,
// five times that without.
var totalOps = map[bool]int{true: 20_000, false: 100_000}[testenv.Race]

// customOps is the size of a run over a real KV server, where every
// operation costs round trips and an fsync.
const customOps = 10_000

// allowed lists, per operation, the errnos POSIX allows it here: the
// parent is always a directory inode, but it may be gone by the time the
// operation runs, and names come and go under it.
var allowed = map[string][]syscall.Errno{
	"create": {syscall.EEXIST, syscall.ENOENT},
	"mkdir":  {syscall.EEXIST, syscall.ENOENT},
	"unlink": {syscall.ENOENT, syscall.EISDIR},
	"rmdir":  {syscall.ENOENT, syscall.ENOTDIR, syscall.ENOTEMPTY},
	// EINVAL: a directory into its own subtree (or EXCHANGE with an
	// ancestor); ENOTEMPTY: over a non-empty directory; EEXIST:
	// NOREPLACE over an existing name.
	"rename": {syscall.ENOENT, syscall.EEXIST, syscall.EISDIR, syscall.ENOTDIR, syscall.ENOTEMPTY, syscall.EINVAL},
}

var names = []string{"a", "b", "c", "d", "e", "f"}

type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) add(op string, e syscall.Errno) {
	o.mu.Lock()
	o.n[op+" "+fsmodel.ErrnoName(e)]++
	o.mu.Unlock()
}

func seed(t *testing.T) uint64 {
	if s := os.Getenv("FSMETA_TORTURE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "FSMETA_TORTURE_SEED")
		return v
	}
	return rand.Uint64()
}

func TestTorture(t *testing.T) {
	ctx := context.Background()
	sd := seed(t)
	ops := totalOps
	if testenv.Custom() {
		ops = customOps
	}
	t.Logf("seed %d (FSMETA_TORTURE_SEED=%d replays the choices)", sd, sd)
	db, root := testenv.Engine(t)
	s, err := meta.Open(ctx, db, meta.Options{Root: root, Retry: kv.RetryOptions{
		MaxRetries:     maxRetries,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
	}})
	require.NoError(t, err)
	c := meta.RootCred()

	// The starting tree: 4 directories under the root, 4 under each (20),
	// and a file in each of those.
	for _, a := range names[:4] {
		for _, b := range names[:4] {
			d, err := s.MkdirAll(ctx, c, "/"+a+"/"+b, 0o755)
			require.NoError(t, err)
			_, err = s.Create(ctx, c, d.Ino, "f", 0o644, true)
			require.NoError(t, err)
		}
	}

	res := &outcomes{n: map[string]int{}}
	pop := &population{}
	pop.dirs.Store(20)
	pop.files.Store(16)
	var failed atomic.Bool
	var wg sync.WaitGroup
	done := make(chan struct{})
	var checks atomic.Int64
	checkErr := make(chan error, 1)
	go func() {
		// Every snapshot of the store must be consistent: each operation
		// is one serializable transaction.
		defer close(checkErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			rep, err := s.Check(ctx)
			if err == nil && !rep.OK() {
				err = fmt.Errorf("problems: %v", rep.Problems)
			}
			if err != nil && !errors.Is(err, kv.ErrTooOld) {
				checkErr <- fmt.Errorf("meta.Check during the run: %w", err)
				return
			}
			if err == nil {
				pop.dirs.Store(int64(rep.Dirs))
				pop.files.Store(int64(rep.Inodes - rep.Dirs))
			}
			checks.Add(1)
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(sd, uint64(w)))
			for i := 0; i < ops/workers && !failed.Load(); i++ {
				op, e, what := step(ctx, s, c, rnd, pop)
				res.add(op, e)
				if e != 0 && !slices.Contains(allowed[op], e) {
					failed.Store(true)
					t.Errorf("worker %d op %d: %s: errno %s is not one %s may return here (seed %d)", w, i, what, fsmodel.ErrnoName(e), op, sd)
				}
			}
		}(w)
	}
	wg.Wait()
	close(done)
	require.NoError(t, <-checkErr)

	keys := make([]string, 0, len(res.n))
	total := 0
	for k, v := range res.n {
		keys = append(keys, k)
		total += v
	}
	slices.Sort(keys)
	summary := ""
	for _, k := range keys {
		summary += fmt.Sprintf("  %-16s %d\n", k, res.n[k])
	}
	t.Logf("%d operations, %d retries, %d concurrent checks:\n%s", total, s.Retries(), checks.Load(), summary)
	if t.Failed() {
		return
	}
	require.GreaterOrEqual(t, total, ops)
	for op := range allowed {
		require.NotZero(t, res.n[op+" OK"], "no %s succeeded", op)
	}
	checkTree(t, ctx, s)
}

// pickDir walks down from the root to a random depth, choosing a random
// subdirectory at each level, and returns the directory with its entries.
// The tree changes under it, so either may be stale by the time it is used.
func pickDir(ctx context.Context, s *meta.Store, c meta.Cred, rnd *rand.Rand) (uint64, []meta.DirEntry) {
	cur := inode.RootIno
	ents, _, _ := s.ReadDir(ctx, c, cur, "", 0)
	for depth := 0; depth < 4 && rnd.IntN(3) > 0; depth++ {
		var dirs []uint64
		for _, e := range ents {
			if e.Type == inode.TypeDir {
				dirs = append(dirs, e.Ino)
			}
		}
		if len(dirs) == 0 {
			break
		}
		next := dirs[rnd.IntN(len(dirs))]
		sub, _, err := s.ReadDir(ctx, c, next, "", 0)
		if err != nil {
			break
		}
		cur, ents = next, sub
	}
	return cur, ents
}

// population is the size of the tree as the last concurrent check saw it;
// workers steer by it to keep the tree near its starting size.
type population struct{ dirs, files atomic.Int64 }

// step runs one random operation and returns its name, errno and a
// description for failure messages.
func step(ctx context.Context, s *meta.Store, c meta.Cred, rnd *rand.Rand, pop *population) (string, syscall.Errno, string) {
	p, ents := pickDir(ctx, s, c, rnd)
	// name is mostly an entry of the listing, so that removes and renames
	// find their source; otherwise any name of the alphabet.
	name := func(ents []meta.DirEntry) string {
		if len(ents) > 0 && rnd.IntN(4) > 0 {
			return ents[rnd.IntN(len(ents))].Name
		}
		return names[rnd.IntN(len(names))]
	}
	n := name(ents)
	k := rnd.IntN(20)
	switch d, f := pop.dirs.Load(), pop.files.Load(); {
	case k < 3 && f > 40: // too many files: unlink instead
		k = 6
	case k >= 3 && k < 6 && d > 30: // too many directories: rmdir instead
		k = 8
	case k >= 8 && k < 11 && d < 15:
		k = 3
	}
	switch {
	case k < 3:
		_, err := s.Create(ctx, c, p, n, 0o644, true)
		return "create", meta.Errno(err), fmt.Sprintf("create #%d/%s: %v", p, n, err)
	case k < 6:
		_, err := s.Mkdir(ctx, c, p, n, 0o755)
		return "mkdir", meta.Errno(err), fmt.Sprintf("mkdir #%d/%s: %v", p, n, err)
	case k < 8:
		err := s.Unlink(ctx, c, p, n)
		return "unlink", meta.Errno(err), fmt.Sprintf("unlink #%d/%s: %v", p, n, err)
	case k < 11:
		err := s.Rmdir(ctx, c, p, n)
		return "rmdir", meta.Errno(err), fmt.Sprintf("rmdir #%d/%s: %v", p, n, err)
	default:
		dp, dents := pickDir(ctx, s, c, rnd)
		dn := name(dents)
		var flags meta.RenameFlags
		switch rnd.IntN(10) {
		case 0:
			flags = meta.RenameNoReplace
		case 1:
			flags = meta.RenameExchange
		}
		err := s.Rename(ctx, c, p, n, dp, dn, flags)
		return "rename", meta.Errno(err), fmt.Sprintf("rename #%d/%s -> #%d/%s flags %d: %v", p, n, dp, dn, flags, err)
	}
}

// checkTree proves the store is a tree after the storm.
func checkTree(t *testing.T, ctx context.Context, s *meta.Store) {
	c := meta.RootCred()
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Problems, "meta.Check after the run")

	visited := map[uint64]bool{} // directories
	names := map[uint64]int{}    // non-directories: entries naming them
	nlink := map[uint64]uint32{}
	var walk func(dir, parent uint64, path string)
	walk = func(dir, parent uint64, path string) {
		require.False(t, visited[dir], "%s (#%d): directory reached twice", path, dir)
		visited[dir] = true
		up, err := s.Lookup(ctx, c, dir, "..")
		require.NoError(t, err, "lookup %s/..", path)
		require.Equal(t, parent, up.Ino, "%s/..", path)
		a, err := s.GetAttr(ctx, c, dir)
		require.NoError(t, err, "getattr %s", path)
		ents, err := s.ReadDirAll(ctx, c, dir)
		require.NoError(t, err, "readdir %s", path)
		subdirs := 0
		for _, e := range ents {
			if e.Type == inode.TypeDir {
				subdirs++
				walk(e.Ino, dir, path+e.Name+"/")
				continue
			}
			names[e.Ino]++
			ea, err := s.GetAttr(ctx, c, e.Ino)
			require.NoError(t, err, "getattr %s%s", path, e.Name)
			nlink[e.Ino] = ea.Nlink
		}
		require.EqualValues(t, 2+subdirs, a.Nlink, "%s: nlink", path)
		require.EqualValues(t, len(ents), a.Entries, "%s: entries", path)
	}
	walk(inode.RootIno, inode.RootIno, "/")
	for ino, n := range names {
		require.EqualValues(t, n, nlink[ino], "#%d: nlink vs entries", ino)
	}
	require.Equal(t, rep.Dirs, len(visited), "directories in the store vs reached from the root")
	require.Equal(t, rep.Inodes, len(visited)+len(names), "inodes in the store vs reached from the root")

	walked := 0
	require.NoError(t, s.Walk(ctx, c, "/", func(p string, a meta.Attr, err error) error {
		walked++
		return err
	}))
	require.Equal(t, 1+rep.Entries, walked, "meta.Walk visits every entry and the root once")
	t.Logf("final tree: %d directories, %d other inodes, %d entries", len(visited), len(names), rep.Entries)
}
