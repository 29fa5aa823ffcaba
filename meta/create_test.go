package meta_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// makeOps make the entry name in parent as c, each in its own way; link
// links to target. The bool reports an *os.LinkError.
func makeOps(s *meta.Store, target uint64) map[string]func(c meta.Cred, parent uint64, name string) (error, bool) {
	return map[string]func(meta.Cred, uint64, string) (error, bool){
		"create": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := s.Create(ctx, c, p, n, 0o644, true)
			return err, false
		},
		"mkdir": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := s.Mkdir(ctx, c, p, n, 0o755)
			return err, false
		},
		"mknod": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := s.Mknod(ctx, c, p, n, syscall.S_IFIFO|0o644, 0)
			return err, false
		},
		"symlink": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := s.Symlink(ctx, c, p, n, "t")
			return err, false
		},
		"link": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := s.Link(ctx, c, target, p, n)
			return err, true
		},
	}
}

func TestCreate_ExistingName_EEXIST(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "file", 0o644)
	mkdir(t, s, rootCred, root, "dir", 0o755)
	for op, fn := range makeOps(s, f.Ino) {
		for _, name := range []string{"file", "dir"} {
			t.Run(op+"/over-"+name, func(t *testing.T) {
				err, link := fn(rootCred, root, name)
				requireOpErr(t, err, link, syscall.EEXIST)
			})
		}
	}
	require.EqualValues(t, 1, getattr(t, s, f.Ino).Nlink)
}

func TestCreate_ParentMissing_ENOENT(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "file", 0o644)
	gone := mkdir(t, s, rootCred, root, "gone", 0o755)
	require.NoError(t, s.Rmdir(ctx, rootCred, root, "gone"))
	for op, fn := range makeOps(s, f.Ino) {
		t.Run(op, func(t *testing.T) {
			err, link := fn(rootCred, gone.Ino, "x")
			requireOpErr(t, err, link, syscall.ENOENT)
		})
	}
}

func TestCreate_ParentIsFile_ENOTDIR(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "file", 0o644)
	for op, fn := range makeOps(s, f.Ino) {
		t.Run(op, func(t *testing.T) {
			err, link := fn(rootCred, f.Ino, "x")
			requireOpErr(t, err, link, syscall.ENOTDIR)
		})
	}
}

func TestCreate_WithoutWritePermission_EACCES(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	f := create(t, s, alice, h, "file", 0o644)
	ro := mkdir(t, s, rootCred, root, "ro", 0o755) // alice may search, not write
	for op, fn := range makeOps(s, f.Ino) {
		t.Run(op, func(t *testing.T) {
			err, link := fn(alice, ro.Ino, "x")
			requireOpErr(t, err, link, syscall.EACCES)
			err, _ = fn(rootCred, ro.Ino, op) // root bypasses
			require.NoError(t, err)
		})
	}
}

func TestCreate_WithoutSearchPermission_EACCES(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	f := create(t, s, alice, h, "file", 0o644)
	nx := mkdir(t, s, rootCred, root, "nx", 0o776) // alice may write, not search
	for op, fn := range makeOps(s, f.Ino) {
		t.Run(op, func(t *testing.T) {
			err, link := fn(alice, nx.Ino, "x")
			requireOpErr(t, err, link, syscall.EACCES)
		})
	}
	require.Empty(t, names(t, s, nx.Ino))
}

// As on Linux, an existing name is reported before missing write
// permission: the lookup comes first.
func TestCreate_ExistingNameInReadOnlyDir_EEXIST(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	f := create(t, s, alice, h, "file", 0o644)
	ro := mkdir(t, s, rootCred, root, "ro", 0o755)
	create(t, s, rootCred, ro.Ino, "taken", 0o644)
	for op, fn := range makeOps(s, f.Ino) {
		t.Run(op, func(t *testing.T) {
			err, link := fn(alice, ro.Ino, "taken")
			requireOpErr(t, err, link, syscall.EEXIST)
		})
	}
}

func TestCreate_WithoutExclReturnsExisting(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o600)
	a, err := s.Create(ctx, rootCred, root, "f", 0o644, false)
	require.NoError(t, err)
	require.Equal(t, f.Ino, a.Ino)
	require.EqualValues(t, 0o600, a.Mode, "O_CREAT of an existing file changes nothing")
	require.Equal(t, []string{"f"}, names(t, s, root))
}

