package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v) // the values are plain structs of strings and numbers
	fmt.Fprintf(w, "%s\n", b)
}

// lsEntry is one line of ls output.
type lsEntry struct {
	name   string // as displayed
	path   string // in the store
	attr   meta.Attr
	target string // of a symlink
}

type lsOpts struct {
	long, all, one, dirSelf, asJSON bool
}

func lsCommand(a *app) *cobra.Command {
	var o lsOpts
	cmd := &cobra.Command{
		Use:   "ls [-l] [-a] [-d] [-1] [--json] [FILE...]",
		Short: "List directory contents",
		Long: `ls lists each directory FILE's entries (the root without FILE), or FILE itself
when it is not a directory, one name per line, sorted by name. -l prints the long
form of coreutils with numeric ids (as ls -n): mode, links, uid, gid, size, mtime,
name and "-> target" for symbolic links. --json prints one JSON object per entry
(JSON Lines) with path, name, ino, type, mode, mode_text, nlink, uid, gid, size,
atime, mtime, ctime and target.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"/"}
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				return a.ls(ctx, fsys, c, args, o)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.long, "long", "l", false, "long listing: mode, links, uid, gid, size, mtime, name")
	f.BoolVarP(&o.all, "all", "a", false, "include entries starting with '.', and '.' and '..'")
	f.BoolVarP(&o.one, "one", "1", false, "one entry per line (always so; accepted for compatibility)")
	f.BoolVarP(&o.dirSelf, "directory", "d", false, "list directories themselves, not their contents")
	f.BoolVar(&o.asJSON, "json", false, "print JSON Lines, one object per entry")
	return cmd
}

func (a *app) ls(ctx context.Context, fsys meta.FS, c meta.Cred, args []string, o lsOpts) bool {
	ok := true
	var files []lsEntry
	var dirs []lsEntry
	for _, arg := range args {
		p := storePath(arg)
		var at meta.Attr
		var err error
		if o.long || o.dirSelf {
			at, err = fsys.Lstat(ctx, c, p)
		} else {
			at, err = fsys.Stat(ctx, c, p)
		}
		if err != nil {
			a.failf("ls", "cannot access '%s': %s", arg, errText(err))
			ok = false
			continue
		}
		e := lsEntry{name: arg, path: p, attr: at}
		if at.IsDir() && !o.dirSelf {
			dirs = append(dirs, e)
			continue
		}
		if at.Type == inode.TypeSymlink && o.long {
			e.target, _ = fsys.Readlink(ctx, c, at.Ino)
		}
		files = append(files, e)
	}
	slices.SortFunc(files, func(x, y lsEntry) int { return strings.Compare(x.name, y.name) })
	slices.SortFunc(dirs, func(x, y lsEntry) int { return strings.Compare(x.name, y.name) })
	a.printEntries(files, o)
	headers := len(dirs)+len(files) > 1
	for i, d := range dirs {
		ents, err := listDir(ctx, fsys, c, d, o)
		if err != nil {
			a.failf("ls", "cannot open directory '%s': %s", d.name, errText(err))
			ok = false
			continue
		}
		if headers && !o.asJSON {
			if i > 0 || len(files) > 0 {
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintf(a.stdout, "%s:\n", d.name)
		}
		a.printEntries(ents, o)
	}
	return ok
}

// listDir returns the entries of directory d, sorted by name, with their
// attributes when the listing needs them.
func listDir(ctx context.Context, fsys meta.FS, c meta.Cred, d lsEntry, o lsOpts) ([]lsEntry, error) {
	ents, err := fsys.ReadDirAll(ctx, c, d.attr.Ino)
	if err != nil {
		return nil, err
	}
	var out []lsEntry
	if o.all {
		out = append(out, lsEntry{name: ".", path: d.path, attr: d.attr})
		dotdot := lsEntry{name: "..", path: path.Dir(path.Clean(d.path))}
		if dotdot.attr, err = fsys.Stat(ctx, c, dotdot.path); err != nil {
			return nil, err
		}
		out = append(out, dotdot)
	}
	for _, e := range ents {
		if !o.all && strings.HasPrefix(e.Name, ".") {
			continue
		}
		le := lsEntry{name: e.Name, path: path.Join(d.path, e.Name), attr: meta.Attr{Ino: e.Ino, Type: e.Type}}
		if o.long || o.asJSON {
			if le.attr, err = fsys.Lookup(ctx, c, d.attr.Ino, e.Name); err != nil {
				return nil, err
			}
			if le.attr.Type == inode.TypeSymlink {
				if le.target, err = fsys.Readlink(ctx, c, le.attr.Ino); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, le)
	}
	slices.SortFunc(out, func(x, y lsEntry) int { return strings.Compare(x.name, y.name) })
	return out, nil
}

func (a *app) printEntries(ents []lsEntry, o lsOpts) {
	switch {
	case o.asJSON:
		for _, e := range ents {
			writeJSON(a.stdout, toJSONAttr(e.path, e.name, e.attr, e.target))
		}
	case o.long:
		a.printLong(ents)
	default:
		for _, e := range ents {
			fmt.Fprintln(a.stdout, e.name)
		}
	}
}

// printLong prints ls -l lines with coreutils' column alignment: numbers
// right-aligned to the widest of the listing.
func (a *app) printLong(ents []lsEntry) {
	now := time.Now()
	type row struct{ mode, nlink, uid, gid, size, when, name string }
	rows := make([]row, len(ents))
	var w [5]int
	for i, e := range ents {
		at := e.attr
		size := strconv.FormatUint(at.Size, 10)
		if at.Type == inode.TypeChar || at.Type == inode.TypeBlock {
			maj, min := devNumbers(at.Rdev)
			size = fmt.Sprintf("%d, %d", maj, min)
		}
		name := e.name
		if at.Type == inode.TypeSymlink {
			name += " -> " + e.target
		}
		r := row{modeString(at.Type, at.Mode), strconv.FormatUint(uint64(at.Nlink), 10),
			strconv.FormatUint(uint64(at.Uid), 10), strconv.FormatUint(uint64(at.Gid), 10), size,
			lsTime(at.Mtime, now), name}
		for j, s := range []string{r.nlink, r.uid, r.gid, r.size, r.when} {
			w[j] = max(w[j], len(s))
		}
		rows[i] = r
	}
	for _, r := range rows {
		fmt.Fprintf(a.stdout, "%s %*s %*s %*s %*s %s %s\n", r.mode, w[0], r.nlink, w[1], r.uid, w[2], r.gid, w[3], r.size, r.when, r.name)
	}
}

func statCommand(a *app) *cobra.Command {
	var follow, asJSON bool
	cmd := &cobra.Command{
		Use:   "stat [-L] [--json] FILE...",
		Short: "Show file status",
		Long: `stat prints what the filesystem records about each FILE in the shape of coreutils
stat; a symbolic link is described itself unless -L follows it. --json prints one
JSON object per FILE (JSON Lines), as ls --json does.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					p := storePath(arg)
					var at meta.Attr
					var err error
					if follow {
						at, err = fsys.Stat(ctx, c, p)
					} else {
						at, err = fsys.Lstat(ctx, c, p)
					}
					var target string
					if err == nil && at.Type == inode.TypeSymlink {
						target, err = fsys.Readlink(ctx, c, at.Ino)
					}
					if err != nil {
						a.failf("stat", "cannot statx '%s': %s", arg, errText(err))
						ok = false
						continue
					}
					if asJSON {
						writeJSON(a.stdout, toJSONAttr(p, "", at, target))
						continue
					}
					a.printStat(arg, at, target)
				}
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&follow, "dereference", "L", false, "follow symbolic links")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON Lines, one object per file")
	return cmd
}

