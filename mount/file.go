package mount

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fmodeExec is the kernel's __FMODE_EXEC, which it leaves in the flags of
// the open that execve makes.
const fmodeExec = 0x20

// node is the state of a regular file with open handles in this mount.
type node struct {
	ino uint64

	// Guarded by fsys.mu.
	refs int

	// mu serializes writes, truncates and size updates.
	mu        sync.Mutex
	f         *os.File // data file, opened on first use
	size      uint64   // size in meta, if sizeKnown
	sizeKnown bool
	dirty     int64 // Unix ns of the last write whose mtime meta lacks, or 0
	posix     bool  // POSIX locks were taken on it here: flushes drop them
}

// fileHandle is an open regular file.
type fileHandle struct {
	n     *node
	mh    meta.Handle
	write bool
}

// dataFile returns the node's data file, opening it (and with create,
// creating it) on first use; nil, nil if it does not exist and create is
// false. n.mu must be held.
func (f *fsys) dataFile(n *node, create bool) (*os.File, error) {
	if n.f != nil {
		return n.f, nil
	}
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	file, err := os.OpenFile(filepath.Join(f.data, dataName(n.ino)), flags, 0o600)
	if err != nil {
		if !create && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	n.f = file
	return file, nil
}

// closeData closes the data file; n.mu must be held.
func (n *node) closeData() {
	if n.f != nil {
		_ = n.f.Close()
		n.f = nil
	}
}

// truncateData sets the size of ino's data file. n (nil if the inode is
// not open here) is locked by the caller.
func (f *fsys) truncateData(n *node, ino uint64, size uint64) error {
	if n != nil {
		file, err := f.dataFile(n, size > 0)
		if err != nil || file == nil {
			return err
		}
		return file.Truncate(int64(size))
	}
	p := filepath.Join(f.data, dataName(ino))
	err := os.Truncate(p, int64(size))
	if errors.Is(err, os.ErrNotExist) {
		if size == 0 {
			return nil
		}
		file, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		err = file.Truncate(int64(size))
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return err
}

// open records a handle of ino in meta, checked against c, and here.
func (f *fsys) open(c meta.Cred, ino uint64, flags uint32, size *uint64) (uint64, fuse.Status) {
	if flags&fmodeExec != 0 {
		// execve: the kernel checked only that some x bit is set. Execute
		// permission is what counts, not read (a 0711 binary runs).
		a, err := f.fs.GetAttr(f.ctx, c, ino)
		if err != nil {
			return 0, status(err)
		}
		if !c.Permits(a, 1) {
			return 0, fuse.EACCES
		}
		c = meta.RootCred()
	}
	mh, err := f.fs.Open(f.ctx, c, ino, int(flags))
	if err != nil {
		return 0, status(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[ino]
	if n == nil {
		n = &node{ino: ino}
		if size != nil {
			n.size, n.sizeKnown = *size, true
		}
		f.nodes[ino] = n
	}
	n.refs++
	f.nextFh++
	fh := f.nextFh
	f.files[fh] = &fileHandle{n: n, mh: mh, write: flags&syscall.O_ACCMODE != syscall.O_RDONLY}
	return fh, fuse.OK
}

func (f *fsys) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	fh, st := f.open(caller(&in.InHeader, false), in.NodeId, in.Flags, nil)
	out.Fh = fh
	return st
}

func (f *fsys) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	c := caller(&in.InHeader, false)
	mode := in.Mode & 0o7777
	a, err := f.fs.Create(f.ctx, c, in.NodeId, name, mode, true)
	created := err == nil
	if meta.Errno(err) == syscall.EEXIST && in.Flags&syscall.O_EXCL == 0 {
		// O_CREAT of a name that appeared since the kernel's lookup.
		a, err = f.fs.Create(f.ctx, c, in.NodeId, name, mode, false)
	}
	if err != nil {
		return status(err)
	}
	oc := c
	if created {
		// The creating open may write a file it makes read-only, as
		// open(2) has it (git writes its objects so).
		oc = meta.RootCred()
	}
	var size *uint64
	if created {
		size = &a.Size
	}
	fh, st := f.open(oc, a.Ino, in.Flags, size)
	if !st.Ok() {
		return st
	}
	if !created && in.Flags&syscall.O_TRUNC != 0 && a.Type == inode.TypeFile {
		// The kernel takes a CREATE that succeeded for a creation and
		// applies no O_TRUNC of its own.
		zero := uint64(0)
		f.mu.Lock()
		n := f.nodes[a.Ino]
		f.mu.Unlock()
		if a, err = f.setAttr(c, a.Ino, n, meta.SetAttr{Size: &zero}); err != nil {
			f.Release(nil, &fuse.ReleaseIn{Fh: fh})
			return status(err)
		}
	}
	f.entry(&out.EntryOut, a)
	out.Fh = fh
	return fuse.OK
}

func (f *fsys) handle(fh uint64) *fileHandle {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.files[fh]
}

func (f *fsys) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	h := f.handle(in.Fh)
	if h == nil {
		return nil, fuse.EBADF
	}
	h.n.mu.Lock()
	file, err := f.dataFile(h.n, false)
	h.n.mu.Unlock()
	if err != nil {
		return nil, status(err)
	}
	if file == nil {
		return fuse.ReadResultData(nil), fuse.OK // never written: empty
	}
	buf = buf[:min(int(in.Size), len(buf))]
	n, err := file.ReadAt(buf, int64(in.Offset))
	if err != nil && err != io.EOF {
		return nil, status(err)
	}
	return fuse.ReadResultData(buf[:n]), fuse.OK
}

func (f *fsys) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	return f.Writev(cancel, in, [][]byte{data})
}