func TestCreate_WithoutExclOnDirectory_EISDIR(t *testing.T) {
	s := newStore(t)
	mkdir(t, s, rootCred, root, "d", 0o755)
	_, err := s.Create(ctx, rootCred, root, "d", 0o644, false)
	requirePathErr(t, err, syscall.EISDIR)
}

// open(O_CREAT) of an existing file needs no write permission on the
// directory.
func TestCreate_WithoutExclExistingInReadOnlyDir(t *testing.T) {
	s := newStore(t)
	ro := mkdir(t, s, rootCred, root, "ro", 0o755)
	f := create(t, s, rootCred, ro.Ino, "f", 0o644)
	a, err := s.Create(ctx, alice, ro.Ino, "f", 0o644, false)
	require.NoError(t, err)
	require.Equal(t, f.Ino, a.Ino)
	_, err = s.Create(ctx, alice, ro.Ino, "new", 0o644, false)
	requirePathErr(t, err, syscall.EACCES)
}

func TestCreate_OwnerModeAndTimes(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	h := home(t, s, alice)
	clock.Advance(time.Hour)
	f, err := s.Create(ctx, alice, h, "f", inode.ModeIFREG|0o4640, true)
	require.NoError(t, err)
	got := getattr(t, s, f.Ino)
	require.Equal(t, inode.TypeFile, got.Type)
	require.EqualValues(t, 0o4640, got.Mode)
	require.EqualValues(t, 1000, got.Uid)
	require.EqualValues(t, 1000, got.Gid)
	require.EqualValues(t, 1, got.Nlink)
	require.Zero(t, got.Size)
	require.Equal(t, clock.Now(), got.Mtime)
	require.Equal(t, clock.Now(), got.Ctime)
	require.Equal(t, clock.Now(), got.Atime)
	p := getattr(t, s, h)
	require.Equal(t, clock.Now(), p.Mtime, "parent mtime")
	require.Equal(t, clock.Now(), p.Ctime, "parent ctime")
	require.EqualValues(t, 1, p.Entries)
}

func TestCreate_InSetgidDirectoryTakesItsGroup(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "shared", 0o777)
	_, err := s.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Gid: ptr[uint32](50), Mode: ptr[uint32](0o2777)})
	require.NoError(t, err)
	f := create(t, s, alice, d.Ino, "f", 0o644)
	require.EqualValues(t, 50, f.Gid)
	sub := mkdir(t, s, alice, d.Ino, "sub", 0o755)
	require.EqualValues(t, 50, sub.Gid)
	require.EqualValues(t, 0o2755, sub.Mode, "subdirectories inherit setgid")
}

// mkdir(2) keeps the permission and sticky bits of mode, not setuid or
// setgid.
func TestMkdir_KeepsOnlyPermissionAndStickyBits(t *testing.T) {
	s := newStore(t)
	for mode, want := range map[uint32]uint32{0o2755: 0o755, 0o4755: 0o755, 0o1777: 0o1777, 0o7777: 0o1777} {
		d, err := s.Mkdir(ctx, rootCred, root, fmt.Sprintf("d%o", mode), mode)
		require.NoError(t, err)
		require.Equal(t, want, d.Mode, "mkdir %#o", mode)
		require.Equal(t, want, getattr(t, s, d.Ino).Mode)
	}
}

func TestMkdir_RaisesParentNlinkByOne(t *testing.T) {
	s := newStore(t)
	require.EqualValues(t, 2, getattr(t, s, root).Nlink)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	require.EqualValues(t, 3, getattr(t, s, root).Nlink)
	mkdir(t, s, rootCred, d.Ino, "e", 0o755)
	require.EqualValues(t, 3, getattr(t, s, d.Ino).Nlink)
	require.EqualValues(t, 3, getattr(t, s, root).Nlink, "a grandchild does not count")
	create(t, s, rootCred, root, "f", 0o644)
	require.EqualValues(t, 3, getattr(t, s, root).Nlink, "a file does not count")
}

func TestMkdir_NewDirectoryHasNlinkTwo(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, alice, home(t, s, alice), "d", 0o750)
	require.EqualValues(t, 2, d.Nlink)
	got := getattr(t, s, d.Ino)
	require.EqualValues(t, 2, got.Nlink)
	require.True(t, got.IsDir())
	require.EqualValues(t, 0o750, got.Mode)
	require.EqualValues(t, 1000, got.Uid)
	require.Zero(t, got.Entries)
}

