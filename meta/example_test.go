package meta_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

// openExample opens a fresh filesystem on the embedded engine.
func openExample() *meta.Store {
	s, err := meta.Open(context.Background(), memkv.New(memkv.Options{}), meta.Options{})
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleOpen() {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	defer db.Close()
	// Two filesystems in one engine, under different roots.
	home, err := meta.Open(ctx, db, meta.Options{})
	if err != nil {
		panic(err)
	}
	if _, err := home.Mkdir(ctx, meta.RootCred(), inode.RootIno, "only-here", 0o755); err != nil {
		panic(err)
	}
	reopened, _ := meta.Open(ctx, db, meta.Options{NoCreate: true})
	ents, _ := reopened.ReadDirAll(ctx, meta.RootCred(), inode.RootIno)
	fmt.Println("reopened:", len(ents), "entry")
	_, err = meta.Open(ctx, db, meta.Options{NoCreate: true, Root: home.Layout().Root().Sub("other")})
	fmt.Println(errors.Is(err, meta.ErrNotFormatted))
	// Output:
	// reopened: 1 entry
	// true
}

func ExampleStore_Mkdir() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	d, _ := s.Mkdir(ctx, c, inode.RootIno, "docs", 0o755)
	fmt.Printf("%v nlink=%d mode=%v\n", d.Type, d.Nlink, d.FileMode())
	r, _ := s.GetAttr(ctx, c, inode.RootIno)
	fmt.Println("root nlink:", r.Nlink)
	_, err := s.Mkdir(ctx, c, inode.RootIno, "docs", 0o755)
	fmt.Println(err != nil, errors.Is(err, fs.ErrExist), meta.Errno(err) == syscall.EEXIST)
	// Output:
	// dir nlink=2 mode=drwxr-xr-x
	// root nlink: 3
	// true true true
}

func ExampleStore_Create() {
	ctx := context.Background()
	s := openExample()
	alice := meta.Cred{Uid: 1000, Gid: 1000}
	// The root is 0755 and owned by root: alice may not write there.
	_, err := s.Create(ctx, alice, inode.RootIno, "notes", 0o644, true)
	fmt.Println(meta.Errno(err))
	f, _ := s.Create(ctx, meta.RootCred(), inode.RootIno, "notes", 0o644, true)
	// Without excl an existing file is returned as it is, like O_CREAT.
	again, _ := s.Create(ctx, alice, inode.RootIno, "notes", 0o600, false)
	fmt.Println(again.Ino == f.Ino, again.FileMode())
	// Output:
	// permission denied
	// true -rw-r--r--
}

func ExampleStore_Rename() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	src, _ := s.Mkdir(ctx, c, inode.RootIno, "src", 0o755)
	dst, _ := s.Mkdir(ctx, c, inode.RootIno, "dst", 0o755)
	s.Create(ctx, c, src.Ino, "a", 0o644, true)
	s.Create(ctx, c, dst.Ino, "b", 0o644, true)

	err := s.Rename(ctx, c, src.Ino, "a", dst.Ino, "b", meta.RenameNoReplace)
	fmt.Println("noreplace:", meta.Errno(err))
	err = s.Rename(ctx, c, inode.RootIno, "src", src.Ino, "x", 0)
	fmt.Println("into itself:", meta.Errno(err))
	err = s.Rename(ctx, c, src.Ino, "a", dst.Ino, "b", meta.RenameExchange)
	fmt.Println("exchange:", err)
	err = s.Rename(ctx, c, src.Ino, "a", dst.Ino, "b", 0) // replaces b
	fmt.Println("replace:", err)
	ents, _ := s.ReadDirAll(ctx, c, dst.Ino)
	for _, e := range ents {
		fmt.Println(e.Name, e.Type)
	}
	// Output:
	// noreplace: file exists
	// into itself: invalid argument
	// exchange: <nil>
	// replace: <nil>
	// b file
}

func ExampleStore_Unlink() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	f, _ := s.Create(ctx, c, inode.RootIno, "tmpfile", 0o600, true)
	h, _ := s.Open(ctx, c, f.Ino, meta.ORdWr)
	s.Unlink(ctx, c, inode.RootIno, "tmpfile")
	a, err := s.GetAttr(ctx, c, f.Ino)
	fmt.Println("open:", a.Nlink, err)
	s.Close(ctx, h)
	_, err = s.GetAttr(ctx, c, f.Ino)
	fmt.Println("closed:", errors.Is(err, fs.ErrNotExist))
	// Output:
	// open: 0 <nil>
	// closed: true
}

func ExampleStore_Stat() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	s.MkdirAll(ctx, c, "/usr/share/doc", 0o755)
	usr, _ := s.Lookup(ctx, c, inode.RootIno, "usr")
	s.Symlink(ctx, c, usr.Ino, "doc", "share/doc")
	a, _ := s.Stat(ctx, c, "/usr/doc/")
	l, _ := s.Lstat(ctx, c, "/usr/doc")
	fmt.Println(a.FileMode(), l.FileMode(), l.Size)
	_, err := s.Stat(ctx, c, "/usr/missing")
	fmt.Println(err)
	// Output:
	// drwxr-xr-x Lrwxrwxrwx 9
	// stat /usr/missing: no such file or directory
}

