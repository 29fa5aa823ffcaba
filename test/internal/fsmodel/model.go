// Package fsmodel is a plain in-memory model of a POSIX directory tree with
// Linux's errno rules, and a pgregory.net/rapid state machine that runs
// random operations on a meta.Store and on the model side by side.
//
// It also models extended attributes (Linux's namespace and permission
// rules) and file locks (locks.go): POSIX locks byte by byte per owner,
// flock locks per holder.
//
// The model is the oracle of the model-based tests under test/: it knows
// nothing of transactions, keys or retries. Each operation returns the
// errno Linux returns for it (checks in the order fs/namei.c makes them)
// and changes the tree only on success.
package fsmodel

import (
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

// Node is one inode of the model.
type Node struct {
	Ino      uint64 // the meta inode id it stands for, bound at creation
	Type     inode.Type
	Mode     uint32
	Uid, Gid uint32
	Target   string            // symlinks
	Children map[string]*Node  // directories
	Parent   *Node             // directories; the root is its own parent
	Links    int               // non-directories: entries naming it
	Dead     bool              // removed: its last link went
	Xattrs   map[string]string // extended attributes
}

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.Type == inode.TypeDir }

// Nlink is the link count Linux reports for n.
func (n *Node) Nlink() int {
	if !n.IsDir() {
		return n.Links
	}
	c := 2
	for _, ch := range n.Children {
		if ch.IsDir() {
			c++
		}
	}
	return c
}

// Names returns the names of a directory's entries in order.
func (n *Node) Names() []string {
	out := make([]string, 0, len(n.Children))
	for name := range n.Children {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Model is a POSIX tree.
type Model struct {
	Root *Node
	// Dead lists removed directories, oldest first, so that tests can
	// address a directory by an inode id that is gone (ENOENT).
	Dead []*Node
}

// New returns a model holding only the root, with meta's root inode id
// and mode.
func New(rootMode uint32) *Model {
	r := &Node{Ino: inode.RootIno, Type: inode.TypeDir, Mode: rootMode, Children: map[string]*Node{}}
	r.Parent = r
	return &Model{Root: r}
}

// isAncestor reports whether a is n or one of n's ancestors.
func (m *Model) isAncestor(a, n *Node) bool {
	for x := n; ; x = x.Parent {
		if x == a {
			return true
		}
		if x == m.Root {
			return false
		}
	}
}

// childToward returns the child of anc that is n or an ancestor of n, or
// nil when anc is not a proper ancestor of n (Linux's d_ancestor).
func (m *Model) childToward(anc, n *Node) *Node {
	for x := n; x != m.Root; x = x.Parent {
		if x.Parent == anc {
			return x
		}
	}
	return nil
}

// SplitPath splits p into components as Linux's path walk sees them:
// repeated slashes collapse, and a trailing slash asks for a directory,
// which is the same as a trailing ".".
func SplitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		out = append(out, ".")
	}
	return out
}

// Access bits.
const (
	MayRead  = 4
	MayWrite = 2
	MayExec  = 1
)

func inGroup(c meta.Cred, g uint32) bool { return c.Gid == g || slices.Contains(c.Groups, g) }

// access is Linux's generic_permission without ACLs: owner, group or other
// bits; root may do anything to a directory (and is the only case here).
func access(c meta.Cred, n *Node, mask uint32) syscall.Errno {
	if c.Uid == 0 {
		if mask&MayExec != 0 && !n.IsDir() && n.Mode&0o111 == 0 {
			return syscall.EACCES
		}
		return 0
	}
	bits := n.Mode
	switch {
	case c.Uid == n.Uid:
		bits >>= 6
	case inGroup(c, n.Gid):
		bits >>= 3
	}
	if bits&mask&7 != mask {
		return syscall.EACCES
	}
	return 0
}

// stickyDenied is Linux's check_sticky: in a sticky directory only root,
// the directory's owner and the victim's owner may remove or rename it.
func stickyDenied(c meta.Cred, dir, victim *Node) bool {
	return dir.Mode&inode.ModeSticky != 0 && c.Uid != 0 && c.Uid != dir.Uid && c.Uid != victim.Uid
}

// Resolve walks absolute path p from the root as c, following symlinks in
// every component but the last, and in the last too when follow is set.
// Each component needs search permission on the directory holding it.
func (m *Model) Resolve(c meta.Cred, p string, follow bool) (*Node, syscall.Errno) {
	hops := 0
	return m.walk(c, m.Root, SplitPath(p), follow, &hops)
}

