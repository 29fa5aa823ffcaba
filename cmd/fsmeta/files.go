package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fsmeta/fsmeta/meta"
)

// parseMode reads an octal permission mode (-m 0750).
func parseMode(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("invalid mode %q: want octal permission bits such as 0755", s)
	}
	return uint32(v), nil
}

func mkdirCommand(a *app) *cobra.Command {
	var parents bool
	var mode string
	cmd := &cobra.Command{
		Use:   "mkdir [-p] [-m MODE] DIRECTORY...",
		Short: "Make directories",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			perm, err := parseMode(mode)
			if err != nil {
				return usageError{err}
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					p := storePath(arg)
					if parents {
						_, err = fsys.MkdirAll(ctx, c, p, perm)
					} else {
						var parent uint64
						var name string
						if parent, name, err = fsys.ResolveParent(ctx, c, p); err == nil {
							_, err = fsys.Mkdir(ctx, c, parent, name, perm)
						}
					}
					if err != nil {
						a.failf("mkdir", "cannot create directory '%s': %s", arg, errText(err))
						ok = false
					}
				}
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "make parent directories as needed; no error if existing")
	cmd.Flags().StringVarP(&mode, "mode", "m", "0755", "permission bits, octal (no umask is applied)")
	return cmd
}

func rmdirCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rmdir DIRECTORY...",
		Short: "Remove empty directories",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					parent, name, err := fsys.ResolveParent(ctx, c, storePath(arg))
					if err == nil {
						err = fsys.Rmdir(ctx, c, parent, name)
					}
					if err != nil {
						a.failf("rmdir", "failed to remove '%s': %s", arg, errText(err))
						ok = false
					}
				}
				return ok
			})
		},
	}
}

func rmCommand(a *app) *cobra.Command {
	var recursive, force, dir bool
	cmd := &cobra.Command{
		Use:   "rm [-r] [-f] [-d] FILE...",
		Short: "Remove files or directories",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				if force {
					return nil
				}
				return usageError{errors.New("missing operand")}
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					if err := removeOne(ctx, fsys, c, arg, recursive, dir); err != nil {
						if force && errors.Is(err, syscall.ENOENT) {
							continue
						}
						a.failf("rm", "%s", err.Error())
						ok = false
					}
				}
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove directories and their contents")
	cmd.Flags().BoolVarP(&recursive, "Recursive", "R", false, "same as -r")
	cmd.Flags().Lookup("Recursive").Hidden = true
	cmd.Flags().BoolVarP(&force, "force", "f", false, "ignore missing files, never fail for them")
	cmd.Flags().BoolVarP(&dir, "dir", "d", false, "remove empty directories")
	return cmd
}

// cmdError is a failure already worded as coreutils words it; it keeps the
// errno for errors.Is.
type cmdError struct {
	msg string
	err error
}

func (e *cmdError) Error() string { return e.msg }
func (e *cmdError) Unwrap() error { return e.err }

