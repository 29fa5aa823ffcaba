package faults_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/faultkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sessions, locks and their expiry under injected faults (40% of commits:
// half retryable, half committed but reported as maybe-committed): a
// client takes locks and keeps unlinked files open, dies, and two other
// clients expire it at once. The session and everything it owned must be
// gone, the namespace untouched, and Check clean. The count ExpireSessions
// returns may miss a session whose deleting commit's reply was "lost", but
// never counts one twice.
func TestSessions_ExpiryUnderFaults(t *testing.T) {
	for seed := range int64(8) {
		ctx := context.Background()
		inner := memkv.New(memkv.Options{})
		clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
		faulty := func(s int64) kv.Engine {
			return faultkv.New(inner, faultkv.Options{Seed: s, Rate: 0.4, MaybeCommittedShare: 0.5})
		}
		retry := kv.RetryOptions{InitialBackoff: 100 * time.Microsecond, MaxBackoff: time.Millisecond}
		a, err := meta.Open(ctx, faulty(seed), meta.Options{Clock: clk.Now, Retry: retry})
		require.NoError(t, err)
		c := meta.RootCred()
		var files []uint64
		for i := range 4 {
			name := "f" + string(rune('0'+i))
			f, err := a.Create(ctx, c, inode.RootIno, name, 0o644, true)
			require.NoError(t, err)
			files = append(files, f.Ino)
			for j := range 5 {
				h, err := a.Open(ctx, c, f.Ino, meta.ORdWr)
				require.NoError(t, err)
				require.NoError(t, a.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: uint64(j), End: uint64(j), Owner: 1}, false))
				if j == 0 {
					require.NoError(t, a.Flock(ctx, h, 1, meta.LockWrite, false))
				}
				require.NoError(t, a.SetXattr(ctx, c, f.Ino, "user.k", []byte{byte(j)}, 0))
			}
			if i%2 == 0 {
				require.NoError(t, a.Unlink(ctx, c, inode.RootIno, name))
			}
		}
		clk.Advance(time.Hour)
		x, err := meta.Open(ctx, faulty(seed+100), meta.Options{Clock: clk.Now, Retry: retry, NoCreate: true})
		require.NoError(t, err)
		y, err := meta.Open(ctx, faulty(seed+200), meta.Options{Clock: clk.Now, Retry: retry, NoCreate: true})
		require.NoError(t, err)
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
		require.NoError(t, errs[0], "seed %d", seed)
		require.NoError(t, errs[1], "seed %d", seed)
		require.LessOrEqual(t, counts[0]+counts[1], 1, "seed %d: counted twice", seed)

		v, err := meta.Open(ctx, inner, meta.Options{Clock: clk.Now, NoCreate: true})
		require.NoError(t, err)
		infos, err := v.Sessions(ctx)
		require.NoError(t, err)
		require.Empty(t, infos, "seed %d", seed)
		for i, ino := range files {
			ls, err := v.Locks(ctx, ino)
			require.NoError(t, err)
			require.Empty(t, ls, "seed %d: locks of #%d", seed, ino)
			_, err = v.GetAttr(ctx, c, ino)
			if i%2 == 0 {
				require.Equal(t, syscall.ENOENT, meta.Errno(err), "seed %d: unlinked #%d", seed, ino)
			} else {
				require.NoError(t, err, "seed %d: linked #%d", seed, ino)
			}
		}
		rep, err := v.Check(ctx)
		require.NoError(t, err)
		require.Empty(t, rep.Problems, "seed %d", seed)
		require.Equal(t, 3, rep.Inodes, "seed %d: the root and the two linked files", seed)
	}
}
