package mount_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func requireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("skipping: %s is not installed (Debian: apt-get install -y %s)", name, name)
	}
	return p
}

// run runs a command and returns its output. It never starts a command
// with its working directory inside the mount: Go's forkExec changes
// directory between clone and exec, when this process (which serves the
// mount) cannot answer the kernel, and deadlocks (see the package doc).
func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+homeDir(tb), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "%s %v:\n%s", name, args, out)
	return string(out)
}

var (
	homeOnce sync.Once
	home     string
)

// homeDir is an empty HOME outside the mount for the tools.
func homeDir(tb testing.TB) string {
	homeOnce.Do(func() { home = filepath.Join(os.TempDir(), "fsmeta-mount-test-home") })
	require.NoError(tb, os.MkdirAll(home, 0o700))
	return home
}

func TestMount_Git(t *testing.T) {
	git := requireTool(t, "git")
	e := mountT(t)
	repo := e.path("repo")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "src", "pkg"), 0o755))
	files := map[string]string{
		"README":            "a small tree\n",
		"src/main.go":       "package main\n\nfunc main() {}\n",
		"src/pkg/lib.go":    "package pkg\n",
		"src/pkg/data.txt":  strings.Repeat("line\n", 5000),
		"src/pkg/empty.txt": "",
	}
	for p, c := range files {
		writeFile(t, filepath.Join(repo, p), c)
	}
	require.NoError(t, os.Symlink("src/main.go", filepath.Join(repo, "link")))
	run(t, git, "-C", repo, "init", "-q", "-b", "main")
	run(t, git, "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
	run(t, git, "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
	require.Equal(t, "", run(t, git, "-C", repo, "status", "--porcelain"))
	require.Contains(t, run(t, git, "-C", repo, "log", "--oneline"), "first")
	run(t, git, "-C", repo, "fsck", "--strict")
	ls := run(t, git, "-C", repo, "ls-files")
	require.Equal(t, []string{"README", "link", "src/main.go", "src/pkg/data.txt", "src/pkg/empty.txt", "src/pkg/lib.go"}, strings.Fields(ls))

	// A second commit that renames and deletes, then a checkout back.
	run(t, git, "-C", repo, "mv", "src/pkg/lib.go", "src/lib.go")
	run(t, git, "-C", repo, "rm", "-q", "README")
	run(t, git, "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "second")
	run(t, git, "-C", repo, "checkout", "-q", "HEAD~1")
	require.Equal(t, files["README"], readFile(t, filepath.Join(repo, "README")))
	require.Equal(t, "", run(t, git, "-C", repo, "status", "--porcelain"))
}

// treeEntry is what the tar round trip compares.
type treeEntry struct {
	mode    fs.FileMode
	content string // files: content; symlinks: target
	mtime   int64  // seconds, for files and directories
}

func snapshot(tb testing.TB, root string) map[string]treeEntry {
	tb.Helper()
	out := map[string]treeEntry{}
	require.NoError(tb, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		te := treeEntry{mode: fi.Mode()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			te.content, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			te.content = string(b)
			te.mtime = fi.ModTime().Unix()
		case fi.IsDir() && rel != ".":
			te.mtime = fi.ModTime().Unix()
		}
		out[rel] = te
		return err
	}))
	return out
}

