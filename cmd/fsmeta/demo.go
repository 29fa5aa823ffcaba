package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
)

type demoConfig struct {
	dirs, files, workers, ops int
	seed                      uint64
}

type demoResult struct {
	buildOps, buildDur        int64
	churnOps, churnDur        int64
	renames, unlinks, expectd int64
	retries                   int64
	report                    *meta.Report
}

// demoCommand is "fsmeta demo". It parses its own flags with the standard
// library, as it always did, so "-dirs 20" keeps working.
func demoCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo [-dirs N] [-files N] [-workers N] [-ops N] [-seed N] [-config FILE]",
		Short: "Build a tree, churn it with concurrent renames and unlinks, run fsck",
		Long: `demo builds a tree of -dirs directories of -files files each on the embedded memkv
engine (or the engine a hybrid TOML -config names), runs -ops concurrent renames
and unlinks over it with -workers workers, checks the result with fsck and prints
a summary. It exits 1 if fsck finds a problem. Run "fsmeta demo -h" for its flags.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := demoCmd(cmd.Context(), args, a.stdout, a.stderr); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
}

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("demo", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var cfg demoConfig
	fl.IntVar(&cfg.dirs, "dirs", 100, "directories to create")
	fl.IntVar(&cfg.files, "files", 100, "files per directory")
	fl.IntVar(&cfg.workers, "workers", 8, "concurrent workers in the rename/unlink phase")
	fl.IntVar(&cfg.ops, "ops", 20000, "renames and unlinks in the concurrent phase")
	fl.Uint64Var(&cfg.seed, "seed", 1, "random seed")
	config := fl.String("config", "", "hybrid TOML config naming the engine (default: embedded memkv)")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "fsmeta demo: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if cfg.dirs < 1 || cfg.files < 1 || cfg.workers < 1 || cfg.ops < 0 {
		fmt.Fprintln(stderr, "fsmeta demo: -dirs, -files and -workers must be at least 1, -ops at least 0")
		return 2
	}
	engine := "memkv (embedded)"
	if *config != "" {
		engine = *config
	}
	db, err := openEngine(ctx, *config, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fsmeta demo: %v\n", err)
		return 1
	}
	defer db.Close()
	fmt.Fprintf(stdout, "fsmeta demo on %s: %d dirs x %d files, then %d renames/unlinks by %d workers\n",
		engine, cfg.dirs, cfg.files, cfg.ops, cfg.workers)
	res, err := runDemo(ctx, db, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "fsmeta demo: %v\n", err)
		return 1
	}
	rate := func(n, d int64) float64 { return float64(n) / (float64(d) / 1e9) }
	fmt.Fprintf(stdout, "build:   %d ops in %v (%.0f ops/s)\n", res.buildOps, time.Duration(res.buildDur).Round(time.Millisecond), rate(res.buildOps, res.buildDur))
	fmt.Fprintf(stdout, "churn:   %d ops in %v (%.0f ops/s): %d renames, %d unlinks, %d expected POSIX errors\n",
		res.churnOps, time.Duration(res.churnDur).Round(time.Millisecond), rate(res.churnOps, res.churnDur), res.renames, res.unlinks, res.expectd)
	fmt.Fprintf(stdout, "retries: %d transaction retries (conflicts resolved by the retry loop)\n", res.retries)
	r := res.report
	fmt.Fprintf(stdout, "fsck:    %d inodes, %d directories, %d entries: ", r.Inodes, r.Dirs, r.Entries)
	if !r.OK() {
		fmt.Fprintf(stdout, "%d PROBLEMS\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(stdout, "  %v\n", p)
		}
		return 1
	}
	fmt.Fprintln(stdout, "clean")
	return 0
}

// runDemo builds the tree and churns it. Errors that POSIX allows for the
// race (the source vanished, the target is a directory that filled up) are
// counted; any other error ends the demo.
func runDemo(ctx context.Context, db kv.Engine, cfg demoConfig) (*demoResult, error) {
	s, err := meta.Open(ctx, db, meta.Options{})
	if err != nil {
		return nil, err
	}
	c := meta.RootCred()
	res := &demoResult{}
	// A directory of its own, so that the demo runs again on an engine
	// that keeps what an earlier run left.
	top, err := s.Mkdir(ctx, c, inode.RootIno, fmt.Sprintf("demo-%d", time.Now().UnixNano()), 0o755)
	if err != nil {
		return nil, err
	}
	dirs := make([]uint64, cfg.dirs)
	start := time.Now()
	var ops atomic.Int64
	err = parallel(cfg.workers, cfg.dirs, func(i int) error {
		a, err := s.Mkdir(ctx, c, top.Ino, fmt.Sprintf("d%03d", i), 0o755)
		if err != nil {
			return err
		}
		dirs[i] = a.Ino
		ops.Add(1)
		for j := 0; j < cfg.files; j++ {
			if _, err := s.Create(ctx, c, a.Ino, fmt.Sprintf("f%04d", j), 0o644, true); err != nil {
				return err
			}
			ops.Add(1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	res.buildOps, res.buildDur = ops.Load(), int64(time.Since(start))

	retriesBefore := s.Retries()
	start = time.Now()
	var renames, unlinks, expected atomic.Int64
	per := cfg.ops / cfg.workers
	err = parallel(cfg.workers, cfg.workers, func(w int) error {
		rng := rand.New(rand.NewPCG(cfg.seed, uint64(w)))
		name := func() string { return fmt.Sprintf("f%04d", rng.IntN(cfg.files)) }
		dir := func() uint64 { return dirs[rng.IntN(len(dirs))] }
		for i := 0; i < per; i++ {
			var err error
			if rng.IntN(4) == 0 {
				err = s.Unlink(ctx, c, dir(), name())
				if err == nil {
					unlinks.Add(1)
				}
			} else {
				err = s.Rename(ctx, c, dir(), name(), dir(), name(), 0)
				if err == nil {
					renames.Add(1)
				}
			}
			if errors.Is(err, syscall.ENOENT) {
				expected.Add(1) // the source was renamed or unlinked by another worker
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("churn: %w", err)
	}
	res.churnOps, res.churnDur = int64(per*cfg.workers), int64(time.Since(start))
	res.renames, res.unlinks, res.expectd = renames.Load(), unlinks.Load(), expected.Load()
	res.retries = s.Retries() - retriesBefore
	if res.report, err = s.Check(ctx); err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	return res, nil
}

// parallel runs fn(0..n-1) on w goroutines and returns the first error.
func parallel(w, n int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
