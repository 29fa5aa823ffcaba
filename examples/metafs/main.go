// Command metafs mounts a filesystem whose namespace and attributes live in
// fsmeta's meta store, over any engine (memkv by default), with FUSE:
//
//	metafs [-config FILE] [-data DIR] [flags] MOUNTPOINT
//
// File contents go to DIR, one file per inode (a stand-in for a storage
// service); without -data they go to a temporary directory removed at
// exit. The mount is unmounted on SIGINT or SIGTERM, lazily if it is still
// busy after -busy-wait, and metafs exits when it is unmounted from outside
// (fusermount3 -u MOUNTPOINT). It logs "mounted" with the mount point once
// the mount is ready.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run mounts and serves until ctx ends or the mount goes away.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("metafs", flag.ContinueOnError)
	fl.SetOutput(stderr)
	config := fl.String("config", "", "hybrid TOML `file` naming the KV engine (default: in-memory memkv)")
	data := fl.String("data", "", "`directory` for file contents (default: a temporary directory, removed at exit)")
	attr := fl.Duration("attr-timeout", time.Second, "how long the kernel may cache attributes (0: ask meta every time)")
	entry := fl.Duration("entry-timeout", time.Second, "how long the kernel may cache name lookups")
	allowOther := fl.Bool("allow-other", true, "let every user use the mount (meta checks permissions)")
	debug := fl.Bool("debug", false, "log every FUSE request")
	busyWait := fl.Duration("busy-wait", 5*time.Second, "at a signal, how long to retry a busy unmount before unmounting lazily")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: metafs [flags] MOUNTPOINT")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	dir := fl.Arg(0)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	fail := func(msg string, err error) int {
		log.Error(msg, "err", err)
		return 1
	}

	var db kv.Engine = memkv.New(memkv.Options{})
	if *config != "" {
		var err error
		if db, err = hybrid.OpenFile(ctx, *config); err != nil {
			return fail("open engine", err)
		}
	}
	defer db.Close()
	store, err := meta.Open(ctx, db, meta.Options{})
	if err != nil {
		return fail("open store", err)
	}
	defer store.Shutdown(context.Background())
	if *data == "" {
		tmp, err := os.MkdirTemp("", "metafs-data-")
		if err != nil {
			return fail("data directory", err)
		}
		defer os.RemoveAll(tmp)
		*data = tmp
	}
	srv, err := mount.Mount(ctx, store, dir, mount.Options{
		DataDir:      *data,
		AttrTimeout:  *attr,
		EntryTimeout: *entry,
		AllowOther:   *allowOther,
		Debug:        *debug,
		Logger:       log,
	})
	if err != nil {
		return fail("mount", err)
	}
	log.Info("mounted", "dir", dir, "data", *data)

	unmounted := make(chan struct{})
	go func() { srv.Wait(); close(unmounted) }()
	select {
	case <-unmounted:
		log.Info("unmounted from outside", "dir", dir)
		return 0
	case <-ctx.Done():
	}
	log.Info("signal: unmounting", "dir", dir)
	deadline := time.Now().Add(*busyWait)
	for {
		err := srv.Unmount()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log.Warn("mount still busy; unmounting lazily", "err", err)
			if out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput(); err != nil {
				return fail("lazy unmount", fmt.Errorf("%w: %s", err, out))
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case <-unmounted:
	case <-time.After(time.Minute):
		return fail("unmount", errors.New("server still running a minute after the unmount"))
	}
	log.Info("unmounted", "dir", dir)
	return 0
}