func makeSourceTree(tb testing.TB, root string) {
	tb.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	old := time.Date(2010, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := 0; i < 8; i++ {
		d := filepath.Join(root, "dir"+strconv.Itoa(i), "sub")
		require.NoError(tb, os.MkdirAll(d, 0o755))
		for j := 0; j < 10; j++ {
			b := make([]byte, r.IntN(40000))
			for k := range b {
				b[k] = byte(r.Uint32())
			}
			p := filepath.Join(d, fmt.Sprintf("f%d.bin", j))
			require.NoError(tb, os.WriteFile(p, b, 0o640))
			require.NoError(tb, os.Chtimes(p, old, old))
		}
		require.NoError(tb, os.Symlink("sub/f0.bin", filepath.Join(root, "dir"+strconv.Itoa(i), "link")))
	}
	require.NoError(tb, os.WriteFile(filepath.Join(root, "script.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(tb, os.Link(filepath.Join(root, "script.sh"), filepath.Join(root, "hardlink.sh")))
	require.NoError(tb, os.Chmod(filepath.Join(root, "dir3"), 0o711))
	require.NoError(tb, os.Chtimes(filepath.Join(root, "dir1"), old, old))
}

// TestMount_TarRoundTrip copies a tree into the mount and back out with
// tar and compares contents, modes, mtimes and symlinks both ways.
func TestMount_TarRoundTrip(t *testing.T) {
	tar := requireTool(t, "tar")
	e := mountT(t)
	src, back := t.TempDir(), t.TempDir()
	makeSourceTree(t, src)
	require.NoError(t, os.Mkdir(e.path("dst"), 0o755))
	pipe := func(from, to string) {
		c := exec.Command("sh", "-c", fmt.Sprintf("%s -C %s -cf - . | %s -C %s -xpf -", tar, from, tar, to))
		out, err := c.CombinedOutput()
		require.NoError(t, err, "tar: %s", out)
	}
	pipe(src, e.path("dst"))
	want := snapshot(t, src)
	require.Equal(t, want, snapshot(t, e.path("dst")), "into the mount")
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("dst", "hardlink.sh"), &st))
	require.Equal(t, uint64(2), uint64(st.Nlink), "tar kept the hard link")
	pipe(e.path("dst"), back)
	require.Equal(t, want, snapshot(t, back), "out of the mount")
}

// TestMount_RmRfLarge removes a 10,000-entry tree with rm -rf. The tree
// is built through the store, which is faster than through the kernel.
func TestMount_RmRfLarge(t *testing.T) {
	requireTool(t, "rm")
	e := mountT(t)
	ctx := context.Background()
	c := meta.RootCred()
	top, err := e.store.Mkdir(ctx, c, inode.RootIno, "tree", 0o755)
	require.NoError(t, err)
	total := 10000
	if raceEnabled {
		total = 2000
	}
	n := 1
	for i := 0; n < total; i++ {
		d, err := e.store.Mkdir(ctx, c, top.Ino, "d"+strconv.Itoa(i), 0o755)
		require.NoError(t, err)
		n++
		for j := 0; j < 99 && n < total; j++ {
			if j%10 == 0 {
				_, err = e.store.Symlink(ctx, c, d.Ino, "s"+strconv.Itoa(j), "nowhere")
			} else {
				_, err = e.store.Create(ctx, c, d.Ino, "f"+strconv.Itoa(j), 0o644, true)
			}
			require.NoError(t, err)
			n++
		}
	}
	var count int
	require.NoError(t, filepath.WalkDir(e.path("tree"), func(string, fs.DirEntry, error) error { count++; return nil }))
	require.Equal(t, total, count, "entries seen through the mount")
	run(t, "rm", "-rf", e.path("tree"))
	_, err = os.Lstat(e.path("tree"))
	requireErrno(t, syscall.ENOENT, err)
	ents, err := e.store.ReadDirAll(ctx, c, inode.RootIno)
	require.NoError(t, err)
	require.Empty(t, ents)
}

func buildStorm(tb testing.TB, root string) {
	tb.Helper()
	for _, d := range stormDirs {
		require.NoError(tb, os.MkdirAll(filepath.Join(root, d), 0o755))
		for i := 0; i < stormNames; i++ {
			writeFile(tb, filepath.Join(root, d, "f"+strconv.Itoa(i)), d+strconv.Itoa(i))
		}
	}
	for i := 0; i < 3; i++ {
		require.NoError(tb, os.MkdirAll(filepath.Join(root, "c", "d"+strconv.Itoa(i), "inner"), 0o755))
	}
}

// TestMount_MvStorm runs concurrent renames from several processes (test
// binary children doing rename(2), and the mv binary), then checks the
// store with fsck and that the mount shows what the store has.
func TestMount_MvStorm(t *testing.T) {
	e := mountT(t)
	root := e.path("storm")
	buildStorm(t, root)
	procs, ops := 4, 300
	if raceEnabled {
		ops = 100
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := 0; i < procs; i++ {
		cmd := childCmd(t, nil, "renames", root, strconv.Itoa(ops), strconv.Itoa(i+1))
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		cmds, outs = append(cmds, cmd), append(outs, &b)
	}
	if mv, err := exec.LookPath("mv"); err == nil {
		r := rand.New(rand.NewPCG(99, 99))
		var script strings.Builder
		for i := 0; i < 60; i++ {
			a := filepath.Join(root, stormDirs[r.IntN(len(stormDirs))], "f"+strconv.Itoa(r.IntN(stormNames)))
			b := filepath.Join(root, stormDirs[r.IntN(len(stormDirs))], "f"+strconv.Itoa(r.IntN(stormNames)))
			fmt.Fprintf(&script, "%s -f %s %s 2>/dev/null\n", mv, a, b)
		}
		script.WriteString("exit 0\n")
		cmd := exec.Command("sh", "-c", script.String())
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		cmds, outs = append(cmds, cmd), append(outs, &b)
	}
	for _, c := range cmds {
		require.NoError(t, c.Start())
	}
	renamed := 0
	for i, c := range cmds {
		require.NoError(t, c.Wait(), "process %d: %s", i, outs[i])
		if i < procs {
			var code, ok int
			_, err := fmt.Sscanf(outs[i].String(), "errno %d\n%d", &code, &ok)
			require.NoError(t, err, "process %d said %q", i, outs[i])
			require.Zero(t, code, "process %d: unexpected errno", i)
			renamed += ok
		}
	}
	require.Positive(t, renamed, "some renames succeeded")
	t.Logf("%d renames succeeded out of %d", renamed, procs*ops)
	checkStore(t, e.store)

	// The mount and the store agree on the tree.
	var viaMount, viaStore []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(e.dir, p)
		viaMount = append(viaMount, "/"+rel)
		return nil
	}))
	require.NoError(t, e.store.Walk(context.Background(), meta.RootCred(), "/storm", func(p string, a meta.Attr, err error) error {
		require.NoError(t, err)
		viaStore = append(viaStore, p)
		return nil
	}))
	sort.Strings(viaMount)
	sort.Strings(viaStore)
	require.Equal(t, viaStore, viaMount)
}
