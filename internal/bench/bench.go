// Package bench is the engine of `fsmeta bench`, an mdtest-style metadata
// benchmark: each of Clients clients creates Items directories and Items
// files, stats the files, renames them, unlinks them and removes the
// directories, phase by phase, with every client starting a phase together
// and the phase timed from that start until the last client finishes.
//
// A client is a goroutine with its own meta.FS (its own store, engine
// connection or server connection, as the Target makes it), so Clients
// clients are Clients sessions. In the unique mode every client works in a
// directory of its own; in the shared mode all clients work in one
// directory, which is where creates and renames of different names in one
// directory must not conflict.
//
// Every operation is one metadata call by inode (Mkdir, Create, Lookup,
// Rename, Unlink, Rmdir), the calls a FUSE client makes. Latencies are
// measured per call and reported as exact percentiles of the sorted samples.
// After the last mode the benchmark directory is removed (unless
// Options.Keep) and fsck runs on each target.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/meta"
)

// Phases, in the order they run.
const (
	PhaseMkdir  = "mkdir"
	PhaseCreate = "create"
	PhaseStat   = "stat"
	PhaseRename = "rename"
	PhaseUnlink = "unlink"
	PhaseRmdir  = "rmdir"
)

// AllPhases are the phases in the order they run.
var AllPhases = []string{PhaseMkdir, PhaseCreate, PhaseStat, PhaseRename, PhaseUnlink, PhaseRmdir}

// Directory modes.
const (
	ModeUnique = "unique" // a directory per client
	ModeShared = "shared" // one directory for all clients
)

// AllModes are the directory modes.
var AllModes = []string{ModeUnique, ModeShared}

// Target is one filesystem to benchmark.
type Target struct {
	// Name labels the target's rows in the report.
	Name string
	// NewClient returns the FS of one client. It is called Options.Clients
	// times, one after another, before the first phase; each FS is Shutdown
	// after the last. An FS that has a Retries() int64 method (*meta.Store)
	// has its transaction retries reported.
	NewClient func(ctx context.Context) (meta.FS, error)
	// Close, if set, is called when the target is done, after every client
	// was shut down.
	Close func() error
}

// Progress is told about the benchmark's progress. Add is called from the
// client goroutines concurrently.
type Progress interface {
	Start(target, mode, phase string, total int)
	Add(n int)
	Done()
}

// Options configure Run. Zero fields take the defaults.
type Options struct {
	// Items is the number of items per client and phase (default 1000).
	Items int
	// Clients is the number of concurrent clients (default 4).
	Clients int
	// Phases to run, a subset of AllPhases; they run in AllPhases order
	// (default all). stat, rename and unlink need create; rmdir needs mkdir.
	Phases []string
	// Modes to run, a subset of AllModes, in the order given (default
	// unique).
	Modes []string
	// Cred is the identity of every operation (default root).
	Cred meta.Cred
	// Dir is the directory the benchmark makes its run directory in
	// (default "/fsmeta-bench"); it is created if missing.
	Dir string
	// Keep leaves the run directory in place instead of removing it.
	Keep bool
	// Progress, if set, is told about each phase.
	Progress Progress
}

