package mount_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func statT(tb testing.TB, p string) syscall.Stat_t {
	tb.Helper()
	var st syscall.Stat_t
	require.NoError(tb, syscall.Stat(p, &st))
	return st
}

// TestMount_ChownFields: chown with -1 leaves that id, and a chown clears
// setuid, and setgid of a group-executable file, as Linux does.
func TestMount_ChownFields(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "x")
	require.NoError(t, os.Chown(p, 11, 22))
	require.NoError(t, os.Chown(p, -1, 33))
	st := statT(t, p)
	require.Equal(t, [2]uint32{11, 33}, [2]uint32{st.Uid, st.Gid})
	require.NoError(t, os.Chown(p, 44, -1))
	st = statT(t, p)
	require.Equal(t, [2]uint32{44, 33}, [2]uint32{st.Uid, st.Gid})

	require.NoError(t, syscall.Chmod(p, 0o6755))
	require.NoError(t, os.Chown(p, -1, 55))
	require.Equal(t, uint32(0o755), statT(t, p).Mode&0o7777, "setuid and setgid of a group-executable file cleared")
	// Without group execute, setgid (mandatory locking) survives a chown,
	// as on Linux; setuid still goes.
	require.NoError(t, syscall.Chmod(p, 0o6745))
	require.NoError(t, os.Chown(p, -1, 66))
	require.Equal(t, uint32(0o2745), statT(t, p).Mode&0o7777, "setgid without group execute kept")

	// By its (non-root) owner, to a group of theirs.
	require.NoError(t, os.Chown(p, 1000, 1000))
	require.NoError(t, syscall.Chmod(p, 0o2775))
	code, _ := as(t, 1000, 1000, []uint32{2000}, "chown", p, "-1", "2000")
	require.Zero(t, code, "owner chgrp to a group of theirs")
	st = statT(t, p)
	require.Equal(t, uint32(2000), st.Gid)
	require.Equal(t, uint32(0o775), st.Mode&0o7777, "setgid cleared by the owner's chgrp")
	require.NoError(t, syscall.Chmod(e.dir, 0o777))
}

// TestMount_WriteKillsSuid: another user with write permission may write
// and truncate a setuid file; the write clears setuid (and setgid of a
// group-executable file), as Linux does for an unprivileged writer.
func TestMount_WriteKillsSuid(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "x")
	require.NoError(t, syscall.Chmod(p, 0o6777))
	code, _ := as(t, 1000, 1000, nil, "append", p, "more")
	require.Zero(t, code, "append by a writer who is not the owner: errno %v", code)
	require.Equal(t, "xmore", readFile(t, p))
	require.Equal(t, uint32(0o777), statT(t, p).Mode&0o7777, "write cleared setuid and setgid")

	require.NoError(t, syscall.Chmod(p, 0o4777))
	code, _ = as(t, 1000, 1000, nil, "truncate", p, "1")
	require.Zero(t, code, "truncate by a writer who is not the owner: errno %v", code)
	require.Equal(t, "x", readFile(t, p))
	require.Equal(t, uint32(0o777), statT(t, p).Mode&0o7777, "truncate cleared setuid")

	// Clearing the bits is a writer's privilege only: chmod by another
	// user without write permission stays EPERM.
	require.NoError(t, syscall.Chmod(p, 0o4755))
	code, _ = as(t, 1000, 1000, nil, "chmod", p, "0755")
	require.Equal(t, syscall.EPERM, code)
	code, _ = as(t, 1000, 1000, nil, "append", p, "x")
	require.Equal(t, syscall.EACCES, code)
	require.Equal(t, uint32(0o4755), statT(t, p).Mode&0o7777)
}

// TestMount_IgnoredXattrs: the attributes the mount answers itself as
// absent (security.capability, POSIX ACLs) cannot be set either, as on a
// filesystem without them, rather than stored and then not found.
func TestMount_IgnoredXattrs(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "x")
	// A valid version-2 VFS capability of no capabilities.
	capv := []byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	err := syscall.Setxattr(p, "security.capability", capv, 0)
	requireErrno(t, syscall.EOPNOTSUPP, err, "security.capability")
	// user::rw- group::r-- other::r--
	acl := []byte{2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, 0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff}
	err = syscall.Setxattr(p, "system.posix_acl_access", acl, 0)
	requireErrno(t, syscall.EOPNOTSUPP, err, "system.posix_acl_access")
	require.NoError(t, syscall.Setxattr(p, "user.ok", []byte("v"), 0))
}
