package fsmodel

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Harness runs random operations on a meta.Store and on a Model and
// compares them: the errno of every step, and after every step the whole
// tree (names, types, nlinks, modes, symlink targets, hard-link identity,
// "..") and a clean meta.Check.
type Harness struct {
	ctx context.Context
	s   *meta.Store // operations run here
	v   *meta.Store // verification reads here
	c   meta.Cred   // the credentials of the current step
	m   *Model
	// inos maps every inode id meta ever handed out to its model node, to
	// catch a reused id.
	inos map[uint64]*Node
	// handles are the open handles, at most maxHandles; the lock and
	// xattr state of the model lives in posix, flocks and the nodes.
	handles    []*openHandle
	nextHandle int
	posix      map[*Node]PosixModel
	flocks     map[*Node]FlockModel
	// touched are the nodes that ever had locks or xattrs, whose locks
	// and xattrs Check compares.
	touched map[*Node]bool
	// Stats counts the outcomes of steps, "op errno" -> count, and the
	// largest tree seen under "max-inodes".
	Stats map[string]int
}

// NewHarness returns a harness running operations on s (as root mostly,
// as two users now and then; see creds) and verifying through v, which must be a store of the same filesystem (s
// itself, or a store on the same data without fault injection). s must be
// freshly formatted, with root mode 0755.
func NewHarness(ctx context.Context, s, v *meta.Store) *Harness {
	m := New(0o755)
	return &Harness{ctx: ctx, s: s, v: v, c: meta.RootCred(), m: m, inos: map[uint64]*Node{m.Root.Ino: m.Root}, Stats: map[string]int{},
		posix: map[*Node]PosixModel{}, flocks: map[*Node]FlockModel{}, touched: map[*Node]bool{}}
}

// Model returns the model the harness keeps.
func (h *Harness) Model() *Model { return h.m }

// Actions is the state machine for rapid.T.Repeat: every operation, and
// under "" the check run after each step.
func (h *Harness) Actions() map[string]func(*rapid.T) {
	acts := map[string]func(*rapid.T){
		"create":  h.create,
		"mkdir":   h.mkdir,
		"mkdir2":  h.mkdir, // directories make the interesting trees: twice the weight
		"mknod":   h.mknod,
		"symlink": h.symlink,
		"link":    h.link,
		"rename":  h.rename,
		"rename2": h.rename,
		"unlink":  h.unlink,
		"rmdir":   h.rmdir,
		"chmod":   h.chmod,
		"stat":    h.stat,
		"open":    h.open,
		"close":   h.close,
		"flock":   h.flock,
		"setlk":   h.setlk,
		"setlk2":  h.setlk,
		"getlk":   h.getlk,
		"xattr":   h.xattr,
		"xattr2":  h.xattr,
	}
	for k, f := range acts {
		acts[k] = func(t *rapid.T) {
			h.c = rapid.SampledFrom(creds).Draw(t, "cred")
			f(t)
		}
	}
	acts[""] = h.Check
	return acts
}

// creds are who a step runs as: mostly root; two users share group 1000,
// so that owner, group and other bits all come into play.
var creds = []meta.Cred{
	meta.RootCred(), meta.RootCred(), meta.RootCred(),
	{Uid: 1000, Gid: 1000},
	{Uid: 2000, Gid: 1000, Groups: []uint32{3000}},
}

var (
	names       = []string{"a", "b", "c"}
	fileModes   = []uint32{0o644, 0o600, 0o755, 0o4755, 0o000}
	dirModes    = []uint32{0o755, 0o777, 0o700, 0o1777, 0o2755, 0o770, 0o000}
	chmodModes  = []uint32{0o755, 0o777, 0o644, 0o2775, 0o1777, 0o1770, 0o000, 0o4711, 0o711}
	targets     = []string{"a", "b", "a/b", "../a", "/a", "/a/b", "/b/c/a", "/", ".", "..", "zz", "/zz/y", "a/", "a/."}
	pathSuffix  = []string{"", "", "", "", "/", "/.", "/..", "/./a"}
	renameFlags = []meta.RenameFlags{0, 0, 0, meta.RenameNoReplace, meta.RenameExchange}
)

