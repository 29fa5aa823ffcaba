package mount_test

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	alice = 1000 // the uids and gids the permission tests run children as
	bob   = 1001
	staff = 2000 // a supplementary group
)

// TestMount_Permissions runs syscalls as other users and checks that meta's
// permission checks reach them through the kernel (mounted without
// default_permissions, with allow_other).
func TestMount_Permissions(t *testing.T) {
	e := mountT(t)
	require.NoError(t, os.Mkdir(e.path("pub"), 0o777))
	require.NoError(t, os.Chmod(e.path("pub"), 0o777)) // past the umask
	require.NoError(t, os.Mkdir(e.path("priv"), 0o700))
	writeFile(t, e.path("ro"), "read me")
	require.NoError(t, os.Chmod(e.path("ro"), 0o644))
	writeFile(t, e.path("pub", "w"), "")
	require.NoError(t, os.Chmod(e.path("pub", "w"), 0o666))
	require.NoError(t, os.Mkdir(e.path("grp"), 0o770))
	require.NoError(t, os.Chown(e.path("grp"), 0, staff))
	require.NoError(t, os.Chmod(e.path("grp"), 0o770))

	cases := []struct {
		name   string
		uid    uint32
		groups []uint32
		args   []string
		want   syscall.Errno
	}{
		{"read a 0644 file", alice, nil, []string{"read", e.path("ro")}, 0},
		{"write a 0644 file of root", alice, nil, []string{"open", e.path("ro"), strconv.Itoa(syscall.O_WRONLY), "0"}, syscall.EACCES},
		{"O_TRUNC a 0644 file of root", alice, nil, []string{"open", e.path("ro"), strconv.Itoa(syscall.O_RDONLY | syscall.O_TRUNC), "0"}, syscall.EACCES},
		{"truncate a 0644 file of root", alice, nil, []string{"truncate", e.path("ro"), "0"}, syscall.EACCES},
		{"access W_OK", alice, nil, []string{"access", e.path("ro"), "2"}, syscall.EACCES},
		{"access R_OK", alice, nil, []string{"access", e.path("ro"), "4"}, 0},
		{"chmod another's file", alice, nil, []string{"chmod", e.path("ro"), "0777"}, syscall.EPERM},
		{"chown another's file", alice, nil, []string{"chown", e.path("ro"), "1000", "1000"}, syscall.EPERM},
		{"explicit utimes of another's file", alice, nil, []string{"utimes-past", e.path("ro")}, syscall.EPERM},
		{"UTIME_NOW without write permission", alice, nil, []string{"utimes-now", e.path("ro")}, syscall.EACCES},
		{"UTIME_NOW with write permission", alice, nil, []string{"utimes-now", e.path("pub", "w")}, 0},
		{"mkdir in a 0700 dir of root", alice, nil, []string{"mkdir", e.path("priv", "x"), "0755"}, syscall.EACCES},
		{"stat under a 0700 dir of root", alice, nil, []string{"stat", e.path("priv", "x")}, syscall.EACCES},
		{"readdir a 0700 dir of root", alice, nil, []string{"readdir", e.path("priv")}, syscall.EACCES},
		{"chdir into a 0700 dir of root", alice, nil, []string{"chdir", e.path("priv")}, syscall.EACCES},
		{"create in the root dir", alice, nil, []string{"create", e.path("mine"), "0644"}, syscall.EACCES},
		{"create a read-only file and write it", alice, nil, []string{"create", e.path("pub", "ro-created"), "0444"}, 0},
		{"mkdir in a group dir, not in the group", alice, nil, []string{"mkdir", e.path("grp", "x"), "0755"}, syscall.EACCES},
		{"mkdir in a group dir, supplementary group", alice, []uint32{staff}, []string{"mkdir", e.path("grp", "x"), "0755"}, 0},
		{"readdir the group dir, supplementary group", alice, []uint32{staff}, []string{"readdir", e.path("grp")}, 0},
		{"rename out of a dir without write permission", alice, nil, []string{"rename", e.path("ro"), e.path("pub", "ro")}, syscall.EACCES},
		{"link into a 0700 dir", alice, nil, []string{"link", e.path("pub", "w"), e.path("priv", "w")}, syscall.EACCES},
		{"symlink in a 0777 dir", alice, nil, []string{"symlink", "target", e.path("pub", "sl")}, 0},
	}
	// One child process per identity, running its cases in order.
	type who struct {
		uid    uint32
		groups string
	}
	batches := map[who][]int{}
	var order []who
	for i, c := range cases {
		w := who{c.uid, fmt.Sprint(c.groups)}
		if _, ok := batches[w]; !ok {
			order = append(order, w)
		}
		batches[w] = append(batches[w], i)
	}
	for _, w := range order {
		idx := batches[w]
		var cmds [][]string
		for _, i := range idx {
			cmds = append(cmds, cases[i].args)
		}
		res := asBatch(t, w.uid, w.uid, cases[idx[0]].groups, cmds)
		for k, i := range idx {
			c := cases[i]
			require.Equal(t, c.want, res[k].errno, "%s: %v (output %q)", c.name, c.args, res[k].out)
		}
	}

	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("pub", "ro-created"), &st))
	require.Equal(t, uint32(alice), st.Uid, "owner of a file alice created")
	require.Equal(t, uint32(alice), st.Gid)
	require.Equal(t, uint32(0o444), st.Mode&0o7777, "mode stored as asked")
	require.Equal(t, "x", readFile(t, e.path("pub", "ro-created")))
	require.NoError(t, syscall.Stat(e.path("grp", "x"), &st))
	require.Equal(t, uint32(alice), st.Uid)
}