func removeOne(ctx context.Context, fsys meta.FS, c meta.Cred, arg string, recursive, dir bool) error {
	fail := func(err error) error {
		return &cmdError{fmt.Sprintf("cannot remove '%s': %s", arg, errText(err)), err}
	}
	p := storePath(arg)
	if path.Clean(p) == "/" {
		return &cmdError{"it is dangerous to operate on '/'; refusing", syscall.EBUSY}
	}
	at, err := fsys.Lstat(ctx, c, p)
	if err != nil {
		return fail(err)
	}
	if at.IsDir() && recursive {
		if err := fsys.RemoveAll(ctx, c, p); err != nil {
			return fail(err)
		}
		return nil
	}
	if at.IsDir() && !dir {
		return fail(syscall.EISDIR)
	}
	parent, name, err := fsys.ResolveParent(ctx, c, p)
	if err != nil {
		return fail(err)
	}
	if at.IsDir() {
		err = fsys.Rmdir(ctx, c, parent, name)
	} else {
		err = fsys.Unlink(ctx, c, parent, name)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

func mvCommand(a *app) *cobra.Command {
	var noClobber, exchange, noTarget bool
	cmd := &cobra.Command{
		Use:   "mv [-n] [--exchange] [-T] SOURCE... DEST",
		Short: "Rename or move files (one atomic rename each)",
		Long: `mv renames SOURCE to DEST, or moves each SOURCE into the directory DEST, each
with one atomic rename. -n (RENAME_NOREPLACE) never replaces an existing DEST: it
reports "not replacing" and exits 1, as coreutils 9.2 to 9.4 did. --exchange
(RENAME_EXCHANGE) swaps SOURCE and DEST atomically; both must exist.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if noClobber && exchange {
				return usageError{errors.New("--no-clobber and --exchange are mutually exclusive")}
			}
			srcs, dst := args[:len(args)-1], args[len(args)-1]
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				into := false
				if !noTarget && !exchange {
					if da, err := fsys.Stat(ctx, c, storePath(dst)); err == nil && da.IsDir() {
						into = true
					}
				}
				if len(srcs) > 1 && !into {
					a.failf("mv", "target '%s' is not a directory", dst)
					return false
				}
				var flags meta.RenameFlags
				if noClobber {
					flags |= meta.RenameNoReplace
				}
				if exchange {
					flags |= meta.RenameExchange
				}
				ok := true
				for _, src := range srcs {
					to := dst
					if into {
						to = path.Join(dst, path.Base(storePath(src)))
					}
					if err := moveOne(ctx, fsys, c, src, to, flags); err != nil {
						a.failf("mv", "%s", err.Error())
						ok = false
					}
				}
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&noClobber, "no-clobber", "n", false, "do not replace an existing destination (RENAME_NOREPLACE)")
	cmd.Flags().BoolVar(&exchange, "exchange", false, "exchange source and destination atomically (RENAME_EXCHANGE)")
	cmd.Flags().BoolVarP(&noTarget, "no-target-directory", "T", false, "treat DEST as a name, never as a directory to move into")
	return cmd
}

func moveOne(ctx context.Context, fsys meta.FS, c meta.Cred, src, dst string, flags meta.RenameFlags) error {
	sp, dp := storePath(src), storePath(dst)
	if _, err := fsys.Lstat(ctx, c, sp); err != nil {
		return &cmdError{fmt.Sprintf("cannot stat '%s': %s", src, errText(err)), err}
	}
	fail := func(err error) error {
		if flags&meta.RenameNoReplace != 0 && errors.Is(err, syscall.EEXIST) {
			return &cmdError{fmt.Sprintf("not replacing '%s'", dst), err}
		}
		return &cmdError{fmt.Sprintf("cannot move '%s' to '%s': %s", src, dst, errText(err)), err}
	}
	srcParent, srcName, err := fsys.ResolveParent(ctx, c, sp)
	if err != nil {
		return fail(err)
	}
	dstParent, dstName, err := fsys.ResolveParent(ctx, c, dp)
	if err != nil {
		return fail(err)
	}
	if err := fsys.Rename(ctx, c, srcParent, srcName, dstParent, dstName, flags); err != nil {
		return fail(err)
	}
	return nil
}

func lnCommand(a *app) *cobra.Command {
	var symbolic bool
	cmd := &cobra.Command{
		Use:   "ln [-s] TARGET [LINK_NAME]",
		Short: "Make hard or symbolic links",
		Long: `ln makes LINK_NAME a hard link to TARGET, or with -s a symbolic link holding the
text TARGET. Without LINK_NAME, or when LINK_NAME is a directory, the link is made
in it (the root without LINK_NAME) under TARGET's last name. A hard link to a
symbolic link links the symbolic link itself, as GNU ln does on Linux.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[0]
			link := "/"
			if len(args) == 2 {
				link = args[1]
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				lp := storePath(link)
				if da, err := fsys.Stat(ctx, c, lp); err == nil && da.IsDir() {
					lp = path.Join(lp, path.Base(target))
					link = path.Join(link, path.Base(target))
				}
				if err := linkOne(ctx, fsys, c, target, link, lp, symbolic); err != nil {
					a.failf("ln", "%s", err.Error())
					return false
				}
				return true
			})
		},
	}
	cmd.Flags().BoolVarP(&symbolic, "symbolic", "s", false, "make a symbolic link")
	return cmd
}