// expect fails the step unless err carries errno want.
func (h *Harness) expect(t *rapid.T, want syscall.Errno, err error, format string, args ...any) {
	t.Helper()
	what := fmt.Sprintf(format, args...)
	h.Stats[strings.Fields(what)[0]+" "+ErrnoName(want)]++
	if h.c.Uid != 0 {
		what = fmt.Sprintf("[uid %d] %s", h.c.Uid, what)
	}
	if got := meta.Errno(err); got != want {
		t.Fatalf("%s: got %s (%v), want %s", what, ErrnoName(got), err, ErrnoName(want))
	}
	t.Logf("%s -> %s", what, ErrnoName(want))
}

func drawName(t *rapid.T, label string) string { return rapid.SampledFrom(names).Draw(t, label) }

func drawRandomPath(t *rapid.T, label string, maxDepth int) string {
	n := rapid.IntRange(1, maxDepth).Draw(t, label+"-depth")
	p := ""
	for i := 0; i < n; i++ {
		p += "/" + drawName(t, fmt.Sprintf("%s-%d", label, i))
	}
	return p
}

// drawPath draws an existing path up to depth (mostly) or any path of the
// alphabet, existing or not.
func (h *Harness) drawPath(t *rapid.T, label string, depth int) string {
	if ps := h.m.Paths(depth); len(ps) > 0 && rapid.IntRange(0, 9).Draw(t, label+"-kind") < 7 {
		return rapid.SampledFrom(ps).Draw(t, label)
	}
	return drawRandomPath(t, label, depth)
}

// resolve resolves p on the store and on the model, which must agree.
func (h *Harness) resolve(t *rapid.T, p string, follow bool) (*Node, bool) {
	t.Helper()
	var a meta.Attr
	var err error
	op := "stat"
	if follow {
		a, err = h.s.Stat(h.ctx, h.c, p)
	} else {
		op = "lstat"
		a, err = h.s.Lstat(h.ctx, h.c, p)
	}
	n, want := h.m.Resolve(h.c, p, follow)
	h.expect(t, want, err, "%s %q", op, p)
	if want != 0 {
		return nil, false
	}
	require.Equal(t, n.Ino, a.Ino, "%s %q: inode", op, p)
	return n, true
}

// dir draws the directory an operation changes: a path (resolved with
// symlinks followed, as the parent of a path is) or, now and then, a
// removed directory's inode id. The returned label names it in logs.
func (h *Harness) dir(t *rapid.T, label string) (*Node, string, bool) {
	if len(h.m.Dead) > 0 && rapid.IntRange(0, 15).Draw(t, label+"-stale") == 0 {
		n := rapid.SampledFrom(h.m.Dead).Draw(t, label+"-dead")
		return n, fmt.Sprintf("#%d(removed)", n.Ino), true
	}
	var p string
	switch k := rapid.IntRange(0, 9).Draw(t, label+"-kind"); {
	case k < 2:
		p = "/"
	case k < 8:
		var dirs []string
		for _, q := range h.m.Paths(2) {
			if n, e := h.m.Resolve(meta.RootCred(), q, true); e == 0 && n.IsDir() {
				dirs = append(dirs, q)
			}
		}
		p = "/"
		if len(dirs) > 0 {
			p = rapid.SampledFrom(dirs).Draw(t, label)
		}
	default:
		p = h.drawPath(t, label, 2)
	}
	n, ok := h.resolve(t, p, true)
	return n, p, ok
}

// bind records the inode meta made for the new model node n.
func (h *Harness) bind(t *rapid.T, n *Node, a meta.Attr) {
	t.Helper()
	if old, ok := h.inos[a.Ino]; ok {
		t.Fatalf("meta handed out inode id %d again (first %v)", a.Ino, old.Type)
	}
	n.Ino = a.Ino
	h.inos[a.Ino] = n
	require.Equal(t, n.Type, a.Type, "new inode %d: type", a.Ino)
	require.Equal(t, n.Mode, a.Mode, "new inode %d: mode %o, want %o", a.Ino, a.Mode, n.Mode)
	require.Equal(t, [2]uint32{n.Uid, n.Gid}, [2]uint32{a.Uid, a.Gid}, "new inode %d: uid, gid", a.Ino)
	require.EqualValues(t, n.Nlink(), a.Nlink, "new inode %d: nlink", a.Ino)
}