func (a *app) printStat(name string, at meta.Attr, target string) {
	w := a.stdout
	if at.Type == inode.TypeSymlink {
		name = fmt.Sprintf("%s -> %s", name, target)
	}
	fmt.Fprintf(w, "  File: %s\n", name)
	fmt.Fprintf(w, "  Size: %-10d\tInode: %-10d\tLinks: %-5d %s\n", at.Size, at.Ino, at.Nlink, typeText(at))
	if at.Type == inode.TypeChar || at.Type == inode.TypeBlock {
		maj, min := devNumbers(at.Rdev)
		fmt.Fprintf(w, "Device type: %d,%d\n", maj, min)
	}
	fmt.Fprintf(w, "Access: (%04o/%s)  Uid: (%5d)   Gid: (%5d)\n", at.Mode, modeString(at.Type, at.Mode), at.Uid, at.Gid)
	fmt.Fprintf(w, "Access: %s\n", statTime(at.Atime))
	fmt.Fprintf(w, "Modify: %s\n", statTime(at.Mtime))
	fmt.Fprintf(w, "Change: %s\n", statTime(at.Ctime))
}

func treeCommand(a *app) *cobra.Command {
	var all bool
	var level int
	cmd := &cobra.Command{
		Use:   "tree [-a] [-L LEVEL] [DIRECTORY...]",
		Short: "List directories as a tree",
		Long: `tree prints each DIRECTORY (the root without one) and everything below it in the
shape of the tree command, symbolic links as "name -> target", then the count of
directories and files.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"/"}
			}
			if level < 0 {
				return usageError{fmt.Errorf("-L %d: the level must be at least 1", level)}
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				var dirs, files int
				for _, arg := range args {
					at, err := fsys.Stat(ctx, c, storePath(arg))
					if err != nil {
						a.failf("tree", "%s [error opening dir: %s]", arg, errText(err))
						ok = false
						continue
					}
					fmt.Fprintln(a.stdout, arg)
					if !at.IsDir() {
						files++
						continue
					}
					t := &treeWalk{a: a, fsys: fsys, c: c, all: all, level: level}
					if err := t.dir(ctx, at.Ino, "", 1); err != nil {
						a.failf("tree", "%s: %s", arg, errText(err))
						ok = false
					}
					dirs += t.dirs
					files += t.files
				}
				plural := func(n int, one, many string) string {
					if n == 1 {
						return one
					}
					return many
				}
				fmt.Fprintf(a.stdout, "\n%d %s, %d %s\n", dirs, plural(dirs, "directory", "directories"), files, plural(files, "file", "files"))
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "include entries starting with '.'")
	cmd.Flags().IntVarP(&level, "level", "L", 0, "descend at most LEVEL directories (0: no limit)")
	return cmd
}

type treeWalk struct {
	a           *app
	fsys        meta.FS
	c           meta.Cred
	all         bool
	level       int
	dirs, files int
}

func (t *treeWalk) dir(ctx context.Context, ino uint64, prefix string, depth int) error {
	ents, err := t.fsys.ReadDirAll(ctx, t.c, ino)
	if err != nil {
		return err
	}
	ents = slices.DeleteFunc(ents, func(e meta.DirEntry) bool { return !t.all && strings.HasPrefix(e.Name, ".") })
	slices.SortFunc(ents, func(x, y meta.DirEntry) int { return strings.Compare(x.Name, y.Name) })
	for i, e := range ents {
		branch, next := "├── ", "│   "
		if i == len(ents)-1 {
			branch, next = "└── ", "    "
		}
		name := e.Name
		if e.Type == inode.TypeSymlink {
			target, err := t.fsys.Readlink(ctx, t.c, e.Ino)
			if err != nil {
				return err
			}
			name += " -> " + target
		}
		fmt.Fprintf(t.a.stdout, "%s%s%s\n", prefix, branch, name)
		if e.Type != inode.TypeDir {
			t.files++
			continue
		}
		t.dirs++
		if t.level == 0 || depth < t.level {
			if err := t.dir(ctx, e.Ino, prefix+next, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
