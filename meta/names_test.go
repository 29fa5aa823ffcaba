package meta_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// newNameOps are the operations that make a new entry, each trying name in
// the root; they report whether their error is an *os.LinkError.
func newNameOps(t *testing.T, s *meta.Store) map[string]func(name string) (error, bool) {
	f := create(t, s, rootCred, root, "existing", 0o644)
	return map[string]func(string) (error, bool){
		"create": func(n string) (error, bool) {
			_, err := s.Create(ctx, rootCred, root, n, 0o644, true)
			return err, false
		},
		"mkdir": func(n string) (error, bool) { _, err := s.Mkdir(ctx, rootCred, root, n, 0o755); return err, false },
		"mknod": func(n string) (error, bool) {
			_, err := s.Mknod(ctx, rootCred, root, n, syscall.S_IFIFO|0o644, 0)
			return err, false
		},
		"symlink": func(n string) (error, bool) { _, err := s.Symlink(ctx, rootCred, root, n, "target"); return err, false },
		"link":    func(n string) (error, bool) { _, err := s.Link(ctx, rootCred, f.Ino, root, n); return err, true },
		"rename": func(n string) (error, bool) {
			return s.Rename(ctx, rootCred, root, "existing", root, n, 0), true
		},
	}
}

func requireOpErr(t *testing.T, err error, link bool, want syscall.Errno) {
	t.Helper()
	if link {
		requireLinkErr(t, err, want)
	} else {
		requirePathErr(t, err, want)
	}
}

func TestNames_InvalidNewName(t *testing.T) {
	s := newStore(t)
	bad := map[string]string{"empty": "", "slash": "a/b", "nul": "a\x00b", "dot": ".", "dotdot": ".."}
	for opName, op := range newNameOps(t, s) {
		for caseName, n := range bad {
			t.Run(opName+"/"+caseName, func(t *testing.T) {
				err, link := op(n)
				want := syscall.EINVAL
				if opName == "rename" && (n == "." || n == "..") {
					want = syscall.EBUSY // as Linux's renameat2
				}
				requireOpErr(t, err, link, want)
			})
		}
	}
	require.Equal(t, []string{"existing"}, names(t, s, root))
}

func TestNames_256BytesTooLong(t *testing.T) {
	s := newStore(t)
	long := strings.Repeat("x", 256)
	for opName, op := range newNameOps(t, s) {
		t.Run(opName, func(t *testing.T) {
			err, link := op(long)
			requireOpErr(t, err, link, syscall.ENAMETOOLONG)
		})
	}
	_, err := s.Lookup(ctx, rootCred, root, long)
	requirePathErr(t, err, syscall.ENAMETOOLONG)
	requirePathErr(t, s.Unlink(ctx, rootCred, root, long), syscall.ENAMETOOLONG)
	requirePathErr(t, s.Rmdir(ctx, rootCred, root, long), syscall.ENAMETOOLONG)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, long, root, "x", 0), syscall.ENAMETOOLONG)
	require.Equal(t, []string{"existing"}, names(t, s, root))
}

func TestNames_PathOver4096TooLong(t *testing.T) {
	s := newStore(t)
	long := "/" + strings.Repeat("a/", 2048) // 4097 bytes
	_, err := s.Stat(ctx, rootCred, long)
	requirePathErr(t, err, syscall.ENAMETOOLONG)
	_, err = s.Lstat(ctx, rootCred, long)
	requirePathErr(t, err, syscall.ENAMETOOLONG)
	_, err = s.MkdirAll(ctx, rootCred, long, 0o755)
	requirePathErr(t, err, syscall.ENAMETOOLONG)
	// 4095 bytes is a valid length: the walk runs and finds nothing.
	_, err = s.Stat(ctx, rootCred, "/"+strings.Repeat("a/", 2047))
	requirePathErr(t, err, syscall.ENOENT)
}

func TestNames_255BytesWork(t *testing.T) {
	s := newStore(t)
	n255 := strings.Repeat("a", 255)
	m255 := strings.Repeat("b", 255)
	f := create(t, s, rootCred, root, n255, 0o644)
	require.Equal(t, f.Ino, lookup(t, s, root, n255).Ino)
	d := mkdir(t, s, rootCred, root, m255, 0o755)
	_, err := s.Link(ctx, rootCred, f.Ino, d.Ino, n255)
	require.NoError(t, err)
	require.NoError(t, s.Rename(ctx, rootCred, d.Ino, n255, d.Ino, strings.Repeat("c", 255), 0))
	st, err := s.Stat(ctx, rootCred, "/"+m255+"/"+strings.Repeat("c", 255))
	require.NoError(t, err)
	require.Equal(t, f.Ino, st.Ino)
	require.NoError(t, s.Unlink(ctx, rootCred, root, n255))
	require.NoError(t, s.Unlink(ctx, rootCred, d.Ino, strings.Repeat("c", 255)))
	requireGone(t, s, f.Ino)
	require.NoError(t, s.Rmdir(ctx, rootCred, root, m255))
}