func (h *Harness) mknode(t *rapid.T, op string, tp inode.Type, mode uint32, target string, excl bool,
	call func(parent uint64, name string) (meta.Attr, error)) {
	p, pl, ok := h.dir(t, "parent")
	if !ok {
		return
	}
	name := drawName(t, "name")
	a, err := call(p.Ino, name)
	n, existing, want := h.m.Mknode(h.c, p, name, tp, mode, target, excl)
	h.expect(t, want, err, "%s (in %s) %s mode %#o target %q excl %v", op, pl, name, mode, target, excl)
	switch {
	case want != 0:
	case existing:
		require.Equal(t, n.Ino, a.Ino, "%s of an existing name: inode", op)
	default:
		h.bind(t, n, a)
	}
}

func (h *Harness) create(t *rapid.T) {
	mode := rapid.SampledFrom(fileModes).Draw(t, "mode")
	excl := rapid.IntRange(0, 3).Draw(t, "excl") > 0
	h.mknode(t, "create", inode.TypeFile, mode, "", excl, func(p uint64, name string) (meta.Attr, error) {
		return h.s.Create(h.ctx, h.c, p, name, mode, excl)
	})
}

func (h *Harness) mkdir(t *rapid.T) {
	mode := rapid.SampledFrom(dirModes).Draw(t, "mode")
	h.mknode(t, "mkdir", inode.TypeDir, mode, "", true, func(p uint64, name string) (meta.Attr, error) {
		return h.s.Mkdir(h.ctx, h.c, p, name, mode)
	})
}

func (h *Harness) mknod(t *rapid.T) {
	tp := rapid.SampledFrom([]inode.Type{inode.TypeFIFO, inode.TypeSocket}).Draw(t, "type")
	mode := rapid.SampledFrom(fileModes).Draw(t, "mode")
	h.mknode(t, "mknod", tp, mode, "", true, func(p uint64, name string) (meta.Attr, error) {
		return h.s.Mknod(h.ctx, h.c, p, name, tp.IFMT()|mode, 0)
	})
}

func (h *Harness) symlink(t *rapid.T) {
	target := rapid.SampledFrom(targets).Draw(t, "target")
	h.mknode(t, "symlink", inode.TypeSymlink, 0o777, target, true, func(p uint64, name string) (meta.Attr, error) {
		return h.s.Symlink(h.ctx, h.c, p, name, target)
	})
}

func (h *Harness) link(t *rapid.T) {
	h.c = meta.RootCred() // see Model.Link
	op := h.drawPath(t, "old", 3)
	old, ok := h.resolve(t, op, false) // link(2) does not follow oldpath
	if !ok {
		return
	}
	p, pl, ok := h.dir(t, "parent")
	if !ok {
		return
	}
	name := drawName(t, "name")
	_, err := h.s.Link(h.ctx, h.c, old.Ino, p.Ino, name)
	h.expect(t, h.m.Link(h.c, old, p, name), err, "link %s -> (in %s) %s", op, pl, name)
}

func (h *Harness) rename(t *rapid.T) {
	sp, spl, ok := h.dir(t, "src-parent")
	if !ok {
		return
	}
	dp, dpl, ok := h.dir(t, "dst-parent")
	if !ok {
		return
	}
	sname, dname := drawName(t, "src-name"), drawName(t, "dst-name")
	flags := rapid.SampledFrom(renameFlags).Draw(t, "flags")
	err := h.s.Rename(h.ctx, h.c, sp.Ino, sname, dp.Ino, dname, flags)
	if src, dst := sp.Children[sname], dp.Children[dname]; src != nil && src == dst {
		if sp == dp && sname == dname {
			h.Stats["rename-case onto itself"]++
		} else {
			h.Stats["rename-case onto a hard link of itself"]++
		}
	}
	want := h.m.Rename(h.c, sp, sname, dp, dname, flags)
	h.expect(t, want, err, "rename (in %s) %s -> (in %s) %s flags %s", spl, sname, dpl, dname, flagName(flags))
}