func (m *Model) walk(c meta.Cred, start *Node, comps []string, follow bool, hops *int) (*Node, syscall.Errno) {
	cur := start
	for i, name := range comps {
		if !cur.IsDir() {
			return nil, syscall.ENOTDIR
		}
		if e := access(c, cur, MayExec); e != 0 {
			return nil, e
		}
		var next *Node
		switch name {
		case ".":
			next = cur
		case "..":
			next = cur.Parent
		default:
			if len(name) > meta.MaxNameLen {
				return nil, syscall.ENAMETOOLONG
			}
			next = cur.Children[name]
			if next == nil {
				return nil, syscall.ENOENT
			}
		}
		if next.Type == inode.TypeSymlink && (i < len(comps)-1 || follow) {
			if *hops++; *hops > meta.MaxSymlinks {
				return nil, syscall.ELOOP
			}
			base := cur
			if strings.HasPrefix(next.Target, "/") {
				base = m.Root
			}
			var e syscall.Errno
			if next, e = m.walk(c, base, SplitPath(next.Target), true, hops); e != 0 {
				return nil, e
			}
		}
		cur = next
	}
	return cur, 0
}

// parentErr is the errno of c looking up a name in p, the directory an
// operation changes.
func parentErr(c meta.Cred, p *Node) syscall.Errno {
	switch {
	case p.Dead:
		return syscall.ENOENT
	case !p.IsDir():
		return syscall.ENOTDIR
	}
	return access(c, p, MayExec)
}

// mayDelete is Linux's may_delete of victim from dir by c, up to the type
// checks: write and search on dir, then the sticky bit.
func mayDelete(c meta.Cred, dir, victim *Node) syscall.Errno {
	if e := access(c, dir, MayWrite|MayExec); e != 0 {
		return e
	}
	if stickyDenied(c, dir, victim) {
		return syscall.EPERM
	}
	return 0
}

// Mknode adds name to directory p as a new inode of type t made by c
// (create, mkdir, mknod, symlink). Without excl an existing non-directory
// is the result, unchanged (O_CREAT on an existing file); existing is then
// set.
func (m *Model) Mknode(c meta.Cred, p *Node, name string, t inode.Type, mode uint32, target string, excl bool) (n *Node, existing bool, e syscall.Errno) {
	if e := parentErr(c, p); e != 0 {
		return nil, false, e
	}
	if old := p.Children[name]; old != nil {
		if !excl && t == inode.TypeFile {
			if old.IsDir() {
				return nil, false, syscall.EISDIR
			}
			return old, true, 0
		}
		return nil, false, syscall.EEXIST
	}
	if e := access(c, p, MayWrite|MayExec); e != 0 {
		return nil, false, e
	}
	n = &Node{Type: t, Links: 1, Uid: c.Uid, Gid: c.Gid}
	if p.Mode&inode.ModeSetgid != 0 {
		n.Gid = p.Gid
	}
	switch t {
	case inode.TypeDir:
		// mkdir(2) on Linux keeps only the permission and sticky bits;
		// setgid comes from a setgid parent.
		n.Mode = mode & (0o777 | inode.ModeSticky)
		if p.Mode&inode.ModeSetgid != 0 {
			n.Mode |= inode.ModeSetgid
		}
		n.Children, n.Parent, n.Links = map[string]*Node{}, p, 0
	case inode.TypeSymlink:
		n.Mode, n.Target = 0o777, target
	default:
		n.Mode = mode & inode.ModePerm
	}
	p.Children[name] = n
	return n, false, 0
}

// Link adds name in directory p as another link of n, by c. (Linux's
// fs.protected_hardlinks, a sysctl, is not modelled: callers link as root.)
func (m *Model) Link(c meta.Cred, n, p *Node, name string) syscall.Errno {
	if e := parentErr(c, p); e != 0 {
		return e
	}
	if p.Children[name] != nil {
		return syscall.EEXIST
	}
	if e := access(c, p, MayWrite|MayExec); e != 0 {
		return e
	}
	if n.IsDir() {
		return syscall.EPERM
	}
	p.Children[name] = n
	n.Links++
	return 0
}

// drop removes one link of n.
func (m *Model) drop(n *Node) {
	if n.IsDir() {
		n.Dead = true
		m.Dead = append(m.Dead, n)
		return
	}
	if n.Links--; n.Links == 0 {
		n.Dead = true
	}
}

// Unlink removes the non-directory name of p, by c.
func (m *Model) Unlink(c meta.Cred, p *Node, name string) syscall.Errno {
	if e := parentErr(c, p); e != 0 {
		return e
	}
	n := p.Children[name]
	if n == nil {
		return syscall.ENOENT
	}
	if e := mayDelete(c, p, n); e != 0 {
		return e
	}
	if n.IsDir() {
		return syscall.EISDIR
	}
	delete(p.Children, name)
	m.drop(n)
	return 0
}