func TestMount_StickyDir(t *testing.T) {
	e := mountT(t)
	require.NoError(t, os.Mkdir(e.path("tmp"), 0o777))
	require.NoError(t, syscall.Chmod(e.path("tmp"), 0o1777))
	res := asBatch(t, bob, bob, nil, [][]string{
		{"create", e.path("tmp", "bobs"), "0666"},
		{"mkdir", e.path("tmp", "bobsdir"), "0777"},
	})
	require.Equal(t, []childResult{{0, ""}, {0, ""}}, res)
	require.NoError(t, os.Chmod(e.path("tmp", "bobs"), 0o666)) // past bob's umask

	res = asBatch(t, alice, alice, nil, [][]string{
		{"unlink", e.path("tmp", "bobs")},
		{"rename", e.path("tmp", "bobs"), e.path("tmp", "alices")},
		{"rmdir", e.path("tmp", "bobsdir")},
		{"append", e.path("tmp", "bobs"), "alice was here"},
		{"create", e.path("tmp", "alices"), "0644"},
	})
	require.Equal(t, syscall.EPERM, res[0].errno, "unlink another's file in a sticky dir")
	require.Equal(t, syscall.EPERM, res[1].errno, "rename another's file in a sticky dir")
	require.Equal(t, syscall.EPERM, res[2].errno, "rmdir another's dir in a sticky dir")
	require.Equal(t, syscall.Errno(0), res[3].errno, "write a 0666 file in a sticky dir")
	require.Equal(t, syscall.Errno(0), res[4].errno, "create in a sticky dir")

	res = asBatch(t, bob, bob, nil, [][]string{
		{"unlink", e.path("tmp", "alices")},
		{"unlink", e.path("tmp", "bobs")},
		{"rmdir", e.path("tmp", "bobsdir")},
	})
	require.Equal(t, syscall.EPERM, res[0].errno, "bob unlinks alice's file")
	require.Equal(t, syscall.Errno(0), res[1].errno, "the owner unlinks")
	require.Equal(t, syscall.Errno(0), res[2].errno, "the owner removes its dir")
	require.Equal(t, "x", readFile(t, e.path("tmp", "alices")))
}

// TestMount_Exec runs binaries from the mount: execute permission counts,
// not read.
func TestMount_Exec(t *testing.T) {
	e := mountT(t)
	bin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skipf("no /bin/true to run: %v", err)
	}
	require.NoError(t, os.Mkdir(e.path("bin"), 0o755))
	for _, m := range []os.FileMode{0o711, 0o700, 0o600} {
		p := e.path("bin", "true"+m.String())
		require.NoError(t, os.WriteFile(p, bin, m))
		require.NoError(t, os.Chmod(p, m))
	}
	res := asBatch(t, alice, alice, nil, [][]string{
		{"exec", e.path("bin", "true"+os.FileMode(0o711).String())},
		{"exec", e.path("bin", "true"+os.FileMode(0o700).String())},
	})
	require.Equal(t, childResult{0, ""}, res[0], "alice execs a 0711 binary")
	require.Equal(t, syscall.EACCES, res[1].errno, "alice execs a 0700 binary of root")
	res = asBatch(t, 0, 0, nil, [][]string{
		{"exec", e.path("bin", "true"+os.FileMode(0o700).String())},
		{"exec", e.path("bin", "true"+os.FileMode(0o600).String())},
	})
	require.Equal(t, childResult{0, ""}, res[0], "root execs a 0700 binary")
	require.Equal(t, syscall.EACCES, res[1].errno, "not even root execs a file without x bits")
}
