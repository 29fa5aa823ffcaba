package meta_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestSetAttr_ChmodByNonOwner_EPERM(t *testing.T) {
	s := newStore(t)
	f := create(t, s, alice, home(t, s, alice), "f", 0o666)
	_, err := s.SetAttr(ctx, bob, f.Ino, meta.SetAttr{Mode: ptr[uint32](0o777)})
	requirePathErr(t, err, syscall.EPERM)
	require.EqualValues(t, 0o666, getattr(t, s, f.Ino).Mode)
}

func TestSetAttr_ChmodByOwner(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	f := create(t, s, alice, home(t, s, alice), "f", 0o644)
	clock.Advance(time.Minute)
	a, err := s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Mode: ptr[uint32](0o4750)})
	require.NoError(t, err)
	require.EqualValues(t, 0o4750, a.Mode)
	require.Equal(t, clock.Now(), getattr(t, s, f.Ino).Ctime)
	require.Equal(t, f.Mtime, getattr(t, s, f.Ino).Mtime)
}

// chmod by an owner outside the file's group drops setgid, as Linux does.
func TestSetAttr_ChmodOutsideGroupDropsSetgid(t *testing.T) {
	s := newStore(t)
	f := create(t, s, alice, home(t, s, alice), "f", 0o644)
	_, err := s.SetAttr(ctx, rootCred, f.Ino, meta.SetAttr{Gid: ptr[uint32](50)})
	require.NoError(t, err)
	a, err := s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Mode: ptr[uint32](0o2755)})
	require.NoError(t, err)
	require.EqualValues(t, 0o755, a.Mode)
}

func TestSetAttr_ChownByNonRoot_EPERM(t *testing.T) {
	s := newStore(t)
	f := create(t, s, alice, home(t, s, alice), "f", 0o644)
	for _, tc := range []struct {
		name string
		c    meta.Cred
		uid  uint32
	}{
		{"owner-gives-away", alice, bob.Uid},
		{"non-owner-takes", bob, bob.Uid},
		{"non-owner-same-uid", bob, alice.Uid}, // chown_ok: only the owner may "change" to the same uid
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SetAttr(ctx, tc.c, f.Ino, meta.SetAttr{Uid: ptr(tc.uid)})
			requirePathErr(t, err, syscall.EPERM)
		})
	}
	_, err := s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Uid: ptr(alice.Uid)})
	require.NoError(t, err, "the owner may chown to itself")
	require.EqualValues(t, alice.Uid, getattr(t, s, f.Ino).Uid)
}

func TestSetAttr_ChgrpByOwnerToOwnGroupsOnly(t *testing.T) {
	s := newStore(t)
	member := meta.Cred{Uid: 1000, Gid: 1000, Groups: []uint32{2000}}
	f := create(t, s, member, home(t, s, alice), "f", 0o644)
	_, err := s.SetAttr(ctx, member, f.Ino, meta.SetAttr{Gid: ptr[uint32](2000)})
	require.NoError(t, err)
	require.EqualValues(t, 2000, getattr(t, s, f.Ino).Gid)
	_, err = s.SetAttr(ctx, member, f.Ino, meta.SetAttr{Gid: ptr[uint32](3000)})
	requirePathErr(t, err, syscall.EPERM)
	_, err = s.SetAttr(ctx, bob, f.Ino, meta.SetAttr{Gid: ptr[uint32](2000)})
	requirePathErr(t, err, syscall.EPERM) // a non-owner may not chgrp, even to the same group
	require.EqualValues(t, 2000, getattr(t, s, f.Ino).Gid)
}

func TestSetAttr_ChownByRootClearsSetuid(t *testing.T) {
	s := newStore(t)
	f := create(t, s, alice, home(t, s, alice), "f", 0o6755)
	a, err := s.SetAttr(ctx, rootCred, f.Ino, meta.SetAttr{Uid: ptr(bob.Uid), Gid: ptr(bob.Gid)})
	require.NoError(t, err)
	require.EqualValues(t, bob.Uid, a.Uid)
	require.EqualValues(t, bob.Gid, a.Gid)
	require.EqualValues(t, 0o755, a.Mode)
}