func (o *Options) fill() error {
	if o.Items == 0 {
		o.Items = 1000
	}
	if o.Clients == 0 {
		o.Clients = 4
	}
	if o.Items < 0 || o.Clients < 0 {
		return fmt.Errorf("%w: items per client and clients must be positive (got %d and %d)", ErrInvalid, o.Items, o.Clients)
	}
	if len(o.Phases) == 0 {
		o.Phases = AllPhases
	}
	if len(o.Modes) == 0 {
		o.Modes = []string{ModeUnique}
	}
	if o.Dir == "" {
		o.Dir = "/fsmeta-bench"
	}
	for _, p := range o.Phases {
		if !slices.Contains(AllPhases, p) {
			return fmt.Errorf("%w: unknown phase %q (phases: %v)", ErrInvalid, p, AllPhases)
		}
	}
	var ordered []string
	for _, p := range AllPhases {
		if slices.Contains(o.Phases, p) {
			ordered = append(ordered, p)
		}
	}
	o.Phases = ordered
	has := func(p string) bool { return slices.Contains(o.Phases, p) }
	for _, p := range []string{PhaseStat, PhaseRename, PhaseUnlink} {
		if has(p) && !has(PhaseCreate) {
			return fmt.Errorf("%w: phase %s needs phase create", ErrInvalid, p)
		}
	}
	if has(PhaseRmdir) && !has(PhaseMkdir) {
		return fmt.Errorf("%w: phase rmdir needs phase mkdir", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, m := range o.Modes {
		if !slices.Contains(AllModes, m) {
			return fmt.Errorf("%w: unknown directory mode %q (modes: %v)", ErrInvalid, m, AllModes)
		}
		if seen[m] {
			return fmt.Errorf("%w: directory mode %q given twice", ErrInvalid, m)
		}
		seen[m] = true
	}
	return nil
}

// Run benchmarks each target in turn and returns the report. An operation
// that fails ends the run with an error wrapping ErrOp; fsck problems do not
// (see Report.OK).
func Run(ctx context.Context, opts Options, targets []Target) (*Report, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: no target", ErrInvalid)
	}
	names := map[string]bool{}
	for _, t := range targets {
		if t.Name == "" || t.NewClient == nil {
			return nil, fmt.Errorf("%w: a target needs a name and a NewClient", ErrInvalid)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("%w: target %q given twice", ErrInvalid, t.Name)
		}
		names[t.Name] = true
	}
	rep := &Report{
		Version: ReportVersion, Started: time.Now().UTC(),
		Items: opts.Items, Clients: opts.Clients, Phases: opts.Phases, Modes: opts.Modes,
	}
	for _, t := range targets {
		if err := runTarget(ctx, &opts, t, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// client is one benchmark client.
type client struct {
	id  int
	fs  meta.FS
	dir uint64 // the directory of the current mode
}

func (c *client) retries() (int64, bool) {
	r, ok := c.fs.(interface{ Retries() int64 })
	if !ok {
		return 0, false
	}
	return r.Retries(), true
}

func runTarget(ctx context.Context, o *Options, t Target, rep *Report) (err error) {
	clients := make([]*client, o.Clients)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.fs.Shutdown(context.WithoutCancel(ctx))
			}
		}
		if t.Close != nil {
			t.Close()
		}
	}()
	for i := range clients {
		fs, err := t.NewClient(ctx)
		if err != nil {
			return fmt.Errorf("bench: target %s: client %d: %w", t.Name, i, err)
		}
		clients[i] = &client{id: i, fs: fs}
	}
	c0 := clients[0]
	runDir := path.Join(o.Dir, fmt.Sprintf("run-%d-%08x", time.Now().UnixNano(), rand.Uint32()))
	for _, mode := range o.Modes {
		if err := setupMode(ctx, o, clients, path.Join(runDir, mode), mode); err != nil {
			return fmt.Errorf("bench: target %s: set up %s directories: %w", t.Name, mode, err)
		}
		for _, ph := range o.Phases {
			res, err := runPhase(ctx, o, clients, t.Name, mode, ph)
			if err != nil {
				return err
			}
			rep.Results = append(rep.Results, res)
		}
	}
	if !o.Keep {
		if err := c0.fs.RemoveAll(ctx, o.Cred, runDir); err != nil {
			return fmt.Errorf("bench: target %s: remove %s: %w", t.Name, runDir, err)
		}
	}
	r, err := c0.fs.Check(ctx)
	if err != nil {
		return fmt.Errorf("bench: target %s: fsck: %w", t.Name, err)
	}
	f := Fsck{Target: t.Name, OK: r.OK(), Inodes: r.Inodes, Dirs: r.Dirs, Entries: r.Entries, Problems: []string{}}
	for _, p := range r.Problems {
		f.Problems = append(f.Problems, p.String())
	}
	rep.Fsck = append(rep.Fsck, f)
	return nil
}

// setupMode makes the mode's directories (untimed) and points each client
// at its own.
func setupMode(ctx context.Context, o *Options, clients []*client, dir, mode string) error {
	c0 := clients[0]
	a, err := c0.fs.MkdirAll(ctx, o.Cred, dir, 0o755)
	if err != nil {
		return err
	}
	if mode == ModeShared {
		s, err := c0.fs.Mkdir(ctx, o.Cred, a.Ino, "shared", 0o755)
		if err != nil {
			return err
		}
		for _, c := range clients {
			c.dir = s.Ino
		}
		return nil
	}
	for _, c := range clients {
		s, err := c.fs.Mkdir(ctx, o.Cred, a.Ino, fmt.Sprintf("client%d", c.id), 0o755)
		if err != nil {
			return err
		}
		c.dir = s.Ino
	}
	return nil
}

// progressBatch is how many ops a client does between Progress.Add calls.
const progressBatch = 64

// runPhase runs one phase on every client at once.
func runPhase(ctx context.Context, o *Options, clients []*client, target, mode, phase string) (Result, error) {
	if o.Progress != nil {
		o.Progress.Start(target, mode, phase, o.Items*len(clients))
		defer o.Progress.Done()
	}
	var before int64
	counted := true
	for _, c := range clients {
		r, ok := c.retries()
		before += r
		counted = counted && ok
	}
	op, err := phaseOp(phase, slices.Contains(o.Phases, PhaseRename))
	if err != nil {
		return Result{}, err
	}
	samples := make([][]time.Duration, len(clients))
	ends := make([]time.Time, len(clients))
	errs := make([]error, len(clients))
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		lat := make([]time.Duration, 0, o.Items)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			pending := 0
			for j := range o.Items {
				t0 := time.Now()
				if err := op(ctx, o.Cred, c, j); err != nil {
					errs[i] = fmt.Errorf("%w: target %s, %s directories, phase %s, client %d, item %d: %w",
						ErrOp, target, mode, phase, c.id, j, err)
					break
				}
				lat = append(lat, time.Since(t0))
				if pending++; pending == progressBatch && o.Progress != nil {
					o.Progress.Add(pending)
					pending = 0
				}
			}
			if o.Progress != nil && pending > 0 {
				o.Progress.Add(pending)
			}
			ends[i] = time.Now()
			samples[i] = lat
		}()
	}
	start := time.Now()
	close(ready)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Result{}, err
		}
	}
	end := start
	for _, e := range ends {
		if e.After(end) {
			end = e
		}
	}
	all := slices.Concat(samples...)
	res := summarize(target, mode, phase, all, end.Sub(start))
	if counted {
		var after int64
		for _, c := range clients {
			r, _ := c.retries()
			after += r
		}
		d := after - before
		res.Retries = &d
	}
	return res, nil
}

