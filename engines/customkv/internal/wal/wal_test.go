package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/stretchr/testify/require"
)

type rec struct {
	v  int64
	ms []txnbuf.Mutation
}

func set(k, v string) txnbuf.Mutation {
	return txnbuf.Mutation{Type: txnbuf.MutSet, Key: []byte(k), Value: []byte(v)}
}

func openT(t *testing.T, opts Options, after int64) (*WAL, []rec, int64, error) {
	t.Helper()
	var got []rec
	w, last, err := Open(opts, after, func(v int64, ms []txnbuf.Mutation) error {
		got = append(got, rec{v, ms})
		return nil
	})
	return w, got, last, err
}

func writeN(t *testing.T, w *WAL, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		require.NoError(t, w.Append(int64(i), []txnbuf.Mutation{set(fmt.Sprintf("k%d", i), "v"), {Type: txnbuf.MutClearRange, Key: []byte("a"), End: []byte("b")}})())
	}
}

func TestWAL_RoundTripAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	w, got, last, err := openT(t, Options{Dir: dir, SegmentBytes: 200}, 0)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Zero(t, last)
	writeN(t, w, 1, 50)
	require.Greater(t, w.Segments(), 3)
	require.NoError(t, w.Close())

	w, got, last, err = openT(t, Options{Dir: dir, SegmentBytes: 200}, 10)
	require.NoError(t, err)
	require.Equal(t, int64(50), last)
	require.Len(t, got, 40)
	require.Equal(t, int64(11), got[0].v)
	require.Equal(t, "k11", string(got[0].ms[0].Key))
	require.Equal(t, txnbuf.MutClearRange, got[0].ms[1].Type)
	require.Equal(t, "b", string(got[0].ms[1].End))

	n, err := w.RemoveThrough(25)
	require.NoError(t, err)
	require.Positive(t, n)
	require.NoError(t, w.Close())
	_, got, _, err = openT(t, Options{Dir: dir}, 25)
	require.NoError(t, err)
	require.Len(t, got, 25)
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := listSegments(dir)
	require.NoError(t, err)
	return segs[len(segs)-1].path
}

func TestWAL_TornTailIsTruncated(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(t *testing.T, path string)
	}{
		{"HalfRecord", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, st.Size()-7))
		}},
		{"ZeroFilledTail", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write(make([]byte, 100))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		{"BadLastChecksum", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			data[len(data)-1] ^= 0x55
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _, _, err := openT(t, Options{Dir: dir}, 0)
			require.NoError(t, err)
			writeN(t, w, 1, 10)
			require.NoError(t, w.Close())
			tc.tear(t, lastSegment(t, dir))

			w, got, last, err := openT(t, Options{Dir: dir}, 0)
			require.NoError(t, err)
			want := int64(10)
			if tc.name != "ZeroFilledTail" {
				want = 9
			}
			require.Equal(t, want, last)
			require.Len(t, got, int(want))
			// Appends continue after the truncation point.
			writeN(t, w, 11, 2)
			require.NoError(t, w.Close())
			_, got, last, err = openT(t, Options{Dir: dir}, 0)
			require.NoError(t, err)
			require.Equal(t, int64(12), last)
			require.Len(t, got, int(want)+2)
		})
	}
}

func TestWAL_CorruptMiddleRefusesToOpen(t *testing.T) {
	dir := t.TempDir()
	w, _, _, err := openT(t, Options{Dir: dir}, 0)
	require.NoError(t, err)
	writeN(t, w, 1, 20)
	require.NoError(t, w.Close())
	path := lastSegment(t, dir)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	mid := len(data) / 2
	data[mid] ^= 0x01
	require.NoError(t, os.WriteFile(path, data, 0o644))

	_, _, _, err = openT(t, Options{Dir: dir}, 0)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, path, ce.File)
	require.LessOrEqual(t, ce.Offset, int64(mid))
	require.Contains(t, err.Error(), filepath.Base(path))
	require.Contains(t, err.Error(), fmt.Sprintf("offset %d", ce.Offset))
}

func TestWAL_CorruptSealedSegmentRefusesToOpen(t *testing.T) {
	dir := t.TempDir()
	w, _, _, err := openT(t, Options{Dir: dir, SegmentBytes: 100}, 0)
	require.NoError(t, err)
	writeN(t, w, 1, 20)
	require.NoError(t, w.Close())
	segs, err := listSegments(dir)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(segs[0].path, 30))
	_, _, _, err = openT(t, Options{Dir: dir}, 0)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, segs[0].path, ce.File)
}

func TestWAL_GroupCommitSharesFsyncs(t *testing.T) {
	var syncs atomic.Int64
	w, _, _, err := openT(t, Options{Dir: t.TempDir(), OnSync: func(int, time.Duration) { syncs.Add(1) }}, 0)
	require.NoError(t, err)
	const writers, per = 32, 20
	var mu sync.Mutex // the store's commit lock: appends in version order
	var v int64
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				mu.Lock()
				v++
				wait := w.Append(v, []txnbuf.Mutation{set("k", "v")})
				mu.Unlock()
				require.NoError(t, wait())
			}
		}()
	}
	wg.Wait()
	require.NoError(t, w.Close())
	require.Less(t, syncs.Load(), int64(writers*per), "every commit had its own fsync")
	t.Logf("%d commits, %d fsyncs", writers*per, syncs.Load())
}

func TestWAL_AppendAfterCloseFails(t *testing.T) {
	w, _, _, err := openT(t, Options{Dir: t.TempDir()}, 0)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.Append(1, nil)(), ErrClosed)
}