// Rmdir removes the empty directory name of p, by c.
func (m *Model) Rmdir(c meta.Cred, p *Node, name string) syscall.Errno {
	if e := parentErr(c, p); e != 0 {
		return e
	}
	n := p.Children[name]
	if n == nil {
		return syscall.ENOENT
	}
	if e := mayDelete(c, p, n); e != 0 {
		return e
	}
	switch {
	case !n.IsDir():
		return syscall.ENOTDIR
	case len(n.Children) > 0:
		return syscall.ENOTEMPTY
	}
	delete(p.Children, name)
	m.drop(n)
	return 0
}

// Rename is renameat2(2) of sname in sp to dname in dp by c, with the
// checks in the order of Linux's do_renameat2 and vfs_rename.
func (m *Model) Rename(c meta.Cred, sp *Node, sname string, dp *Node, dname string, flags meta.RenameFlags) syscall.Errno {
	exchange := flags&meta.RenameExchange != 0
	if e := parentErr(c, sp); e != 0 {
		return e
	}
	if e := parentErr(c, dp); e != 0 {
		return e
	}
	src, dst := sp.Children[sname], dp.Children[dname]
	switch {
	case src == nil:
		return syscall.ENOENT
	case flags&meta.RenameNoReplace != 0 && dst != nil:
		return syscall.EEXIST
	case exchange && dst == nil:
		return syscall.ENOENT
	}
	// lock_rename's trap: the child of one parent that is an ancestor of
	// the other.
	var trap *Node
	if sp != dp {
		if trap = m.childToward(sp, dp); trap == nil {
			trap = m.childToward(dp, sp)
		}
	}
	if trap != nil && src == trap {
		return syscall.EINVAL // the source is an ancestor of the target
	}
	if trap != nil && dst == trap {
		if exchange {
			return syscall.EINVAL
		}
		return syscall.ENOTEMPTY // the target is an ancestor of the source
	}
	if src == dst {
		return 0 // the same inode: nothing to do
	}
	if e := mayDelete(c, sp, src); e != 0 {
		return e
	}
	if dst == nil {
		if e := access(c, dp, MayWrite|MayExec); e != 0 {
			return e
		}
	} else {
		if e := mayDelete(c, dp, dst); e != 0 {
			return e
		}
		if !exchange {
			switch {
			case src.IsDir() && !dst.IsDir():
				return syscall.ENOTDIR
			case !src.IsDir() && dst.IsDir():
				return syscall.EISDIR
			}
		}
	}
	// A directory that changes parent rewrites its "..".
	if sp != dp {
		if src.IsDir() {
			if e := access(c, src, MayWrite); e != 0 {
				return e
			}
		}
		if exchange && dst.IsDir() {
			if e := access(c, dst, MayWrite); e != 0 {
				return e
			}
		}
	}
	if exchange {
		sp.Children[sname], dp.Children[dname] = dst, src
		if src.IsDir() {
			src.Parent = dp
		}
		if dst.IsDir() {
			dst.Parent = sp
		}
		return 0
	}
	if dst != nil {
		if dst.IsDir() && len(dst.Children) > 0 {
			return syscall.ENOTEMPTY
		}
		m.drop(dst)
	}
	delete(sp.Children, sname)
	dp.Children[dname] = src
	if src.IsDir() {
		src.Parent = dp
	}
	return 0
}

// Chmod is chmod(2) of n by c: the owner or root only, and setgid goes
// unless c is in the file's group (or root).
func (m *Model) Chmod(c meta.Cred, n *Node, mode uint32) syscall.Errno {
	if c.Uid != 0 && c.Uid != n.Uid {
		return syscall.EPERM
	}
	mode &= inode.ModePerm
	if c.Uid != 0 && !inGroup(c, n.Gid) {
		mode &^= inode.ModeSetgid
	}
	n.Mode = mode
	return 0
}

// Paths lists the paths of every entry up to depth deep, in order,
// without following symlinks.
func (m *Model) Paths(depth int) []string {
	var out []string
	var rec func(n *Node, prefix string, d int)
	rec = func(n *Node, prefix string, d int) {
		if d > depth {
			return
		}
		for _, name := range n.Names() {
			c := n.Children[name]
			p := prefix + "/" + name
			out = append(out, p)
			if c.IsDir() {
				rec(c, p, d+1)
			}
		}
	}
	rec(m.Root, "", 1)
	return out
}

// Live returns every live node reachable from the root, the root first,
// each once.
func (m *Model) Live() []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	var rec func(n *Node)
	rec = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
		for _, name := range n.Names() {
			rec(n.Children[name])
		}
	}
	rec(m.Root)
	return out
}