func (h *Harness) unlink(t *rapid.T) {
	p, pl, ok := h.dir(t, "parent")
	if !ok {
		return
	}
	name := drawName(t, "name")
	err := h.s.Unlink(h.ctx, h.c, p.Ino, name)
	h.expect(t, h.m.Unlink(h.c, p, name), err, "unlink (in %s) %s", pl, name)
}

func (h *Harness) rmdir(t *rapid.T) {
	p, pl, ok := h.dir(t, "parent")
	if !ok {
		return
	}
	name := drawName(t, "name")
	err := h.s.Rmdir(h.ctx, h.c, p.Ino, name)
	h.expect(t, h.m.Rmdir(h.c, p, name), err, "rmdir (in %s) %s", pl, name)
}

func (h *Harness) chmod(t *rapid.T) {
	p := h.drawPath(t, "path", 3)
	n, ok := h.resolve(t, p, true) // chmod(2) follows symlinks
	if !ok {
		return
	}
	mode := rapid.SampledFrom(chmodModes).Draw(t, "mode")
	a, err := h.s.SetAttr(h.ctx, h.c, n.Ino, meta.SetAttr{Mode: &mode})
	want := h.m.Chmod(h.c, n, mode)
	h.expect(t, want, err, "chmod %s %#o", p, mode)
	if want == 0 {
		require.Equal(t, n.Mode, a.Mode, "chmod %s %#o: mode returned", p, mode)
	}
}

func (h *Harness) stat(t *rapid.T) {
	p := h.drawPath(t, "path", 3) + rapid.SampledFrom(pathSuffix).Draw(t, "suffix")
	h.resolve(t, p, rapid.Bool().Draw(t, "follow"))
}

// Check compares the whole tree of the store with the model and runs
// meta.Check.
func (h *Harness) Check(t *rapid.T) {
	t.Helper()
	h.c = meta.RootCred()
	rep, err := h.v.Check(h.ctx)
	require.NoError(t, err, "check")
	if !rep.OK() {
		t.Fatalf("meta.Check found problems: %v", rep.Problems)
	}
	live := h.m.Live()
	h.Stats["max-inodes"] = max(h.Stats["max-inodes"], len(live))
	require.Equal(t, len(live)+len(h.openDead()), rep.Inodes, "inodes in the store vs the model (%d live, %d unlinked but open)", len(live), len(h.openDead()))
	h.checkLocksAndXattrs(t, live)
	links := map[*Node]int{}
	seen := map[*Node]bool{}
	var walk func(n *Node, p string)
	walk = func(n *Node, p string) {
		seen[n] = true
		a, err := h.v.GetAttr(h.ctx, h.c, n.Ino)
		require.NoError(t, err, "getattr %s (#%d)", p, n.Ino)
		require.Equal(t, n.Type, a.Type, "%s: type", p)
		require.Equal(t, n.Mode, a.Mode, "%s: mode %#o, want %#o", p, a.Mode, n.Mode)
		require.Equal(t, [2]uint32{n.Uid, n.Gid}, [2]uint32{a.Uid, a.Gid}, "%s: uid, gid", p)
		require.EqualValues(t, n.Nlink(), a.Nlink, "%s: nlink", p)
		switch n.Type {
		case inode.TypeSymlink:
			target, err := h.v.Readlink(h.ctx, h.c, n.Ino)
			require.NoError(t, err, "readlink %s", p)
			require.Equal(t, n.Target, target, "%s: symlink target", p)
			require.EqualValues(t, len(n.Target), a.Size, "%s: symlink size", p)
		case inode.TypeDir:
			require.EqualValues(t, len(n.Children), a.Entries, "%s: entry count", p)
			up, err := h.v.Lookup(h.ctx, h.c, n.Ino, "..")
			require.NoError(t, err, "lookup %s/..", p)
			require.Equal(t, n.Parent.Ino, up.Ino, "%s/..: inode", p)
			ents := h.readDir(t, n.Ino, p)
			got := make([]string, len(ents))
			for i, e := range ents {
				got[i] = e.Name
			}
			require.Equal(t, n.Names(), got, "%s: entries", p)
			for _, e := range ents {
				c := n.Children[e.Name]
				cp := path.Join(p, e.Name)
				require.Equal(t, c.Ino, e.Ino, "%s: inode (hard-link identity)", cp)
				require.Equal(t, c.Type, e.Type, "%s: entry type", cp)
				links[c]++
				if c.IsDir() {
					require.False(t, seen[c], "%s: directory reached twice", cp)
				}
				if !seen[c] {
					walk(c, cp)
				}
			}
		}
	}
	walk(h.m.Root, "/")
	for _, n := range live {
		if !n.IsDir() && links[n] != n.Links {
			t.Fatalf("model bug: inode #%d has %d links, %d entries", n.Ino, n.Links, links[n])
		}
	}
}

