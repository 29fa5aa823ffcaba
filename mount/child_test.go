package mount_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"golang.org/x/sys/unix"
)

// runChild runs commands in a child process: one command, or "batch" and
// a JSON list of commands. For each it prints "errno N" (0 for success),
// and the command's output on the next line (quoted for a batch). The exit
// status is nonzero only for a malformed command.
func runChild(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "no command")
		return 2
	}
	if args[0] == "batch" {
		var cmds [][]string
		if err := json.Unmarshal([]byte(args[1]), &cmds); err != nil {
			fmt.Fprintln(os.Stderr, "bad batch:", err)
			return 2
		}
		for _, c := range cmds {
			code, out, ok := doChild(c)
			if !ok {
				return 2
			}
			fmt.Printf("errno %d\n%s\n", code, strconv.Quote(out))
		}
		return 0
	}
	code, out, ok := doChild(args)
	if !ok {
		return 2
	}
	fmt.Printf("errno %d\n%s\n", code, out)
	return 0
}

// doChild runs one command, reporting its errno and output; ok is false
// for an unknown command.
func doChild(args []string) (code syscall.Errno, output string, ok bool) {
	num := func(i int) int {
		v, err := strconv.ParseInt(args[i], 0, 64)
		if err != nil {
			panic(fmt.Sprintf("argument %d of %v: %v", i, args, err))
		}
		return int(v)
	}
	var err error
	var out string
	switch a := args[1:]; args[0] {
	case "open": // path flags mode
		var fd int
		fd, err = syscall.Open(a[0], num(2), uint32(num(3)))
		if err == nil {
			syscall.Close(fd)
		}
	case "read":
		var b []byte
		b, err = os.ReadFile(a[0])
		out = string(b)
	case "append":
		var f *os.File
		f, err = os.OpenFile(a[0], os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			_, err = f.WriteString(a[1])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	case "create": // path mode: O_CREAT|O_EXCL|O_WRONLY, then write
		var fd int
		fd, err = syscall.Open(a[0], syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, uint32(num(2)))
		if err == nil {
			_, err = syscall.Write(fd, []byte("x"))
			syscall.Close(fd)
		}
	case "mkdir":
		err = syscall.Mkdir(a[0], uint32(num(2)))
	case "rmdir":
		err = syscall.Rmdir(a[0])
	case "unlink":
		err = syscall.Unlink(a[0])
	case "rename":
		err = syscall.Rename(a[0], a[1])
	case "link":
		err = syscall.Link(a[0], a[1])
	case "symlink":
		err = syscall.Symlink(a[0], a[1])
	case "chmod":
		err = syscall.Chmod(a[0], uint32(num(2)))
	case "chown":
		err = syscall.Chown(a[0], num(2), num(3))
	case "truncate":
		err = syscall.Truncate(a[0], int64(num(2)))
	case "utimes-now":
		err = unix.UtimesNanoAt(unix.AT_FDCWD, a[0], []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}, 0)
	case "utimes-past":
		ts := unix.NsecToTimespec(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		err = unix.UtimesNanoAt(unix.AT_FDCWD, a[0], []unix.Timespec{ts, ts}, 0)
	case "readdir":
		var ents []os.DirEntry
		ents, err = os.ReadDir(a[0])
		out = strconv.Itoa(len(ents))
	case "stat":
		var st syscall.Stat_t
		err = syscall.Stat(a[0], &st)
	case "access":
		err = syscall.Access(a[0], uint32(num(2)))
	case "chdir":
		err = syscall.Chdir(a[0])
	case "exec":
		err = exec.Command(a[0]).Run()
		var ee *exec.ExitError
		if ok := asExit(err, &ee); ok {
			err = nil
			out = strconv.Itoa(ee.ExitCode())
		}
	case "setxattr":
		err = syscall.Setxattr(a[0], a[1], []byte(a[2]), 0)
	case "getxattr":
		buf := make([]byte, 256)
		var n int
		n, err = syscall.Getxattr(a[0], a[1], buf)
		if err == nil {
			out = string(buf[:n])
		}
	case "flock": // path: open, flock LOCK_EX|LOCK_NB, close
		var f *os.File
		f, err = os.Open(a[0])
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			f.Close()
		}
	case "setlk": // path start len: F_SETLK a write lock, then exit (dropping it)
		var f *os.File
		f, err = os.OpenFile(a[0], os.O_RDWR, 0)
		if err == nil {
			lk := syscall.Flock_t{Type: syscall.F_WRLCK, Start: int64(num(2)), Len: int64(num(3))}
			err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
			f.Close()
		}
	case "getlk": // path start len: F_GETLK for a write lock; prints type start len pid
		var f *os.File
		f, err = os.OpenFile(a[0], os.O_RDWR, 0)
		if err == nil {
			lk := syscall.Flock_t{Type: syscall.F_WRLCK, Start: int64(num(2)), Len: int64(num(3))}
			err = syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk)
			f.Close()
			typ := map[int16]string{syscall.F_RDLCK: "read", syscall.F_WRLCK: "write", syscall.F_UNLCK: "unlock"}[lk.Type]
			out = fmt.Sprintf("%s %d %d %d", typ, lk.Start, lk.Len, lk.Pid)
		}
	case "renames": // root n seed: random renames among root's three dirs
		out, err = renameStorm(a[0], num(2), uint64(num(3)))
	default:
		fmt.Fprintln(os.Stderr, "unknown command", args[0])
		return 0, "", false
	}
	return meta.Errno(err), out, true
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*ee = e
	}
	return ok
}

// stormDirs and stormNames are the names renameStorm moves between.
var stormDirs = []string{"a", "b", "c", "a/x", "b/y"}

const stormNames = 12

// renameStorm does n renames of random names (files and directories, see
// buildStorm) to random places under root with rename(2), as mv does, and
// reports how many succeeded; ENOENT, EINVAL (a directory into itself),
// ENOTEMPTY, EEXIST, EISDIR and ENOTDIR are the expected failures.
func renameStorm(root string, n int, seed uint64) (string, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ok := 0
	for i := 0; i < n; i++ {
		pick := func() string {
			d := stormDirs[r.IntN(len(stormDirs))]
			var name string
			if r.IntN(4) == 0 {
				name = "d" + strconv.Itoa(r.IntN(3))
			} else {
				name = "f" + strconv.Itoa(r.IntN(stormNames))
			}
			return filepath.Join(root, d, name)
		}
		err := os.Rename(pick(), pick())
		switch meta.Errno(err) {
		case 0:
			ok++
		case syscall.ENOENT, syscall.EINVAL, syscall.ENOTEMPTY, syscall.EEXIST, syscall.EISDIR, syscall.ENOTDIR, syscall.EBUSY:
		default:
			return strings.TrimSpace(strconv.Itoa(ok)), err
		}
	}
	return strconv.Itoa(ok), nil
}
