// Command customkv runs the quickstart's tour on the project's own
// transactional KV server instead of the embedded engine: it starts the
// server in process on a free loopback port with a temporary data
// directory, connects the customkv client to it, and works through it.
// Then it restarts the server on the same directory to show that every
// acknowledged commit survived.
//
//	go run ./examples/customkv
//
// In production the server is its own process (cmd/kvserver) and the
// client names it in a hybrid TOML config:
//
//	[kv_engine]
//	kv_engine_type = "custom"
//	[kv_engine.custom_kv]
//	cluster_endpoints = ["127.0.0.1:9090"]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"syscall"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

func main() {
	dir, err := os.MkdirTemp("", "fsmeta-customkv-")
	if err == nil {
		err = run(context.Background(), os.Stdout, dir)
		os.RemoveAll(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "customkv:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, dataDir string) error {
	kvs, addr, err := startServer(dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "kv server on %s, data in %s\n", addr, dataDir)
	err = withStore(ctx, addr, func(store *meta.Store) error { return tour(ctx, store, w) })
	if err := errors.Join(err, kvs.Shutdown(ctx)); err != nil {
		return err
	}

	// Restart on the same data directory: the write-ahead log brings back
	// what was committed.
	if kvs, addr, err = startServer(dataDir); err != nil {
		return err
	}
	fmt.Fprintln(w, "restarted the kv server")
	err = withStore(ctx, addr, func(store *meta.Store) error {
		ents, err := store.ReadDirAll(ctx, meta.RootCred(), inode.RootIno)
		for _, e := range ents {
			fmt.Fprintf(w, "/%s is still there\n", e.Name)
		}
		return err
	})
	return errors.Join(err, kvs.Shutdown(ctx))
}

// startServer opens the KV server on dataDir and serves it on a free
// loopback port.
func startServer(dataDir string) (*server.Server, string, error) {
	kvs, err := server.Open(server.Config{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, "", err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		kvs.Shutdown(context.Background())
		return nil, "", err
	}
	go kvs.Serve(lis)
	return kvs, lis.Addr().String(), nil
}

// withStore connects a client to the server at addr and runs fn on the
// filesystem there.
func withStore(ctx context.Context, addr string, fn func(*meta.Store) error) error {
	db, err := customkv.Open(ctx, customkv.Options{
		Endpoints: []string{addr},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := meta.Open(ctx, db, meta.Options{}) // formats an empty server
	if err != nil {
		return err
	}
	return fn(store)
}

// tour is the quickstart's, unchanged: it only knows meta.FS.
func tour(ctx context.Context, fsys meta.FS, w io.Writer) error {
	c := meta.RootCred()
	docs, err := fsys.Mkdir(ctx, c, inode.RootIno, "docs", 0o755)
	if err != nil {
		return err
	}
	if _, err := fsys.Create(ctx, c, docs.Ino, "draft.txt", 0o644, true); err != nil {
		return err
	}
	if _, err := fsys.Symlink(ctx, c, docs.Ino, "latest", "final.txt"); err != nil {
		return err
	}
	if err := fsys.Rename(ctx, c, docs.Ino, "draft.txt", docs.Ino, "final.txt", 0); err != nil {
		return err
	}
	ents, err := fsys.ReadDirAll(ctx, c, docs.Ino)
	if err != nil {
		return err
	}
	for _, e := range ents {
		fmt.Fprintf(w, "/docs/%s (%v)\n", e.Name, e.Type)
	}
	a, err := fsys.Stat(ctx, c, "/docs/latest")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stat /docs/latest: %v, %d bytes, %d link\n", a.FileMode(), a.Size, a.Nlink)
	_, err = fsys.Mkdir(ctx, c, inode.RootIno, "docs", 0o755)
	fmt.Fprintf(w, "mkdir /docs again: errors.Is(err, fs.ErrExist) = %v, errno EEXIST = %v\n",
		errors.Is(err, fs.ErrExist), meta.Errno(err) == syscall.EEXIST)
	r, err := fsys.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "fsck: %d inodes, %d directories, %d entries, clean: %v\n", r.Inodes, r.Dirs, r.Entries, r.OK())
	if !r.OK() {
		return fmt.Errorf("fsck found %d problems: %v", len(r.Problems), r.Problems)
	}
	return nil
}