func itemName(prefix string, c *client, j int) string {
	return fmt.Sprintf("%s%d.%d", prefix, c.id, j)
}

type opFunc func(ctx context.Context, cr meta.Cred, c *client, j int) error

// phaseOp returns the operation a phase does on item j of a client; renamed
// says whether the files carry their renamed names by the unlink phase.
func phaseOp(phase string, renamed bool) (opFunc, error) {
	switch phase {
	case PhaseMkdir:
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			_, err := c.fs.Mkdir(ctx, cr, c.dir, itemName("d", c, j), 0o755)
			return err
		}, nil
	case PhaseCreate:
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			_, err := c.fs.Create(ctx, cr, c.dir, itemName("f", c, j), 0o644, true)
			return err
		}, nil
	case PhaseStat:
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			_, err := c.fs.Lookup(ctx, cr, c.dir, itemName("f", c, j))
			return err
		}, nil
	case PhaseRename:
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			return c.fs.Rename(ctx, cr, c.dir, itemName("f", c, j), c.dir, itemName("r", c, j), 0)
		}, nil
	case PhaseUnlink:
		prefix := "f"
		if renamed {
			prefix = "r"
		}
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			return c.fs.Unlink(ctx, cr, c.dir, itemName(prefix, c, j))
		}, nil
	case PhaseRmdir:
		return func(ctx context.Context, cr meta.Cred, c *client, j int) error {
			return c.fs.Rmdir(ctx, cr, c.dir, itemName("d", c, j))
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown phase %q", ErrInvalid, phase)
}