func ExampleStore_ReadDir() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	for _, n := range []string{"e", "d", "c", "b", "a"} {
		s.Create(ctx, c, inode.RootIno, n, 0o644, true)
	}
	cursor := ""
	for {
		ents, next, _ := s.ReadDir(ctx, c, inode.RootIno, cursor, 2)
		for _, e := range ents {
			fmt.Print(e.Name, " ")
		}
		fmt.Println("|")
		if next == "" {
			break
		}
		cursor = next
	}
	// Output:
	// a b |
	// c d |
	// e |
}

func ExampleStore_Walk() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	s.MkdirAll(ctx, c, "/src/kv", 0o755)
	s.MkdirAll(ctx, c, "/src/meta/testdata", 0o755)
	s.MkdirAll(ctx, c, "/vendor/x", 0o755)
	s.Walk(ctx, c, "/", func(p string, a meta.Attr, err error) error {
		if err != nil {
			return err
		}
		if p == "/vendor" {
			return meta.SkipDir
		}
		fmt.Println(p)
		return nil
	})
	// Output:
	// /
	// /src
	// /src/kv
	// /src/meta
	// /src/meta/testdata
}

func ExampleStore_Check() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	s.MkdirAll(ctx, c, "/a/b", 0o755)
	a, _ := s.Lookup(ctx, c, inode.RootIno, "a")
	f, _ := s.Create(ctx, c, a.Ino, "f", 0o644, true)
	s.Link(ctx, c, f.Ino, inode.RootIno, "f2")
	rep, err := s.Check(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("ok=%v inodes=%d dirs=%d entries=%d\n", rep.OK(), rep.Inodes, rep.Dirs, rep.Entries)
	for _, p := range rep.Problems {
		fmt.Println(p)
	}
	// Output:
	// ok=true inodes=4 dirs=3 entries=4
}

func ExampleErrno() {
	ctx := context.Background()
	s := openExample()
	err := s.Rmdir(ctx, meta.RootCred(), inode.RootIno, "missing")
	fmt.Println(meta.Errno(err) == syscall.ENOENT, errors.Is(err, fs.ErrNotExist))
	var pe *fs.PathError
	fmt.Println(errors.As(err, &pe), pe.Op)
	fmt.Println(meta.Errno(nil))
	// Output:
	// true true
	// true rmdir
	// errno 0
}

func ExampleStore_SetXattr() {
	ctx := context.Background()
	s := openExample()
	c := meta.RootCred()
	f, _ := s.Create(ctx, c, inode.RootIno, "doc", 0o644, true)
	s.SetXattr(ctx, c, f.Ino, "user.mime", []byte("text/plain"), meta.XattrCreate)
	err := s.SetXattr(ctx, c, f.Ino, "user.mime", []byte("text/html"), meta.XattrCreate)
	fmt.Println("create again:", meta.Errno(err) == syscall.EEXIST)
	v, _ := s.GetXattr(ctx, c, f.Ino, "user.mime")
	names, _ := s.ListXattr(ctx, c, f.Ino)
	fmt.Println(string(v), names)
	_, err = s.GetXattr(ctx, c, f.Ino, "user.missing")
	fmt.Println("missing:", meta.Errno(err) == syscall.ENODATA)
	// Output:
	// create again: true
	// text/plain [user.mime]
	// missing: true
}

func ExampleStore_SetLk() {
	ctx := context.Background()
	s := openExample()
	defer s.Shutdown(ctx) // ends the default session: its handles and locks go
	c := meta.RootCred()
	f, _ := s.Create(ctx, c, inode.RootIno, "db", 0o644, true)
	h, _ := s.Open(ctx, c, f.Ino, meta.ORdWr)
	// Owner 1 write-locks bytes 0-99; owner 2 cannot read-lock byte 50.
	s.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 0, End: 99, Owner: 1, Pid: 100}, false)
	err := s.SetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 50, End: 50, Owner: 2}, false)
	fmt.Println("conflict:", meta.Errno(err) == syscall.EAGAIN)
	holder, _ := s.GetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 50, End: 50, Owner: 2})
	fmt.Println("held by pid", holder.Pid, "bytes", holder.Start, "to", holder.End)
	// Unlocking the middle splits the range.
	s.SetLk(ctx, h, meta.Lock{Type: meta.LockUnlock, Start: 40, End: 59, Owner: 1}, false)
	ls, _ := s.Locks(ctx, f.Ino)
	for _, l := range ls {
		fmt.Println(l.Start, l.End)
	}
	// Output:
	// conflict: true
	// held by pid 100 bytes 0 to 99
	// 0 39
	// 60 99
}