// Without group execute, setgid marks mandatory locking and survives a
// chown, as Linux's should_remove_suid keeps it; setuid still goes.
func TestSetAttr_ChownKeepsSetgidWithoutGroupExec(t *testing.T) {
	s := newStore(t)
	f := create(t, s, alice, home(t, s, alice), "f", 0o6745)
	a, err := s.SetAttr(ctx, rootCred, f.Ino, meta.SetAttr{Uid: ptr(bob.Uid)})
	require.NoError(t, err)
	require.EqualValues(t, 0o2745, a.Mode)
	require.EqualValues(t, 0o2745, getattr(t, s, f.Ino).Mode)
}

func TestSetAttr_TruncateUpdatesSizeMtimeCtime(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	f := create(t, s, alice, home(t, s, alice), "f", 0o644)
	clock.Advance(time.Hour)
	a, err := s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Size: ptr[uint64](12345)})
	require.NoError(t, err)
	require.EqualValues(t, 12345, a.Size)
	got := getattr(t, s, f.Ino)
	require.EqualValues(t, 12345, got.Size)
	require.Equal(t, clock.Now(), got.Mtime)
	require.Equal(t, clock.Now(), got.Ctime)
	require.Equal(t, f.Atime, got.Atime, "truncate leaves atime")

	clock.Advance(time.Hour)
	_, err = s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Size: ptr[uint64](0)})
	require.NoError(t, err)
	got = getattr(t, s, f.Ino)
	require.Zero(t, got.Size)
	require.Equal(t, clock.Now(), got.Mtime)
}

func TestSetAttr_TruncateErrors(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	f := create(t, s, alice, h, "f", 0o444)
	_, err := s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Size: ptr[uint64](1)})
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.SetAttr(ctx, alice, h, meta.SetAttr{Size: ptr[uint64](1)})
	requirePathErr(t, err, syscall.EISDIR)
	l, err := s.Symlink(ctx, alice, h, "l", "f")
	require.NoError(t, err)
	_, err = s.SetAttr(ctx, alice, l.Ino, meta.SetAttr{Size: ptr[uint64](1)})
	requirePathErr(t, err, syscall.EINVAL)
	require.Zero(t, getattr(t, s, f.Ino).Size)
}

func TestSetAttr_Times(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	f := create(t, s, alice, home(t, s, alice), "f", 0o666)
	past := time.Unix(1_000_000_000, 0)

	_, err := s.SetAttr(ctx, bob, f.Ino, meta.SetAttr{Mtime: &past})
	requirePathErr(t, err, syscall.EPERM)
	clock.Advance(time.Minute)
	_, err = s.SetAttr(ctx, bob, f.Ino, meta.SetAttr{MtimeNow: true, AtimeNow: true})
	require.NoError(t, err, "write permission allows setting the current time")
	got := getattr(t, s, f.Ino)
	require.Equal(t, clock.Now(), got.Mtime)
	require.Equal(t, clock.Now(), got.Atime)

	_, err = s.SetAttr(ctx, alice, f.Ino, meta.SetAttr{Mtime: &past, Atime: &past})
	require.NoError(t, err)
	got = getattr(t, s, f.Ino)
	require.Equal(t, past, got.Mtime)
	require.Equal(t, past, got.Atime)
	require.Equal(t, clock.Now(), got.Ctime)

	chmod(t, s, f.Ino, 0o644)
	_, err = s.SetAttr(ctx, bob, f.Ino, meta.SetAttr{MtimeNow: true})
	requirePathErr(t, err, syscall.EACCES)
}

// A directory's mtime may be set into the past (as tar does); the next
// entry change raises it again.
func TestSetAttr_DirectoryMtimeIntoPast(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	past := time.Unix(1_000_000_000, 0)
	clock.Advance(time.Minute)
	a, err := s.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Mtime: &past})
	require.NoError(t, err)
	require.Equal(t, past, a.Mtime)
	got := getattr(t, s, d.Ino)
	require.Equal(t, past, got.Mtime)
	require.Equal(t, clock.Now(), got.Ctime)
	clock.Advance(time.Minute)
	create(t, s, rootCred, d.Ino, "f", 0o644)
	require.Equal(t, clock.Now(), getattr(t, s, d.Ino).Mtime)
}

func TestSetAttr_Missing_ENOENT(t *testing.T) {
	s := newStore(t)
	_, err := s.SetAttr(ctx, rootCred, 424242, meta.SetAttr{Mode: ptr[uint32](0o644)})
	requirePathErr(t, err, syscall.ENOENT)
}