// Writev writes to the data file, then grows the size in meta if the
// write went past it. A write within the size only notes its time; the
// mtime goes to meta at flush, fsync or release (stat shows it before).
func (f *fsys) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	h := f.handle(in.Fh)
	if h == nil {
		return 0, fuse.EBADF
	}
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	file, err := f.dataFile(n, true)
	if err != nil {
		return 0, status(err)
	}
	off := int64(in.Offset)
	var total int
	for _, b := range data {
		w, err := file.WriteAt(b, off+int64(total))
		total += w
		if err != nil {
			return uint32(total), status(err)
		}
	}
	end := uint64(off) + uint64(total)
	if !n.sizeKnown {
		a, err := f.fs.GetAttr(f.ctx, meta.RootCred(), n.ino)
		if err != nil {
			return 0, status(err)
		}
		n.size, n.sizeKnown = a.Size, true
	}
	if end > n.size {
		// Permission was checked when the handle was opened.
		if _, err := f.fs.SetAttr(f.ctx, meta.RootCred(), n.ino, meta.SetAttr{Size: &end}); err != nil {
			return 0, status(err)
		}
		n.size = end
		n.dirty = 0 // meta set the mtime with the size
	} else if total > 0 {
		n.dirty = time.Now().UnixNano()
	}
	return uint32(total), fuse.OK
}

// flushTimes gives meta the mtime of writes it lacks.
func (f *fsys) flushTimes(n *node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dirty == 0 {
		return nil
	}
	t := time.Unix(0, n.dirty)
	if _, err := f.fs.SetAttr(f.ctx, meta.RootCred(), n.ino, meta.SetAttr{Mtime: &t}); err != nil {
		return err
	}
	n.dirty = 0
	return nil
}

// Flush is a close(2) of a descriptor. It stores the mtime of writes, and
// drops the POSIX locks of the closing process (the kernel's lock owner),
// as close(2) must: the kernel keeps no record of locks a FUSE server holds
// and sends no unlock of its own.
func (f *fsys) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	h := f.handle(in.Fh)
	if h == nil {
		return fuse.EBADF
	}
	err := f.flushTimes(h.n)
	h.n.mu.Lock()
	posix := h.n.posix
	h.n.mu.Unlock()
	if posix {
		lerr := f.fs.SetLk(f.ctx, h.mh, meta.Lock{Type: meta.LockUnlock, Start: 0, End: meta.LockEOF, Owner: in.LockOwner}, false)
		if err == nil {
			err = lerr
		}
	}
	return status(err)
}

func (f *fsys) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	h := f.handle(in.Fh)
	if h == nil {
		return fuse.EBADF
	}
	if err := f.flushTimes(h.n); err != nil {
		return status(err)
	}
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	if h.n.f != nil {
		return status(h.n.f.Sync())
	}
	return fuse.OK
}

// Fallocate supports posix_fallocate (mode 0) and FALLOC_FL_KEEP_SIZE.
func (f *fsys) Fallocate(cancel <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	const keepSize = 1
	if in.Mode&^keepSize != 0 {
		return fuse.Status(syscall.EOPNOTSUPP)
	}
	h := f.handle(in.Fh)
	if h == nil {
		return fuse.EBADF
	}
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	file, err := f.dataFile(n, true)
	if err != nil {
		return status(err)
	}
	if err := syscall.Fallocate(int(file.Fd()), in.Mode, int64(in.Offset), int64(in.Length)); err != nil {
		return status(err)
	}
	if in.Mode&keepSize != 0 {
		return fuse.OK
	}
	end := in.Offset + in.Length
	a, err := f.fs.GetAttr(f.ctx, meta.RootCred(), n.ino)
	if err != nil {
		return status(err)
	}
	n.size, n.sizeKnown = a.Size, true
	if end > n.size {
		if _, err := f.fs.SetAttr(f.ctx, meta.RootCred(), n.ino, meta.SetAttr{Size: &end}); err != nil {
			return status(err)
		}
		n.size = end
	}
	return fuse.OK
}

// Release closes a handle: its meta handle is closed (which drops its
// flocks), and after the last handle of an inode here, the inode's data
// if meta has deleted the inode.
func (f *fsys) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	f.mu.Lock()
	h := f.files[in.Fh]
	if h == nil {
		f.mu.Unlock()
		return
	}
	delete(f.files, in.Fh)
	n := h.n
	f.mu.Unlock()

	if err := f.flushTimes(n); err != nil && meta.Errno(err) != syscall.ENOENT {
		f.log.Error("mount: release: store mtime", "ino", n.ino, "err", err)
	}
	if err := f.fs.Close(f.ctx, h.mh); err != nil {
		f.log.Error("mount: release: close handle", "ino", n.ino, "err", err)
	}
	// The node leaves f.nodes only after meta closed the handle: a remove
	// that races with this release either finds the node and marks it, or
	// finds the inode already deleted by meta and reaps it itself.
	f.mu.Lock()
	n.refs--
	last := n.refs == 0
	if last {
		delete(f.nodes, n.ino)
	}
	f.mu.Unlock()
	if last {
		n.mu.Lock()
		n.closeData()
		n.mu.Unlock()
		// Whether or not a remove here deferred to this release: the last
		// link may have gone through another client of the store while
		// the file was open here, and then no one else knows when the
		// inode goes. (reap asks meta only when a data file exists.)
		f.reap(n.ino)
	}
}
