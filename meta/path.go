package meta

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// Paths are absolute, slash-separated, resolved from the root; a relative
// path is taken relative to the root. Every directory walked needs search
// permission; symlinks are followed in every component but the last, and in
// the last too unless the call says otherwise, up to MaxSymlinks hops.

// splitPath returns the components of p. "." stays a component, looked up
// like any other (it needs search permission and fails under a file), and a
// trailing slash becomes a final ".", so that, as on Linux, "file/" is
// ENOTDIR and a symlink before a trailing slash is followed.
func splitPath(p string) []string {
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

// resolve walks p with snapshot reads and returns the inode it names.
func (s *Store) resolve(ctx context.Context, tx kv.ReadOnlyTxn, a *arena, c Cred, p string, followLast bool) (*inode.Inode, error) {
	if len(p) >= MaxPathLen {
		return nil, syscall.ENAMETOOLONG
	}
	root, err := s.mustLoad(ctx, tx, a, inode.RootIno, true)
	if err != nil {
		return nil, err
	}
	cur := root
	comps := splitPath(p)
	hops := 0
	for len(comps) > 0 {
		name := comps[0]
		comps = comps[1:]
		// cur was read in tx: looking in it needs no second read.
		next, err := s.lookupIn(ctx, tx, a, c, cur, name)
		if err != nil {
			return nil, err
		}
		if next.Type == inode.TypeSymlink && (len(comps) > 0 || followLast) {
			if hops++; hops > MaxSymlinks {
				return nil, syscall.ELOOP
			}
			target := string(next.Target)
			if strings.HasPrefix(target, "/") {
				cur = root
			}
			comps = append(splitPath(target), comps...)
			continue
		}
		cur = next
	}
	return cur, nil
}

// Resolve returns the inode id that p names, following symlinks.
func (s *Store) Resolve(ctx context.Context, c Cred, p string) (uint64, error) {
	a, err := s.Stat(ctx, c, p)
	return a.Ino, err
}

// Stat returns the attributes of what p names, following symlinks.
func (s *Store) Stat(ctx context.Context, c Cred, p string) (Attr, error) {
	return s.stat(ctx, c, "stat", p, true)
}

// Lstat is Stat that does not follow a symlink in the last component.
func (s *Store) Lstat(ctx context.Context, c Cred, p string) (Attr, error) {
	return s.stat(ctx, c, "lstat", p, false)
}

func (s *Store) stat(ctx context.Context, c Cred, op, p string, follow bool) (Attr, error) {
	a, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (Attr, error) {
		a := newArena()
		n, err := s.resolve(ctx, tx, a, c, p, follow)
		if err != nil {
			return Attr{}, err
		}
		return s.attr(ctx, tx, a, n)
	})
	return a, pathErr(op, p, err)
}

// ResolveParent resolves the directory holding the last component of p and
// returns its id with that component's name.
func (s *Store) ResolveParent(ctx context.Context, c Cred, p string) (uint64, string, error) {
	dir, name := path.Split(path.Clean("/" + p))
	if name == "" {
		return 0, "", pathErr("resolve", p, syscall.EBUSY) // the root itself
	}
	a, err := s.Stat(ctx, c, dir)
	if err != nil {
		return 0, "", err
	}
	if !a.IsDir() {
		return 0, "", pathErr("resolve", p, syscall.ENOTDIR)
	}
	return a.Ino, name, nil
}

// MkdirAll makes p and every missing parent with permission bits mode, like
// os.MkdirAll, and returns the attributes of p.
func (s *Store) MkdirAll(ctx context.Context, c Cred, p string, mode uint32) (Attr, error) {
	if len(p) >= MaxPathLen {
		return Attr{}, pathErr("mkdir", p, syscall.ENAMETOOLONG)
	}
	a, err := s.GetAttr(ctx, c, inode.RootIno)
	if err != nil {
		return Attr{}, err
	}
	prefix := ""
	for _, name := range splitPath(path.Clean("/" + p)) {
		prefix += "/" + name
		next, err := s.Lookup(ctx, c, a.Ino, name)
		if errors.Is(err, syscall.ENOENT) {
			next, err = s.Mkdir(ctx, c, a.Ino, name, mode)
			if errors.Is(err, syscall.EEXIST) { // lost a race: take the winner's
				next, err = s.Lookup(ctx, c, a.Ino, name)
			}
		}
		if err != nil {
			return Attr{}, err
		}
		if next.Type == inode.TypeSymlink {
			if next, err = s.Stat(ctx, c, prefix); err != nil {
				return Attr{}, err
			}
		}
		if !next.IsDir() {
			return Attr{}, pathErr("mkdir", p, syscall.ENOTDIR)
		}
		a = next
	}
	return a, nil
}

