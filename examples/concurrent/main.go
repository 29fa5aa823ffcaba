// Command concurrent shows fsmeta's transactions under contention: many
// goroutines rename, unlink and create files at random in one small shared
// tree on the embedded memkv engine. Operations that touch the same keys
// conflict; the retry loop re-runs them, and POSIX errors the race allows
// (another goroutine renamed or unlinked the file first, or created the
// name first) are counted. At
// the end fsck proves the tree is consistent: every entry names a live
// inode and every link count and directory counter is exact.
//
//	go run ./examples/concurrent [-workers 8] [-ops 4000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

// config sizes the run.
type config struct {
	dirs, files, workers, ops int
}

func main() {
	cfg := config{dirs: 4, files: 16}
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent goroutines")
	flag.IntVar(&cfg.ops, "ops", 4000, "renames and unlinks in all")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "concurrent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, cfg config) error {
	db := memkv.New(memkv.Options{})
	defer db.Close()
	store, err := meta.Open(ctx, db, meta.Options{})
	if err != nil {
		return err
	}
	c := meta.RootCred()

	// The shared tree: /d0../d3, each with f0..f15.
	var dirs []uint64
	for i := range cfg.dirs {
		d, err := store.Mkdir(ctx, c, inode.RootIno, fmt.Sprintf("d%d", i), 0o755)
		if err != nil {
			return err
		}
		for j := range cfg.files {
			if _, err := store.Create(ctx, c, d.Ino, fmt.Sprintf("f%d", j), 0o644, true); err != nil {
				return err
			}
		}
		dirs = append(dirs, d.Ino)
	}
	fmt.Fprintf(w, "tree: %d directories x %d files; %d goroutines doing %d renames, unlinks and creates\n",
		cfg.dirs, cfg.files, cfg.workers, cfg.ops)

	var n counts
	var wg sync.WaitGroup
	errs := make(chan error, cfg.workers)
	for g := range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := churn(ctx, store, c, dirs, cfg, uint64(g), &n); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	fmt.Fprintf(w, "renamed %d, unlinked %d, created %d; lost the race %d times (ENOENT or EEXIST)\n",
		n.renamed.Load(), n.unlinked.Load(), n.created.Load(), n.raced.Load())
	fmt.Fprintf(w, "transaction retries: %d (conflicts the retry loop resolved)\n", store.Retries())
	r, err := store.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "fsck: %d inodes, %d directories, %d entries, clean: %v\n", r.Inodes, r.Dirs, r.Entries, r.OK())
	if !r.OK() {
		return fmt.Errorf("fsck found %d problems: %v", len(r.Problems), r.Problems)
	}
	return nil
}

// counts are the outcomes of all goroutines' operations.
type counts struct {
	renamed, unlinked, created, raced atomic.Int64
}

// churn is one goroutine's share of the operations. It only needs meta.FS.
func churn(ctx context.Context, fsys meta.FS, c meta.Cred, dirs []uint64, cfg config, seed uint64, n *counts) error {
	rng := rand.New(rand.NewPCG(seed, 42))
	file := func() string { return fmt.Sprintf("f%d", rng.IntN(cfg.files)) }
	dir := func() uint64 { return dirs[rng.IntN(len(dirs))] }
	for range cfg.ops / cfg.workers {
		var err error
		var done *atomic.Int64
		switch rng.IntN(4) {
		case 0:
			done = &n.unlinked
			err = fsys.Unlink(ctx, c, dir(), file())
		case 1:
			done = &n.created
			_, err = fsys.Create(ctx, c, dir(), file(), 0o644, true)
		default:
			// Over an existing name the target is replaced, as rename(2) does.
			done = &n.renamed
			err = fsys.Rename(ctx, c, dir(), file(), dir(), file(), 0)
		}
		switch {
		case err == nil:
			done.Add(1)
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrExist):
			n.raced.Add(1)
		default:
			return err
		}
	}
	return nil
}
