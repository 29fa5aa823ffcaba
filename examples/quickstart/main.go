// Command quickstart is the first fsmeta program to read: a filesystem
// namespace on the embedded memkv engine, then mkdir, create, rename,
// readdir, stat, a POSIX error and fsck.
//
//	go run ./examples/quickstart
//
// The tour is written against meta.FS, so it runs unchanged on the
// in-process *meta.Store used here or on a meta server's client
// (metarpc/client.Dial). examples/customkv runs it on the custom KV server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	db := memkv.New(memkv.Options{}) // in memory, gone when the process ends
	defer db.Close()
	store, err := meta.Open(ctx, db, meta.Options{}) // formats the empty engine
	if err != nil {
		return err
	}
	return tour(ctx, store, w)
}

// tour makes a few files and shows what the filesystem says about them.
func tour(ctx context.Context, fsys meta.FS, w io.Writer) error {
	c := meta.RootCred() // uid 0: no permission checks get in the way

	// By inode, as a FUSE daemon calls it: parent inode + name.
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
	// One atomic transaction, however many clients race on these names.
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

	// By path: Stat follows the symlink, as stat(2) does.
	a, err := fsys.Stat(ctx, c, "/docs/latest")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stat /docs/latest: %v, %d bytes, %d link\n", a.FileMode(), a.Size, a.Nlink)
	d, err := fsys.Stat(ctx, c, "/docs")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stat /docs: %v, %d entries, nlink %d\n", d.FileMode(), d.Entries, d.Nlink)

	// Errors are *fs.PathError wrapping a syscall.Errno.
	_, err = fsys.Mkdir(ctx, c, inode.RootIno, "docs", 0o755)
	fmt.Fprintf(w, "mkdir /docs again: %v\n", err)
	fmt.Fprintf(w, "  errors.Is(err, fs.ErrExist) = %v, errno EEXIST = %v\n",
		errors.Is(err, fs.ErrExist), meta.Errno(err) == syscall.EEXIST)
	_, err = fsys.Stat(ctx, c, "/docs/draft.txt")
	fmt.Fprintf(w, "stat the old name: errors.Is(err, fs.ErrNotExist) = %v\n", errors.Is(err, fs.ErrNotExist))

	// fsck: every entry names a live inode, link counts and directory
	// counters equal the truth.
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