func linkOne(ctx context.Context, fsys meta.FS, c meta.Cred, target, link, lp string, symbolic bool) error {
	what := "hard link"
	if symbolic {
		what = "symbolic link"
	}
	fail := func(err error) error {
		if symbolic {
			return &cmdError{fmt.Sprintf("failed to create %s '%s': %s", what, link, errText(err)), err}
		}
		return &cmdError{fmt.Sprintf("failed to create %s '%s' => '%s': %s", what, link, target, errText(err)), err}
	}
	var ta meta.Attr
	if !symbolic {
		var err error
		if ta, err = fsys.Lstat(ctx, c, storePath(target)); err != nil {
			return &cmdError{fmt.Sprintf("failed to access '%s': %s", target, errText(err)), err}
		}
		if ta.IsDir() {
			return &cmdError{fmt.Sprintf("'%s': hard link not allowed for directory", target), syscall.EPERM}
		}
	}
	parent, name, err := fsys.ResolveParent(ctx, c, lp)
	if err != nil {
		return fail(err)
	}
	if symbolic {
		_, err = fsys.Symlink(ctx, c, parent, name, target)
	} else {
		_, err = fsys.Link(ctx, c, ta.Ino, parent, name)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

func touchCommand(a *app) *cobra.Command {
	var noCreate bool
	cmd := &cobra.Command{
		Use:   "touch [-c] FILE...",
		Short: "Create empty files or set their times to now",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					if err := touchOne(ctx, fsys, c, storePath(arg), noCreate); err != nil {
						a.failf("touch", "cannot touch '%s': %s", arg, errText(err))
						ok = false
					}
				}
				return ok
			})
		},
	}
	cmd.Flags().BoolVarP(&noCreate, "no-create", "c", false, "do not create missing files")
	return cmd
}

func touchOne(ctx context.Context, fsys meta.FS, c meta.Cred, p string, noCreate bool) error {
	at, err := fsys.Stat(ctx, c, p)
	if errors.Is(err, syscall.ENOENT) {
		if noCreate {
			return nil
		}
		parent, name, err := fsys.ResolveParent(ctx, c, p)
		if err != nil {
			return err
		}
		_, err = fsys.Create(ctx, c, parent, name, 0o644, false)
		return err
	}
	if err != nil {
		return err
	}
	_, err = fsys.SetAttr(ctx, c, at.Ino, meta.SetAttr{AtimeNow: true, MtimeNow: true})
	return err
}

func fsckCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fsck",
		Short: "Check the whole filesystem's consistency; exit 1 on problems",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				r, err := fsys.Check(ctx)
				if err != nil {
					a.failf("fsck", "%s", errText(err))
					return false
				}
				if asJSON {
					type problem struct {
						Kind   string `json:"kind"`
						Ino    uint64 `json:"ino"`
						Detail string `json:"detail"`
					}
					out := struct {
						OK       bool      `json:"ok"`
						Inodes   int       `json:"inodes"`
						Dirs     int       `json:"dirs"`
						Entries  int       `json:"entries"`
						Problems []problem `json:"problems"`
					}{r.OK(), r.Inodes, r.Dirs, r.Entries, []problem{}}
					for _, p := range r.Problems {
						out.Problems = append(out.Problems, problem{p.Kind, p.Ino, p.Detail})
					}
					writeJSON(a.stdout, out)
				} else {
					fmt.Fprintf(a.stdout, "fsck: %d inodes, %d directories, %d entries: ", r.Inodes, r.Dirs, r.Entries)
					if r.OK() {
						fmt.Fprintln(a.stdout, "clean")
					} else {
						fmt.Fprintf(a.stdout, "%d PROBLEMS\n", len(r.Problems))
						for _, p := range r.Problems {
							fmt.Fprintf(a.stdout, "  %v\n", p)
						}
					}
				}
				return r.OK()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print the report as JSON: {"ok", "inodes", "dirs", "entries", "problems": [{"kind", "ino", "detail"}]}`)
	return cmd
}
