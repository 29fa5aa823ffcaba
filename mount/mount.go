package mount

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Server is a mounted filesystem: the FUSE server answering the kernel for
// one mount point.
type Server struct {
	srv  *fuse.Server
	fs   *fsys
	dir  string
	done chan struct{}

	swept    chan struct{} // closed when the sweep of DataDir ends
	sweepErr error         // what it failed with; read after swept
}

// Available reports why FUSE cannot be mounted here, or nil if it can: the
// kernel's /dev/fuse and the fusermount3 (or fusermount) helper must exist.
func Available() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("%w: %v", ErrNoFUSE, err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err2 := exec.LookPath("fusermount"); err2 != nil {
			return fmt.Errorf("%w: fusermount3 is not installed (Debian: apt-get install fuse3): %v", ErrNoFUSE, err)
		}
	}
	return nil
}

// Mount mounts fsys on dir and serves it until Unmount (or an external
// fusermount3 -u). ctx bounds the mounting only: checking the store and the
// mount itself. Once mounted, DataDir is swept in the background of
// contents whose inodes are gone (one GetAttr per data file, which over a
// remote store would otherwise hold the mount back); WaitSwept reports
// when that is done. fsys is not closed at unmount; it stays the caller's.
func Mount(ctx context.Context, fsys meta.FS, dir string, opts Options) (*Server, error) {
	opts.setDefaults()
	if opts.DataDir == "" {
		return nil, ErrNoDataDir
	}
	if err := Available(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("mount: data directory: %w", err)
	}
	data, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mount: data directory: %w", err)
	}
	if a, err := fsys.GetAttr(ctx, meta.RootCred(), inode.RootIno); err != nil {
		return nil, fmt.Errorf("mount: root of the store: %w", err)
	} else if !a.IsDir() {
		return nil, fmt.Errorf("mount: root inode %d of the store is a %v", inode.RootIno, a.Type)
	}
	f := newFsys(fsys, data, opts)
	mo := &fuse.MountOptions{
		AllowOther: opts.AllowOther,
		FsName:     opts.FSName,
		Name:       "fsmeta",
		Debug:      opts.Debug,
		// Locks go to meta (flock and POSIX byte ranges).
		EnableLocks: true,
		// The kernel asks for security.capability before every write;
		// answer it without a round trip to meta.
		IgnoreSecurityLabels: true,
		// Fewer, larger writes: each one that grows a file updates its
		// size in meta.
		MaxWrite: 1 << 20,
	}
	srv, err := fuse.NewServer(f, dir, mo)
	if err != nil {
		f.stop()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	s := &Server{srv: srv, fs: f, dir: dir, done: make(chan struct{}), swept: make(chan struct{})}
	go func() {
		srv.Serve()
		f.stop()
		<-s.swept
		close(s.done)
	}()
	if err := srv.WaitMount(); err != nil {
		close(s.swept)
		_ = s.Unmount()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	go func() {
		// Inode ids are never reused, so a data file whose inode is gone
		// cannot come back to life while the mount serves.
		if err := f.sweep(f.ctx); err != nil && f.ctx.Err() == nil {
			s.sweepErr = fmt.Errorf("mount: sweep data directory %s: %w", data, err)
			f.log.Error("sweep of the data directory stopped", "dir", data, "err", err)
		}
		close(s.swept)
	}()
	return s, nil
}

// WaitSwept blocks until the start-up sweep of DataDir has ended, or ctx
// ends, and returns the error that stopped the sweep, if any (it is also
// logged). An unmount stops the sweep without an error.
func (s *Server) WaitSwept(ctx context.Context) error {
	select {
	case <-s.swept:
		return s.sweepErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dir is the mount point.
func (s *Server) Dir() string { return s.dir }

// Unmount unmounts the filesystem (fusermount3 -u, retried briefly while
// the kernel still holds files) and waits for the server to stop. It fails
// with the helper's message, EBUSY typically, while processes use the
// mount; the mount then stays. Calls after a successful one return nil.
func (s *Server) Unmount() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.srv.Unmount(); err != nil {
		return fmt.Errorf("unmount %s: %w", s.dir, err)
	}
	<-s.done
	return nil
}

// Wait blocks until the filesystem is unmounted, by Unmount or from
// outside, and the server has released what it held.
func (s *Server) Wait() { <-s.done }

// dataName is the name of ino's data file.
func dataName(ino uint64) string { return strconv.FormatUint(ino, 10) }

// sweep removes data files of inodes meta no longer has.
func (f *fsys) sweep(ctx context.Context) error {
	ents, err := os.ReadDir(f.data)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		ino, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil || !e.Type().IsRegular() {
			continue // not ours
		}
		_, err = f.fs.GetAttr(ctx, meta.RootCred(), ino)
		switch {
		case meta.Errno(err) == 0:
		case errors.Is(err, os.ErrNotExist):
			if err := os.Remove(filepath.Join(f.data, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		default:
			return err
		}
	}
	return nil
}
