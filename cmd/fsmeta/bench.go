package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/bench"
	"github.com/fsmeta/fsmeta/meta"
)

const benchLong = `bench is an mdtest-style metadata benchmark. Each of -c clients makes -n
directories (mkdir) and -n files (create), looks the files up (stat), renames them
(rename), unlinks them (unlink) and removes the directories (rmdir), phase by
phase: all clients start a phase together and the phase lasts until the last one
finishes. Every operation is one metadata call by inode, as a FUSE client makes.
A client is a goroutine with its own FS: its own store and engine connection, or
its own meta server connection and session.

--dirs unique gives every client a directory of its own; --dirs shared puts all
clients in one directory; --dirs unique,shared runs both.

Targets (--target, repeatable, compared side by side; default: --server, else
--config, else memkv):
  memkv            a new embedded memkv engine shared by the clients
  config:FILE      the engine a hybrid TOML file names; each client opens it
  server:ADDR      a meta server (fsmeta serve); each client dials it
  NAME=SPEC        any of the above, labelled NAME in the report

The summary table gives ops, seconds, ops/s, p50 and p99 latency and transaction
retries (counted by in-process stores only) per target, mode and phase; fsck runs
on each target at the end and a problem makes the exit status 1. --json prints
the report as JSON instead (schema: version, started, items_per_client, clients,
phases, modes, results[{target, mode, phase, ops, seconds, ops_per_sec, p50_us,
p99_us, max_us, retries}], fsck[{target, ok, inodes, dirs, entries, problems}]).
--plot FILE.png draws ops/s per phase per target as a grouped bar chart. A
progress bar is shown when stdout and stderr are terminals, unless --quiet.`

type benchFlags struct {
	items, clients int
	phases, dirs   []string
	targets        []string
	shared         bool
	asJSON, quiet  bool
	keep           bool
	plot, dir      string
}

func benchCommand(a *app) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench [-n ITEMS] [-c CLIENTS] [--phases P,...] [--dirs unique,shared] [--target SPEC]... [--json] [--plot FILE.png]",
		Short: "mdtest-style metadata benchmark over any engine or a meta server",
		Long:  benchLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.shared {
				if cmd.Flags().Changed("dirs") {
					return usageError{fmt.Errorf("--shared and --dirs both name the directory modes: give one")}
				}
				f.dirs = []string{bench.ModeShared}
			}
			return a.bench(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.items, "items", "n", 1000, "items per client and phase")
	fl.IntVarP(&f.clients, "clients", "c", 4, "concurrent clients (sessions)")
	fl.StringSliceVar(&f.phases, "phases", bench.AllPhases, "phases to run, in this fixed order: "+strings.Join(bench.AllPhases, ","))
	fl.StringSliceVar(&f.dirs, "dirs", []string{bench.ModeUnique}, "directory modes: unique (one per client), shared (one for all), or both")
	fl.BoolVar(&f.shared, "shared", false, "same as --dirs shared")
	fl.StringArrayVar(&f.targets, "target", nil, "target to benchmark: memkv, config:FILE, server:ADDR or NAME=SPEC (repeatable)")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON instead of the table")
	fl.StringVar(&f.plot, "plot", "", "draw ops/s per phase per target into this PNG file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.BoolVar(&f.keep, "keep", false, "keep the items made (the run directory) instead of removing them")
	fl.StringVar(&f.dir, "dir", "/fsmeta-bench", "directory the run directory is made in")
	return cmd
}

// benchTarget turns a --target spec into a bench.Target.
func (a *app) benchTarget(spec string) (bench.Target, error) {
	name, body := spec, spec
	if i := strings.Index(spec, "="); i > 0 && !strings.Contains(spec[:i], ":") {
		name, body = spec[:i], spec[i+1:]
	}
	kind, arg, _ := strings.Cut(body, ":")
	switch {
	case kind == "memkv" && arg == "":
		return memTarget(name), nil
	case kind == "config" && arg != "":
		cfg, err := hybrid.Load(arg)
		if err != nil {
			return bench.Target{}, err
		}
		if cfg.KVEngine.Type == hybrid.TypeMemKV {
			// One engine for all clients: memkv lives in the process.
			return memTarget(name), nil
		}
		return bench.Target{Name: name, NewClient: func(ctx context.Context) (meta.FS, error) {
			return openStore(ctx, arg, a.stderr)
		}}, nil
	case kind == "server" && arg != "":
		tc, err := a.tlsConfig()
		if err != nil {
			return bench.Target{}, err
		}
		return bench.Target{Name: name, NewClient: func(ctx context.Context) (meta.FS, error) {
			return a.dial(ctx, arg, tc, "fsmeta bench")
		}}, nil
	}
	return bench.Target{}, fmt.Errorf("--target %q: want memkv, config:FILE, server:ADDR or NAME=one of those", spec)
}

// memTarget is a new memkv engine whose clients are stores of their own
// over it.
func memTarget(name string) bench.Target {
	db := memkv.New(memkv.Options{})
	return bench.Target{
		Name: name,
		NewClient: func(ctx context.Context) (meta.FS, error) {
			return meta.Open(ctx, db, meta.Options{})
		},
		Close: db.Close,
	}
}

func (a *app) bench(ctx context.Context, f benchFlags) error {
	specs := f.targets
	if len(specs) == 0 {
		switch {
		case a.server != "":
			specs = []string{"server:" + a.server}
		case a.config != "":
			specs = []string{"config:" + a.config}
		default:
			specs = []string{"memkv"}
		}
	}
	if f.items < 1 || f.clients < 1 {
		return usageError{fmt.Errorf("-n and -c must be at least 1 (got %d and %d)", f.items, f.clients)}
	}
	var targets []bench.Target
	for _, s := range specs {
		t, err := a.benchTarget(s)
		if err != nil {
			return usageError{err}
		}
		targets = append(targets, t)
	}
	opts := bench.Options{
		Items: f.items, Clients: f.clients, Phases: f.phases, Modes: f.dirs,
		Cred: a.cred(), Dir: f.dir, Keep: f.keep,
	}
	if !f.quiet && isTerminal(a.stdout) && isTerminal(a.stderr) {
		opts.Progress = &barProgress{w: a.stderr}
	}
	rep, err := bench.Run(ctx, opts, targets)
	if err != nil {
		if errors.Is(err, bench.ErrInvalid) {
			return usageError{err}
		}
		a.failf("bench", "%v", err)
		return exitCode(1)
	}
	if f.asJSON {
		err = rep.WriteJSON(a.stdout)
	} else {
		fmt.Fprintf(a.stdout, "fsmeta bench: %d items x %d clients, %s directories\n", f.items, f.clients, strings.Join(rep.Modes, " and "))
		err = rep.WriteTable(a.stdout)
	}
	if err != nil {
		a.failf("bench", "write the report: %v", err)
		return exitCode(1)
	}
	if f.plot != "" {
		if err := rep.Plot(f.plot); err != nil {
			a.failf("bench", "%v", err)
			return exitCode(1)
		}
		if !f.asJSON {
			fmt.Fprintf(a.stdout, "plot: %s\n", f.plot)
		}
	}
	if !rep.OK() {
		return exitCode(1)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// barProgress draws a progress bar per phase.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(target, mode, phase string, total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-12s %-6s %-6s", target, mode, phase)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("ops"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

func (p *barProgress) Add(n int) { p.bar.Add(n) }

func (p *barProgress) Done() {
	p.bar.Finish()
	p.bar.Clear()
}
