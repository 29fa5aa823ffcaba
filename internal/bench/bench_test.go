package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/bench"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// memTarget is a memkv target whose clients are stores of their own over
// one engine; the engine is returned to inspect it after the run.
func memTarget(tb testing.TB, name string) (bench.Target, func() *meta.Store) {
	tb.Helper()
	db := memkv.New(memkv.Options{})
	tb.Cleanup(func() { db.Close() })
	ctx := context.Background()
	_, err := meta.Open(ctx, db, meta.Options{}) // format once
	require.NoError(tb, err)
	open := func() *meta.Store {
		s, err := meta.Open(ctx, db, meta.Options{})
		require.NoError(tb, err)
		return s
	}
	return bench.Target{Name: name, NewClient: func(ctx context.Context) (meta.FS, error) {
		return meta.Open(ctx, db, meta.Options{})
	}}, open
}

type countingProgress struct {
	mu     sync.Mutex
	starts []string
	totals map[string]int
	added  map[string]int
	cur    string
	open   bool
}

func (p *countingProgress) Start(target, mode, phase string, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = target + "/" + mode + "/" + phase
	p.starts = append(p.starts, p.cur)
	p.totals[p.cur] = total
	p.open = true
}

func (p *countingProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added[p.cur] += n
}

func (p *countingProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
}

func TestRun_EveryPhaseRunsItemsTimesClients(t *testing.T) {
	const n, c = 30, 3
	a, openA := memTarget(t, "a")
	b, _ := memTarget(t, "b")
	prog := &countingProgress{totals: map[string]int{}, added: map[string]int{}}
	rep, err := bench.Run(context.Background(), bench.Options{
		Items: n, Clients: c, Modes: []string{bench.ModeUnique, bench.ModeShared}, Progress: prog,
	}, []bench.Target{a, b})
	require.NoError(t, err)

	require.Len(t, rep.Results, 2*2*len(bench.AllPhases))
	i := 0
	for _, target := range []string{"a", "b"} {
		for _, mode := range bench.AllModes {
			for _, ph := range bench.AllPhases {
				r := rep.Results[i]
				i++
				require.Equal(t, [3]string{target, mode, ph}, [3]string{r.Target, r.Mode, r.Phase})
				require.Equal(t, n*c, r.Ops, "%s/%s/%s", target, mode, ph)
				require.Greater(t, r.Seconds, 0.0)
				require.Greater(t, r.OpsPerSec, 0.0)
				require.LessOrEqual(t, r.P50, r.P99)
				require.LessOrEqual(t, r.P99, r.Max)
				require.NotNil(t, r.Retries, "a *meta.Store counts its retries")
				key := target + "/" + mode + "/" + ph
				require.Equal(t, n*c, prog.totals[key], key)
				require.Equal(t, n*c, prog.added[key], key)
			}
		}
	}
	require.False(t, prog.open)
	require.Len(t, rep.Fsck, 2)
	require.True(t, rep.OK())
	for _, f := range rep.Fsck {
		require.True(t, f.OK, "%+v", f)
	}

	// The run directory is gone: only /fsmeta-bench is left.
	s := openA()
	ents, err := s.ReadDirAll(context.Background(), meta.RootCred(), 1)
	require.NoError(t, err)
	require.Equal(t, []string{"fsmeta-bench"}, names(ents))
	ino, err := s.Resolve(context.Background(), meta.RootCred(), "/fsmeta-bench")
	require.NoError(t, err)
	ents, err = s.ReadDirAll(context.Background(), meta.RootCred(), ino)
	require.NoError(t, err)
	require.Empty(t, ents)
}

func names(ents []meta.DirEntry) []string {
	var out []string
	for _, e := range ents {
		out = append(out, e.Name)
	}
	return out
}

func TestRun_KeepLeavesTheItems(t *testing.T) {
	const n, c = 25, 2
	tg, open := memTarget(t, "mem")
	rep, err := bench.Run(context.Background(), bench.Options{
		Items: n, Clients: c, Phases: []string{bench.PhaseCreate, bench.PhaseMkdir}, Modes: []string{bench.ModeShared, bench.ModeUnique},
		Keep: true, Dir: "/b",
	}, []bench.Target{tg})
	require.NoError(t, err)
	require.Equal(t, []string{bench.PhaseMkdir, bench.PhaseCreate}, rep.Phases, "phases run in the canonical order")
	require.True(t, rep.OK())

	ctx := context.Background()
	s := open()
	runs, err := s.ReadDirAll(ctx, meta.RootCred(), mustResolve(t, s, "/b"))
	require.NoError(t, err)
	require.Len(t, runs, 1)
	run := "/b/" + runs[0].Name
	shared, err := s.ReadDirAll(ctx, meta.RootCred(), mustResolve(t, s, run+"/shared/shared"))
	require.NoError(t, err)
	require.Len(t, shared, 2*n*c, "mkdir and create of every client in the one directory")
	for i := range c {
		ents, err := s.ReadDirAll(ctx, meta.RootCred(), mustResolve(t, s, run+"/unique/client"+string(rune('0'+i))))
		require.NoError(t, err)
		require.Len(t, ents, 2*n)
	}
}

func mustResolve(tb testing.TB, s *meta.Store, p string) uint64 {
	tb.Helper()
	ino, err := s.Resolve(context.Background(), meta.RootCred(), p)
	require.NoError(tb, err, p)
	return ino
}

