package metatest

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

var _ = register(
	testCase{name: "Lookup/DotAndDotDot", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		e := mkdir(t, f, rootCred, d.Ino, "e", 0o755)
		require.Equal(t, d.Ino, lookup(t, f, d.Ino, ".").Ino)
		require.Equal(t, uint64(root), lookup(t, f, root, ".").Ino)
		require.Equal(t, d.Ino, lookup(t, f, e.Ino, "..").Ino)
		require.Equal(t, uint64(root), lookup(t, f, d.Ino, "..").Ino)
		a := lookup(t, f, root, "..")
		require.Equal(t, uint64(root), a.Ino, "the root's .. is the root")
		require.True(t, a.IsDir())
	}},
	testCase{name: "Lookup/UnderFile_ENOTDIR", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		for _, name := range []string{"x", ".", ".."} {
			_, err := f.Lookup(ctx, rootCred, fl.Ino, name)
			requirePathErr(t, err, syscall.ENOTDIR)
		}
	}},
	testCase{name: "Lookup/Missing_ENOENT", fn: func(t *testing.T, f meta.FS) {
		_, err := f.Lookup(ctx, rootCred, root, "missing")
		requirePathErr(t, err, syscall.ENOENT)
		require.True(t, errors.Is(err, fs.ErrNotExist))
		var pe *fs.PathError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, "lookup", pe.Op)
		require.Equal(t, "#1/missing", pe.Path)
		_, err = f.Lookup(ctx, rootCred, 424242, "x")
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Lookup/WithoutSearchPermission_EACCES", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		d := mkdir(t, f, alice, h, "d", 0o755)
		create(t, f, alice, d.Ino, "f", 0o644)
		chmod(t, f, d.Ino, 0o644)
		_, err := f.Lookup(ctx, alice, d.Ino, "f")
		requirePathErr(t, err, syscall.EACCES)
		_, err = f.Stat(ctx, alice, "/home-1000/d/f")
		requirePathErr(t, err, syscall.EACCES)
		_, err = f.Lookup(ctx, rootCred, d.Ino, "f")
		require.NoError(t, err, "root bypasses")
	}},
	testCase{name: "Lookup/SupplementaryGroupGrantsSearch", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o750)
		_, err := f.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Gid: ptr[uint32](3000)})
		require.NoError(t, err)
		create(t, f, rootCred, d.Ino, "f", 0o644)
		_, err = f.Lookup(ctx, alice, d.Ino, "f")
		requirePathErr(t, err, syscall.EACCES)
		member := meta.Cred{Uid: alice.Uid, Gid: alice.Gid, Groups: []uint32{7, 3000}}
		_, err = f.Lookup(ctx, member, d.Ino, "f")
		require.NoError(t, err, "the groups travel with the credential")
	}},

	testCase{name: "Create/ExistingName_EEXIST", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "file", 0o644)
		mkdir(t, f, rootCred, root, "dir", 0o755)
		for op, fn := range makeOps(f, fl.Ino) {
			for _, name := range []string{"file", "dir"} {
				err, link := fn(rootCred, root, name)
				requireOpErr(t, err, link, syscall.EEXIST)
			}
			_ = op
		}
		require.EqualValues(t, 1, getattr(t, f, fl.Ino).Nlink)
	}},
	testCase{name: "Create/ParentMissing_ENOENT", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "file", 0o644)
		gone := mkdir(t, f, rootCred, root, "gone", 0o755)
		require.NoError(t, f.Rmdir(ctx, rootCred, root, "gone"))
		for op, fn := range makeOps(f, fl.Ino) {
			err, link := fn(rootCred, gone.Ino, "x")
			requireOpErr(t, err, link, syscall.ENOENT)
			_ = op
		}
	}},
	testCase{name: "Create/ParentIsFile_ENOTDIR", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "file", 0o644)
		for _, fn := range makeOps(f, fl.Ino) {
			err, link := fn(rootCred, fl.Ino, "x")
			requireOpErr(t, err, link, syscall.ENOTDIR)
		}
	}},
	testCase{name: "Create/WithoutWritePermission_EACCES", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "file", 0o644)
		ro := mkdir(t, f, rootCred, root, "ro", 0o755)
		for op, fn := range makeOps(f, fl.Ino) {
			err, link := fn(alice, ro.Ino, "x")
			requireOpErr(t, err, link, syscall.EACCES)
			err, _ = fn(rootCred, ro.Ino, op)
			require.NoError(t, err, "root bypasses")
		}
	}},
	testCase{name: "Create/WithoutSearchPermission_EACCES", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "file", 0o644)
		nx := mkdir(t, f, rootCred, root, "nx", 0o776)
		for _, fn := range makeOps(f, fl.Ino) {
			err, link := fn(alice, nx.Ino, "x")
			requireOpErr(t, err, link, syscall.EACCES)
		}
		require.Empty(t, names(t, f, nx.Ino))
	}},
	testCase{name: "Create/ExistingNameInReadOnlyDir_EEXIST", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "file", 0o644)
		ro := mkdir(t, f, rootCred, root, "ro", 0o755)
		create(t, f, rootCred, ro.Ino, "taken", 0o644)
		for _, fn := range makeOps(f, fl.Ino) {
			err, link := fn(alice, ro.Ino, "taken")
			requireOpErr(t, err, link, syscall.EEXIST)
		}
	}},
	testCase{name: "Create/WithoutExclReturnsExisting", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o600)
		a, err := f.Create(ctx, rootCred, root, "f", 0o644, false)
		require.NoError(t, err)
		require.Equal(t, fl.Ino, a.Ino)
		require.EqualValues(t, 0o600, a.Mode, "O_CREAT of an existing file changes nothing")
		require.Equal(t, []string{"f"}, names(t, f, root))
		mkdir(t, f, rootCred, root, "d", 0o755)
		_, err = f.Create(ctx, rootCred, root, "d", 0o644, false)
		requirePathErr(t, err, syscall.EISDIR)
		// open(O_CREAT) of an existing file needs no write permission.
		ro := mkdir(t, f, rootCred, root, "ro", 0o755)
		g := create(t, f, rootCred, ro.Ino, "g", 0o644)
		a, err = f.Create(ctx, alice, ro.Ino, "g", 0o644, false)
		require.NoError(t, err)
		require.Equal(t, g.Ino, a.Ino)
		_, err = f.Create(ctx, alice, ro.Ino, "new", 0o644, false)
		requirePathErr(t, err, syscall.EACCES)
	}},
	testCase{name: "Create/OwnerModeAndTimes", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl, err := f.Create(ctx, alice, h, "f", inode.ModeIFREG|0o4640, true)
		require.NoError(t, err)
		got := getattr(t, f, fl.Ino)
		require.Equal(t, fl, got, "Create returns what GetAttr reports")
		require.Equal(t, inode.TypeFile, got.Type)
		require.EqualValues(t, 0o4640, got.Mode)
		require.EqualValues(t, 1000, got.Uid)
		require.EqualValues(t, 1000, got.Gid)
		require.EqualValues(t, 1, got.Nlink)
		require.Zero(t, got.Size)
		require.Equal(t, got.Mtime, got.Ctime)
		require.Equal(t, got.Mtime, got.Atime)
		p := getattr(t, f, h)
		require.False(t, p.Mtime.Before(got.Mtime), "parent mtime raised to the child's")
		require.False(t, p.Ctime.Before(got.Mtime), "parent ctime raised to the child's")
		require.EqualValues(t, 1, p.Entries)
	}},
	testCase{name: "Create/InSetgidDirectoryTakesItsGroup", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "shared", 0o777)
		_, err := f.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Gid: ptr[uint32](50), Mode: ptr[uint32](0o2777)})
		require.NoError(t, err)
		fl := create(t, f, alice, d.Ino, "f", 0o644)
		require.EqualValues(t, 50, fl.Gid)
		sub := mkdir(t, f, alice, d.Ino, "sub", 0o755)
		require.EqualValues(t, 50, sub.Gid)
		require.EqualValues(t, 0o2755, sub.Mode, "subdirectories inherit setgid")
	}},
	testCase{name: "Mkdir/ModeBitsAndNlink", fn: func(t *testing.T, f meta.FS) {
		for mode, want := range map[uint32]uint32{0o2755: 0o755, 0o4755: 0o755, 0o1777: 0o1777, 0o7777: 0o1777} {
			d, err := f.Mkdir(ctx, rootCred, root, fmt.Sprintf("d%o", mode), mode)
			require.NoError(t, err)
			require.Equal(t, want, d.Mode, "mkdir %#o", mode)
			require.Equal(t, want, getattr(t, f, d.Ino).Mode)
		}
		require.EqualValues(t, 6, getattr(t, f, root).Nlink)
		d := mkdir(t, f, alice, home(t, f, alice), "d", 0o750)
		require.EqualValues(t, 2, d.Nlink)
		got := getattr(t, f, d.Ino)
		require.EqualValues(t, 2, got.Nlink)
		require.True(t, got.IsDir())
		require.EqualValues(t, 1000, got.Uid)
		require.Zero(t, got.Entries)
		mkdir(t, f, rootCred, d.Ino, "e", 0o755)
		create(t, f, rootCred, d.Ino, "file", 0o644)
		require.EqualValues(t, 3, getattr(t, f, d.Ino).Nlink, "a subdirectory counts, a file does not")
		require.EqualValues(t, 2, getattr(t, f, d.Ino).Entries)
		require.EqualValues(t, 7, getattr(t, f, root).Nlink, "a grandchild does not count")
	}},
	testCase{name: "Symlink/ModeAndReadlinkExact", fn: func(t *testing.T, f meta.FS) {
		target := "../x//y/./z\xff with spaces/"
		l, err := f.Symlink(ctx, alice, home(t, f, alice), "l", target)
		require.NoError(t, err)
		require.Equal(t, inode.TypeSymlink, l.Type)
		require.EqualValues(t, 0o777, l.Mode)
		require.EqualValues(t, len(target), l.Size)
		got, err := f.Readlink(ctx, alice, l.Ino)
		require.NoError(t, err)
		require.Equal(t, target, got, "targets are bytes, not UTF-8")
	}},
	testCase{name: "Symlink/Errors", fn: func(t *testing.T, f meta.FS) {
		_, err := f.Symlink(ctx, rootCred, root, "l", "")
		requirePathErr(t, err, syscall.EINVAL)
		for _, n := range []int{4096, 4097} {
			_, err := f.Symlink(ctx, rootCred, root, "l", strings.Repeat("t", n))
			requirePathErr(t, err, syscall.ENAMETOOLONG)
		}
		require.Empty(t, names(t, f, root))
		long := strings.Repeat("t", 4095)
		l := symlink(t, f, root, "l", long)
		got, err := f.Readlink(ctx, rootCred, l.Ino)
		require.NoError(t, err)
		require.Equal(t, long, got)
	}},
	testCase{name: "Readlink/NotSymlink_EINVAL", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		for _, ino := range []uint64{fl.Ino, root} {
			_, err := f.Readlink(ctx, rootCred, ino)
			requirePathErr(t, err, syscall.EINVAL)
		}
		_, err := f.Readlink(ctx, rootCred, 424242)
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Mknod/Types", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		for _, tc := range []struct {
			mode uint32
			want inode.Type
		}{
			{syscall.S_IFIFO | 0o644, inode.TypeFIFO},
			{syscall.S_IFSOCK | 0o644, inode.TypeSocket},
			{syscall.S_IFREG | 0o644, inode.TypeFile},
			{0o644, inode.TypeFile},
		} {
			a, err := f.Mknod(ctx, alice, h, fmt.Sprintf("n%o", tc.mode), tc.mode, 0)
			require.NoError(t, err)
			require.Equal(t, tc.want, a.Type)
			require.EqualValues(t, 0o644, a.Mode)
		}
		c, err := f.Mknod(ctx, rootCred, root, "null", syscall.S_IFCHR|0o666, 0x0103)
		require.NoError(t, err)
		require.Equal(t, inode.TypeChar, c.Type)
		require.EqualValues(t, 0x0103, getattr(t, f, c.Ino).Rdev)
		b, err := f.Mknod(ctx, rootCred, root, "sda", syscall.S_IFBLK|0o660, 0x0800)
		require.NoError(t, err)
		require.Equal(t, inode.TypeBlock, b.Type)
		for _, m := range []uint32{syscall.S_IFCHR, syscall.S_IFBLK} {
			_, err := f.Mknod(ctx, alice, h, "dev", m|0o600, 1)
			requirePathErr(t, err, syscall.EPERM)
		}
	}},
	testCase{name: "Mknod/BadType", fn: func(t *testing.T, f meta.FS) {
		_, err := f.Mknod(ctx, rootCred, root, "d", syscall.S_IFDIR|0o755, 0)
		requirePathErr(t, err, syscall.EPERM)
		_, err = f.Mknod(ctx, rootCred, root, "l", syscall.S_IFLNK|0o777, 0)
		requirePathErr(t, err, syscall.EINVAL)
		_, err = f.Mknod(ctx, rootCred, root, "x", 0o130000|0o644, 0)
		requirePathErr(t, err, syscall.EINVAL)
		require.Empty(t, names(t, f, root))
	}},

	testCase{name: "Names/InvalidNewName_EINVAL", fn: func(t *testing.T, f meta.FS) {
		bad := map[string]string{"empty": "", "slash": "a/b", "nul": "a\x00b", "dot": ".", "dotdot": ".."}
		for opName, op := range newNameOps(t, f) {
			for caseName, n := range bad {
				err, link := op(n)
				want := syscall.EINVAL
				if opName == "rename" && (n == "." || n == "..") {
					want = syscall.EBUSY
				}
				t.Logf("%s/%s", opName, caseName)
				requireOpErr(t, err, link, want)
			}
		}
		require.Equal(t, []string{"existing"}, names(t, f, root))
	}},
	testCase{name: "Names/256BytesTooLong_ENAMETOOLONG", fn: func(t *testing.T, f meta.FS) {
		long := strings.Repeat("x", 256)
		for _, op := range newNameOps(t, f) {
			err, link := op(long)
			requireOpErr(t, err, link, syscall.ENAMETOOLONG)
		}
		_, err := f.Lookup(ctx, rootCred, root, long)
		requirePathErr(t, err, syscall.ENAMETOOLONG)
		requirePathErr(t, f.Unlink(ctx, rootCred, root, long), syscall.ENAMETOOLONG)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, long), syscall.ENAMETOOLONG)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, long, root, "x", 0), syscall.ENAMETOOLONG)
		require.Equal(t, []string{"existing"}, names(t, f, root))
	}},
	testCase{name: "Names/PathOver4096_ENAMETOOLONG", fn: func(t *testing.T, f meta.FS) {
		long := "/" + strings.Repeat("a/", 2048)
		_, err := f.Stat(ctx, rootCred, long)
		requirePathErr(t, err, syscall.ENAMETOOLONG)
		_, err = f.Lstat(ctx, rootCred, long)
		requirePathErr(t, err, syscall.ENAMETOOLONG)
		_, err = f.MkdirAll(ctx, rootCred, long, 0o755)
		requirePathErr(t, err, syscall.ENAMETOOLONG)
		_, err = f.Resolve(ctx, rootCred, long)
		requirePathErr(t, err, syscall.ENAMETOOLONG)
		_, err = f.Stat(ctx, rootCred, "/"+strings.Repeat("a/", 2047))
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Names/255BytesWork", fn: func(t *testing.T, f meta.FS) {
		n255 := strings.Repeat("a", 255)
		m255 := strings.Repeat("b", 255)
		c255 := strings.Repeat("c", 255)
		fl := create(t, f, rootCred, root, n255, 0o644)
		require.Equal(t, fl.Ino, lookup(t, f, root, n255).Ino)
		d := mkdir(t, f, rootCred, root, m255, 0o755)
		_, err := f.Link(ctx, rootCred, fl.Ino, d.Ino, n255)
		require.NoError(t, err)
		require.NoError(t, f.Rename(ctx, rootCred, d.Ino, n255, d.Ino, c255, 0))
		require.Equal(t, fl.Ino, stat(t, f, "/"+m255+"/"+c255).Ino)
		require.NoError(t, f.Unlink(ctx, rootCred, root, n255))
		require.NoError(t, f.Unlink(ctx, rootCred, d.Ino, c255))
		requireGone(t, f, fl.Ino)
		require.NoError(t, f.Rmdir(ctx, rootCred, root, m255))
	}},
	testCase{name: "Names/NonUTF8", fn: func(t *testing.T, f meta.FS) {
		n := "caf\xe9-\xff\xfe"
		fl := create(t, f, rootCred, root, n, 0o644)
		require.Equal(t, []string{n}, names(t, f, root))
		require.Equal(t, fl.Ino, stat(t, f, "/"+n).Ino)
		require.NoError(t, f.Unlink(ctx, rootCred, root, n))
	}},
)

// newNameOps are the operations that make a new entry, each trying name in
// the root; they report whether their error is an *os.LinkError.
func newNameOps(t *testing.T, f meta.FS) map[string]func(name string) (error, bool) {
	fl := create(t, f, rootCred, root, "existing", 0o644)
	return map[string]func(string) (error, bool){
		"create": func(n string) (error, bool) {
			_, err := f.Create(ctx, rootCred, root, n, 0o644, true)
			return err, false
		},
		"mkdir": func(n string) (error, bool) { _, err := f.Mkdir(ctx, rootCred, root, n, 0o755); return err, false },
		"mknod": func(n string) (error, bool) {
			_, err := f.Mknod(ctx, rootCred, root, n, syscall.S_IFIFO|0o644, 0)
			return err, false
		},
		"symlink": func(n string) (error, bool) { _, err := f.Symlink(ctx, rootCred, root, n, "target"); return err, false },
		"link":    func(n string) (error, bool) { _, err := f.Link(ctx, rootCred, fl.Ino, root, n); return err, true },
		"rename": func(n string) (error, bool) {
			return f.Rename(ctx, rootCred, root, "existing", root, n, 0), true
		},
	}
}