func TestSymlink_Mode0777AndReadlinkExact(t *testing.T) {
	s := newStore(t)
	target := "../x//y/./z\xff with spaces/"
	l, err := s.Symlink(ctx, alice, home(t, s, alice), "l", target)
	require.NoError(t, err)
	require.Equal(t, inode.TypeSymlink, l.Type)
	require.EqualValues(t, 0o777, l.Mode)
	require.EqualValues(t, len(target), l.Size)
	got, err := s.Readlink(ctx, alice, l.Ino)
	require.NoError(t, err)
	require.Equal(t, target, got)
}

func TestReadlink_NotSymlink_EINVAL(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	for _, ino := range []uint64{f.Ino, root} {
		_, err := s.Readlink(ctx, rootCred, ino)
		requirePathErr(t, err, syscall.EINVAL)
	}
	_, err := s.Readlink(ctx, rootCred, 424242)
	requirePathErr(t, err, syscall.ENOENT)
}

func TestSymlink_EmptyTarget_EINVAL(t *testing.T) {
	s := newStore(t)
	_, err := s.Symlink(ctx, rootCred, root, "l", "")
	requirePathErr(t, err, syscall.EINVAL)
	require.Empty(t, names(t, s, root))
}

func TestSymlink_TargetTooLong_ENAMETOOLONG(t *testing.T) {
	s := newStore(t)
	for _, n := range []int{4096, 4097} {
		_, err := s.Symlink(ctx, rootCred, root, "l", strings.Repeat("t", n))
		requirePathErr(t, err, syscall.ENAMETOOLONG)
	}
	long := strings.Repeat("t", 4095) // PATH_MAX less the NUL
	l, err := s.Symlink(ctx, rootCred, root, "l", long)
	require.NoError(t, err)
	got, err := s.Readlink(ctx, rootCred, l.Ino)
	require.NoError(t, err)
	require.Equal(t, long, got)
}

func TestMknod_Types(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	for _, tc := range []struct {
		mode uint32
		want inode.Type
	}{
		{syscall.S_IFIFO | 0o644, inode.TypeFIFO},
		{syscall.S_IFSOCK | 0o644, inode.TypeSocket},
		{syscall.S_IFREG | 0o644, inode.TypeFile},
		{0o644, inode.TypeFile}, // no type bits: a regular file
	} {
		a, err := s.Mknod(ctx, alice, h, fmt.Sprintf("n%o", tc.mode), tc.mode, 0)
		require.NoError(t, err)
		require.Equal(t, tc.want, a.Type)
		require.EqualValues(t, 0o644, a.Mode)
	}
	c, err := s.Mknod(ctx, rootCred, root, "null", syscall.S_IFCHR|0o666, 0x0103)
	require.NoError(t, err)
	require.Equal(t, inode.TypeChar, c.Type)
	require.EqualValues(t, 0x0103, getattr(t, s, c.Ino).Rdev)
	_, err = s.Mknod(ctx, rootCred, root, "sda", syscall.S_IFBLK|0o660, 0x0800)
	require.NoError(t, err)
}

func TestMknod_DeviceByNonRoot_EPERM(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	for _, m := range []uint32{syscall.S_IFCHR, syscall.S_IFBLK} {
		_, err := s.Mknod(ctx, alice, h, "dev", m|0o600, 1)
		requirePathErr(t, err, syscall.EPERM)
	}
}

// As mknod(2): S_IFDIR is EPERM, S_IFLNK and unknown types EINVAL.
func TestMknod_BadType(t *testing.T) {
	s := newStore(t)
	_, err := s.Mknod(ctx, rootCred, root, "d", syscall.S_IFDIR|0o755, 0)
	requirePathErr(t, err, syscall.EPERM)
	_, err = s.Mknod(ctx, rootCred, root, "l", syscall.S_IFLNK|0o777, 0)
	requirePathErr(t, err, syscall.EINVAL)
	_, err = s.Mknod(ctx, rootCred, root, "x", 0o130000|0o644, 0)
	requirePathErr(t, err, syscall.EINVAL)
	require.Empty(t, names(t, s, root))
}
