package customkv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

const (
	crashWriters     = 6
	crashKeysPerTxn  = 4
	crashCyclesShort = 20
)

// commitID names one crash-test transaction.
type commitID struct{ cycle, writer, seq int }

func (c commitID) key(j int) []byte {
	return fmt.Appendf(nil, "c/%02d/%d/%06d/%d", c.cycle, c.writer, c.seq, j)
}

// group is the key prefix shared by the commit's keys.
func (c commitID) group() string { return fmt.Sprintf("c/%02d/%d/%06d", c.cycle, c.writer, c.seq) }

func counterKey(w int) []byte { return fmt.Appendf(nil, "n/%d", w) }

// TestCrash_KillNineKeepsEveryAcknowledgedCommit kills a real kvserver
// with SIGKILL under concurrent writers, restarts it, and checks that every
// acknowledged commit is there and no commit is half there. Each commit
// writes crashKeysPerTxn keys and bumps its writer's counter atomically, so
// a half-applied commit shows as missing keys or a counter that disagrees
// with the commits present.
func TestCrash_KillNineKeepsEveryAcknowledgedCommit(t *testing.T) {
	dir := t.TempDir()
	// Small snapshots and segments so that crashes also hit snapshotting
	// and segment removal.
	args := []string{"--data-dir", dir, "--fsync", "on", "--snapshot-bytes", "262144", "--segment-bytes", "65536"}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	t.Logf("seed %d", seed)
	ctx := context.Background()
	var acked []commitID
	outcomes := map[string]int{}
	start := time.Now()
	cycles := 0
	for ; cycles < crashCyclesShort || (cycles < 30 && time.Since(start) < 15*time.Second); cycles++ {
		t0 := time.Now()
		p := testserver.Start(t, args...)
		t1 := time.Now()
		db := open(t, customkv.Options{Endpoints: []string{p.Addr}, CallTimeout: 2 * time.Second, HealthCheckInterval: time.Hour})
		t2 := time.Now()
		if cycles > 0 {
			verifyCycle(t, db, cycles-1, acked)
		}
		if testing.Verbose() {
			t.Logf("cycle %d: start %v open %v verify %v", cycles, t1.Sub(t0), t2.Sub(t1), time.Since(t2))
		}
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range crashWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; seq < 1_000_000; seq++ {
					select {
					case <-stop:
						return
					default:
					}
					id := commitID{cycles, w, seq}
					tx := db.NewReadWrite()
					for j := range crashKeysPerTxn {
						tx.Set(id.key(j), fmt.Appendf(nil, "%v", id))
					}
					tx.Atomic(kv.AtomicAdd, counterKey(w), binary.LittleEndian.AppendUint64(nil, 1))
					err := tx.Commit(ctx)
					mu.Lock()
					switch {
					case err == nil:
						acked = append(acked, id)
						outcomes["acked"]++
					case kv.MaybeCommitted(err):
						outcomes["maybe"]++
					case kv.Retryable(err):
						outcomes["retryable"]++
					default:
						outcomes["other"]++
						t.Errorf("commit %v: unexpected error %v", id, err)
					}
					mu.Unlock()
					if err != nil {
						return // the server is gone
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		t3 := time.Now()
		p.Kill(t)
		close(stop)
		wg.Wait()
		require.NoError(t, db.Close())
		if testing.Verbose() {
			t.Logf("cycle %d: ran %v, kill and drain %v", cycles, t3.Sub(t2), time.Since(t3))
		}
	}
	p := testserver.Start(t, args...)
	db := open(t, customkv.Options{Endpoints: []string{p.Addr}, CallTimeout: 5 * time.Second})
	verifyCycle(t, db, cycles-1, acked)
	verifyAll(t, db, acked)
	p.Stop(t)
	t.Logf("%d kill -9 cycles in %v; outcomes %v", cycles, time.Since(start).Round(time.Millisecond), outcomes)
	require.GreaterOrEqual(t, cycles, crashCyclesShort)
}

// scan returns every row with the prefix, paging on More.
func scan(tb testing.TB, db kv.Engine, prefix []byte) []kv.KeyValue {
	tb.Helper()
	ctx := context.Background()
	tx := db.NewReadOnly()
	end := append(bytes.Clone(prefix), 0xff)
	begin := kv.FirstGreaterOrEqual(prefix)
	var out []kv.KeyValue
	for range 100_000 {
		res, err := tx.SnapshotGetRange(ctx, begin, kv.FirstGreaterOrEqual(end), 1000)
		require.NoError(tb, err)
		out = append(out, res.KVs...)
		if !res.More || len(res.KVs) == 0 {
			return out
		}
		begin = kv.FirstGreaterThan(res.KVs[len(res.KVs)-1].Key)
	}
	tb.Fatal("scan did not end")
	return nil
}

// groups counts the keys of each commit under prefix.
func groups(tb testing.TB, db kv.Engine, prefix string) map[string]int {
	tb.Helper()
	got := map[string]int{}
	for _, r := range scan(tb, db, []byte(prefix)) {
		k := string(r.Key)
		got[k[:strings.LastIndexByte(k, '/')]]++
	}
	return got
}

func verifyCycle(tb testing.TB, db kv.Engine, cycle int, acked []commitID) {
	tb.Helper()
	got := groups(tb, db, fmt.Sprintf("c/%02d/", cycle))
	for g, n := range got {
		if n != crashKeysPerTxn {
			require.Failf(tb, "half-applied commit", "commit %s has %d of %d keys", g, n, crashKeysPerTxn)
		}
	}
	for _, id := range acked {
		if id.cycle == cycle {
			if _, ok := got[id.group()]; !ok {
				require.Failf(tb, "acknowledged commit missing", "commit %v", id)
			}
		}
	}
}

func verifyAll(tb testing.TB, db kv.Engine, acked []commitID) {
	tb.Helper()
	got := groups(tb, db, "c/")
	perWriter := map[int]uint64{}
	for g, n := range got {
		if n != crashKeysPerTxn {
			require.Failf(tb, "half-applied commit", "commit %s has %d of %d keys", g, n, crashKeysPerTxn)
		}
		var c, w, s int
		_, err := fmt.Sscanf(g, "c/%d/%d/%d", &c, &w, &s)
		require.NoError(tb, err)
		perWriter[w]++
	}
	for _, id := range acked {
		if _, ok := got[id.group()]; !ok {
			require.Failf(tb, "acknowledged commit missing", "commit %v", id)
		}
	}
	ctx := context.Background()
	tx := db.NewReadOnly()
	for w := range crashWriters {
		v, ok, err := tx.Get(ctx, counterKey(w))
		require.NoError(tb, err)
		require.True(tb, ok)
		require.Equal(tb, perWriter[w], binary.LittleEndian.Uint64(v), "writer %d: counter disagrees with the commits present", w)
	}
}

// TestCrash_CorruptLogRefusesToStart flips a byte in the middle of a log
// segment of a real server's data directory.
func TestCrash_CorruptLogRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	p := testserver.Start(t, "--data-dir", dir)
	db := open(t, customkv.Options{Endpoints: []string{p.Addr}})
	ctx := context.Background()
	for i := range 100 {
		require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			tx.Set(fmt.Appendf(nil, "k%03d", i), bytes.Repeat([]byte("v"), 100))
			return nil
		}))
	}
	p.Stop(t)
	segs, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	seg := segs[len(segs)-1]
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	data[len(data)/2] ^= 0x20
	require.NoError(t, os.WriteFile(seg, data, 0o644))

	_, err = testserver.TryStart(t, "--data-dir", dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "exited before serving")
	require.Contains(t, err.Error(), "corrupt record in "+seg+" at offset")
}