// readDir lists a directory two entries a page, to exercise the cursor.
func (h *Harness) readDir(t *rapid.T, ino uint64, p string) []meta.DirEntry {
	var all []meta.DirEntry
	cursor := ""
	for {
		ents, next, err := h.v.ReadDir(h.ctx, h.c, ino, cursor, 2)
		require.NoError(t, err, "readdir %s", p)
		all = append(all, ents...)
		if next == "" {
			break
		}
		cursor = next
	}
	require.True(t, slices.IsSortedFunc(all, func(a, b meta.DirEntry) int { return strings.Compare(a.Name, b.Name) }), "%s: readdir order", p)
	return all
}

func flagName(f meta.RenameFlags) string {
	switch f {
	case 0:
		return "0"
	case meta.RenameNoReplace:
		return "NOREPLACE"
	case meta.RenameExchange:
		return "EXCHANGE"
	}
	return fmt.Sprintf("%#x", uint32(f))
}

var errnoNames = map[syscall.Errno]string{
	0:                    "OK",
	syscall.EPERM:        "EPERM",
	syscall.ENOENT:       "ENOENT",
	syscall.EIO:          "EIO",
	syscall.EACCES:       "EACCES",
	syscall.EBUSY:        "EBUSY",
	syscall.EEXIST:       "EEXIST",
	syscall.EXDEV:        "EXDEV",
	syscall.ENOTDIR:      "ENOTDIR",
	syscall.EISDIR:       "EISDIR",
	syscall.EINVAL:       "EINVAL",
	syscall.EMLINK:       "EMLINK",
	syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.ENOTEMPTY:    "ENOTEMPTY",
	syscall.ELOOP:        "ELOOP",
	syscall.EAGAIN:       "EAGAIN",
	syscall.EBADF:        "EBADF",
	syscall.ENODATA:      "ENODATA",
	syscall.ERANGE:       "ERANGE",
	syscall.E2BIG:        "E2BIG",
	syscall.EOPNOTSUPP:   "EOPNOTSUPP",
	syscall.ESTALE:       "ESTALE",
}

// ErrnoName is the symbolic name of e ("OK" for 0).
func ErrnoName(e syscall.Errno) string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return fmt.Sprintf("errno(%d)", int(e))
}

// Tally sums the Stats of many harnesses; it is safe for concurrent use
// only under the caller's lock (rapid runs sequences one at a time).
type Tally map[string]int

// Add adds h's counts.
func (ta Tally) Add(h *Harness) {
	for k, v := range h.Stats {
		if k == "max-inodes" {
			ta[k] = max(ta[k], v)
			continue
		}
		ta[k] += v
	}
}

// String lists the counts one a line, in order.
func (ta Tally) String() string {
	keys := make([]string, 0, len(ta))
	for k := range ta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%-50s %d\n", k, ta[k])
	}
	return b.String()
}