func TestRun_JSONAndPlot(t *testing.T) {
	a, _ := memTarget(t, "memkv")
	b, _ := memTarget(t, "other")
	rep, err := bench.Run(context.Background(), bench.Options{Items: 10, Clients: 2, Modes: bench.AllModes}, []bench.Target{a, b})
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	require.EqualValues(t, bench.ReportVersion, got["version"])
	require.EqualValues(t, 10, got["items_per_client"])
	require.EqualValues(t, 2, got["clients"])
	results := got["results"].([]any)
	require.Len(t, results, 2*2*6)
	first := results[0].(map[string]any)
	for _, k := range []string{"target", "mode", "phase", "ops", "seconds", "ops_per_sec", "p50_us", "p99_us", "max_us", "retries"} {
		require.Contains(t, first, k)
	}
	require.EqualValues(t, 20, first["ops"])
	var back bench.Report
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	require.Equal(t, rep.Results, back.Results)

	buf.Reset()
	require.NoError(t, rep.WriteTable(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1+24+2, buf.String())
	require.Regexp(t, `^\s*target\s+mode\s+phase\s+ops\s+seconds\s+ops/s\s+p50\s+p99\s+retries$`, lines[0])
	require.Regexp(t, `^\s*memkv\s+unique\s+mkdir\s+20\s`, lines[1])
	require.Regexp(t, `^fsck memkv: \d+ inodes, \d+ directories, \d+ entries: clean$`, lines[25])

	file := filepath.Join(t.TempDir(), "out.png")
	require.NoError(t, rep.Plot(file))
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 100)
	require.Greater(t, img.Bounds().Dy(), 100)
}

func TestRun_BadOptions(t *testing.T) {
	tg, _ := memTarget(t, "m")
	for name, tc := range map[string]struct {
		opts    bench.Options
		targets []bench.Target
		want    string
	}{
		"unknown phase":   {bench.Options{Phases: []string{"mkdir", "chmod"}}, []bench.Target{tg}, `unknown phase "chmod"`},
		"stat alone":      {bench.Options{Phases: []string{"stat"}}, []bench.Target{tg}, "phase stat needs phase create"},
		"rmdir alone":     {bench.Options{Phases: []string{"create", "rmdir"}}, []bench.Target{tg}, "phase rmdir needs phase mkdir"},
		"unknown mode":    {bench.Options{Modes: []string{"private"}}, []bench.Target{tg}, `unknown directory mode "private"`},
		"mode twice":      {bench.Options{Modes: []string{"shared", "shared"}}, []bench.Target{tg}, `"shared" given twice`},
		"negative items":  {bench.Options{Items: -1}, []bench.Target{tg}, "must be positive"},
		"no target":       {bench.Options{}, nil, "no target"},
		"duplicate names": {bench.Options{}, []bench.Target{tg, tg}, `target "m" given twice`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bench.Run(context.Background(), tc.opts, tc.targets)
			require.ErrorIs(t, err, bench.ErrInvalid)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestRun_OperationFailureNamesTheOp(t *testing.T) {
	tg, _ := memTarget(t, "m")
	// A non-root identity cannot create the benchmark directory under the
	// root (mode 0755, owned by root).
	_, err := bench.Run(context.Background(), bench.Options{Items: 5, Clients: 1, Cred: meta.Cred{Uid: 1000, Gid: 1000}},
		[]bench.Target{tg})
	require.Error(t, err)
	require.ErrorContains(t, err, "target m")
	require.ErrorIs(t, err, os.ErrPermission)
	require.False(t, errors.Is(err, bench.ErrInvalid))
}

// failingFS fails every Create after the first ok ones with EIO, as an
// engine that went away would.
type failingFS struct {
	meta.FS
	ok *atomic.Int64
}

func (f failingFS) Create(ctx context.Context, c meta.Cred, parent uint64, name string, mode uint32, excl bool) (meta.Attr, error) {
	if f.ok.Add(-1) < 0 {
		return meta.Attr{}, &fs.PathError{Op: "create", Path: name, Err: syscall.EIO}
	}
	return f.FS.Create(ctx, c, parent, name, mode, excl)
}

func TestRun_FailedOpEndsTheRun(t *testing.T) {
	tg, _ := memTarget(t, "m")
	var ok atomic.Int64
	ok.Store(7)
	inner := tg.NewClient
	tg.NewClient = func(ctx context.Context) (meta.FS, error) {
		f, err := inner(ctx)
		return failingFS{FS: f, ok: &ok}, err
	}
	_, err := bench.Run(context.Background(), bench.Options{Items: 5, Clients: 2}, []bench.Target{tg})
	require.ErrorIs(t, err, bench.ErrOp)
	require.ErrorIs(t, err, syscall.EIO)
	require.ErrorContains(t, err, "phase create")
}

func TestPlot_LinearAndLogAxes(t *testing.T) {
	for name, spread := range map[string]float64{"linear": 3, "log": 1000} {
		t.Run(name, func(t *testing.T) {
			rep := &bench.Report{Items: 1, Clients: 1, Phases: []string{"mkdir", "stat"}, Modes: bench.AllModes}
			for _, tg := range []string{"near", "far"} {
				for _, m := range bench.AllModes {
					v := 100.0
					if tg == "near" {
						v *= spread
					}
					rep.Results = append(rep.Results,
						bench.Result{Target: tg, Mode: m, Phase: "mkdir", OpsPerSec: v},
						bench.Result{Target: tg, Mode: m, Phase: "stat", OpsPerSec: 2 * v})
				}
			}
			file := filepath.Join(t.TempDir(), "p.png")
			require.NoError(t, rep.Plot(file))
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			_, err = png.Decode(f)
			require.NoError(t, err)
		})
	}
	require.ErrorContains(t, (&bench.Report{}).Plot(filepath.Join(t.TempDir(), "x.png")), "no results")
}