// RemoveAll removes p and everything below it, like os.RemoveAll: entries
// go depth first, each in a transaction of its own, so a failure leaves a
// partly removed tree. A missing p is not an error.
func (s *Store) RemoveAll(ctx context.Context, c Cred, p string) error {
	parent, name, err := s.ResolveParent(ctx, c, p)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return err
	}
	a, err := s.Lookup(ctx, c, parent, name)
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.removeTree(ctx, c, parent, name, a)
}

func (s *Store) removeTree(ctx context.Context, c Cred, parent uint64, name string, a Attr) error {
	if !a.IsDir() {
		err := s.Unlink(ctx, c, parent, name)
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return err
	}
	var last []DirEntry
	for {
		ents, _, err := s.ReadDir(ctx, c, a.Ino, "", 256)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			break
		}
		if slices.Equal(ents, last) {
			// Inode ids are never reused, so the same page again means
			// nothing went: entries that remove as ENOENT because their
			// inode is missing. Stop instead of spinning; fsck says more.
			return pathErr("removeall", entPath(a.Ino, ents[0].Name), syscall.EIO)
		}
		last = ents
		for _, e := range ents {
			ca := Attr{Ino: e.Ino, Type: e.Type}
			if err := s.removeTree(ctx, c, a.Ino, e.Name, ca); err != nil {
				return err
			}
		}
	}
	err := s.Rmdir(ctx, c, parent, name)
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	return err
}

// WalkFunc is called for every entry Walk visits, with its path and
// attributes; err is the error reading a directory (then a is the
// directory's). Returning fs.SkipDir skips a directory; any other error
// stops the walk.
type WalkFunc func(p string, a Attr, err error) error

// SkipDir is returned by a WalkFunc to skip a directory. It is fs.SkipDir,
// so either name works.
var SkipDir = fs.SkipDir

// Walk visits root and everything below it in lexical order, depth first,
// without following symlinks. Each directory page is its own snapshot.
func (s *Store) Walk(ctx context.Context, c Cred, root string, fn WalkFunc) error {
	return WalkFS(ctx, s, c, root, fn)
}

// WalkFS is Walk over any FS, built from its Lstat, ReadDir and GetAttr;
// implementations of FS use it for their Walk.
func WalkFS(ctx context.Context, fsys FS, c Cred, root string, fn WalkFunc) error {
	a, err := fsys.Lstat(ctx, c, root)
	if err != nil {
		return fn(root, a, err)
	}
	err = walk(ctx, fsys, c, path.Clean("/"+root), a, fn)
	if errors.Is(err, SkipDir) {
		return nil
	}
	return err
}

func walk(ctx context.Context, fsys FS, c Cred, p string, a Attr, fn WalkFunc) error {
	if err := fn(p, a, nil); err != nil || !a.IsDir() {
		return err
	}
	cursor := ""
	for {
		ents, next, err := fsys.ReadDir(ctx, c, a.Ino, cursor, 0)
		if err != nil {
			return fn(p, a, err)
		}
		for _, e := range ents {
			ca, err := fsys.GetAttr(ctx, c, e.Ino)
			if errors.Is(err, syscall.ENOENT) {
				continue // removed since the listing
			}
			cp := path.Join(p, e.Name)
			if err != nil {
				if err := fn(cp, ca, err); err != nil {
					return err
				}
				continue
			}
			if err := walk(ctx, fsys, c, cp, ca, fn); err != nil {
				if errors.Is(err, SkipDir) && ca.IsDir() {
					continue
				}
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
