package mount

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fsys answers FUSE requests with meta.FS calls. The node id of a request
// is a meta inode id.
type fsys struct {
	fuse.RawFileSystem // ENOSYS for what is not implemented here

	fs   meta.FS
	data string // absolute DataDir
	opts Options
	log  *slog.Logger

	ctx    context.Context // operations; cancelled when the server stops
	cancel context.CancelFunc

	mu     sync.Mutex
	nodes  map[uint64]*node // inodes with open file handles
	files  map[uint64]*fileHandle
	dirs   map[uint64]*dirHandle
	nextFh uint64
}

func newFsys(fs meta.FS, data string, opts Options) *fsys {
	ctx, cancel := context.WithCancel(context.Background())
	return &fsys{
		RawFileSystem: fuse.NewDefaultRawFileSystem(),
		fs:            fs,
		data:          data,
		opts:          opts,
		log:           opts.Logger,
		ctx:           ctx,
		cancel:        cancel,
		nodes:         make(map[uint64]*node),
		files:         make(map[uint64]*fileHandle),
		dirs:          make(map[uint64]*dirHandle),
	}
}

// stop releases what the kernel left open (it releases every handle before
// an unmount completes, so normally nothing) and cancels operations.
func (f *fsys) stop() {
	f.mu.Lock()
	files, dirs := f.files, f.dirs
	f.files, f.dirs = make(map[uint64]*fileHandle), make(map[uint64]*dirHandle)
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), 10*time.Second)
	defer cancel()
	for _, h := range files {
		_ = f.fs.Close(ctx, h.mh)
		h.n.mu.Lock()
		h.n.closeData()
		h.n.mu.Unlock()
	}
	for _, d := range dirs {
		d.mu.Lock()
		lockH := d.lockH
		d.lockH = nil
		d.mu.Unlock()
		if lockH != nil {
			_ = f.fs.Close(ctx, *lockH)
		}
	}
	f.cancel()
}

func (f *fsys) String() string { return "fsmeta" }

// status is the FUSE status of an error from meta or from a data file.
func status(err error) fuse.Status {
	if err == nil {
		return fuse.OK
	}
	return fuse.Status(meta.Errno(err))
}

// fillAttr converts a meta attribute, with what this mount knows of writes
// not yet in meta.
func (f *fsys) fillAttr(out *fuse.Attr, a meta.Attr) {
	if a.Type == inode.TypeFile {
		f.mu.Lock()
		n := f.nodes[a.Ino]
		f.mu.Unlock()
		if n != nil {
			n.mu.Lock()
			if d := time.Unix(0, n.dirty); n.dirty != 0 && d.After(a.Mtime) {
				a.Mtime, a.Ctime = d, d
			}
			n.mu.Unlock()
		}
	}
	*out = fuse.Attr{
		Ino:     a.Ino,
		Size:    a.Size,
		Blocks:  (a.Size + 511) / 512,
		Mode:    a.StMode(),
		Nlink:   a.Nlink,
		Owner:   fuse.Owner{Uid: a.Uid, Gid: a.Gid},
		Rdev:    a.Rdev,
		Blksize: 4096,
	}
	out.Atime, out.Atimensec = uint64(a.Atime.Unix()), uint32(a.Atime.Nanosecond())
	out.Mtime, out.Mtimensec = uint64(a.Mtime.Unix()), uint32(a.Mtime.Nanosecond())
	out.Ctime, out.Ctimensec = uint64(a.Ctime.Unix()), uint32(a.Ctime.Nanosecond())
}

func (f *fsys) entry(out *fuse.EntryOut, a meta.Attr) {
	out.NodeId = a.Ino
	out.Generation = 1 // meta never reuses an inode id
	out.SetEntryTimeout(f.opts.EntryTimeout)
	out.SetAttrTimeout(f.opts.AttrTimeout)
	f.fillAttr(&out.Attr, a)
}

func (f *fsys) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.fs.Lookup(f.ctx, caller(h, false), h.NodeId, name)
	if err != nil {
		return status(err)
	}
	f.entry(out, a)
	return fuse.OK
}

// Forget has nothing to do: the mount keeps no state per node id.
func (f *fsys) Forget(nodeid, nlookup uint64) {}

func (f *fsys) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	a, err := f.fs.GetAttr(f.ctx, caller(&in.InHeader, false), in.NodeId)
	if err != nil {
		return status(err)
	}
	out.SetTimeout(f.opts.AttrTimeout)
	f.fillAttr(&out.Attr, a)
	return fuse.OK
}

func (f *fsys) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	var set meta.SetAttr
	if in.Valid&fuse.FATTR_MODE != 0 {
		m := in.Mode & inode.ModePerm
		set.Mode = &m
	}
	if in.Valid&fuse.FATTR_UID != 0 {
		u := in.Uid
		set.Uid = &u
	}
	if in.Valid&fuse.FATTR_GID != 0 {
		g := in.Gid
		set.Gid = &g
	}
	if in.Valid&fuse.FATTR_SIZE != 0 {
		sz := in.Size
		set.Size = &sz
	}
	if in.Valid&fuse.FATTR_ATIME != 0 {
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			set.AtimeNow = true
		} else {
			t := time.Unix(int64(in.Atime), int64(in.Atimensec))
			set.Atime = &t
		}
	}
	if in.Valid&fuse.FATTR_MTIME != 0 {
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			set.MtimeNow = true
		} else {
			t := time.Unix(int64(in.Mtime), int64(in.Mtimensec))
			set.Mtime = &t
		}
	}
	c := caller(&in.InHeader, false)
	var n *node
	var h *fileHandle
	if fh, ok := in.GetFh(); ok {
		f.mu.Lock()
		h = f.files[fh]
		f.mu.Unlock()
	}
	// The kernel clears setuid and setgid after a write or truncate by an
	// unprivileged caller with a mode change of its own, sent under that
	// caller's ids, while meta lets only the owner change a mode. A change
	// that only clears those bits, asked by a caller who may write the
	// file, is applied as root.
	var kill *uint32
	if set.Mode != nil && c.Uid != 0 {
		a, err := f.fs.GetAttr(f.ctx, meta.RootCred(), in.NodeId)
		if err == nil && a.Uid != c.Uid && clearsOnlySuid(a.Mode, *set.Mode) && ((h != nil && h.write) || c.Permits(a, 2)) {
			kill, set.Mode = set.Mode, nil
		}
	}
	if h != nil {
		n = h.n
		// ftruncate (and O_TRUNC) on a handle open for writing:
		// permission was checked at open, as POSIX has it, even if
		// the mode has changed since.
		if set.Size != nil && h.write && set.Mode == nil && set.Uid == nil && set.Gid == nil && set.Atime == nil && set.Mtime == nil {
			c = meta.RootCred()
		}
	}
	if n == nil {
		f.mu.Lock()
		n = f.nodes[in.NodeId]
		f.mu.Unlock()
	}
	var a meta.Attr
	var err error
	if kill == nil || set != (meta.SetAttr{}) {
		if a, err = f.setAttr(c, in.NodeId, n, set); err != nil {
			return status(err)
		}
	}
	if kill != nil {
		if a, err = f.fs.SetAttr(f.ctx, meta.RootCred(), in.NodeId, meta.SetAttr{Mode: kill}); err != nil {
			return status(err)
		}
	}
	out.SetTimeout(f.opts.AttrTimeout)
	f.fillAttr(&out.Attr, a)
	return fuse.OK
}

// clearsOnlySuid reports whether mode to is mode from with some of its
// setuid and setgid bits cleared, and nothing else changed.
func clearsOnlySuid(from, to uint32) bool {
	const sxid = inode.ModeSetuid | inode.ModeSetgid
	from, to = from&inode.ModePerm, to&inode.ModePerm
	return from != to && from&^sxid == to&^sxid && to&sxid&^from == 0
}

// setAttr applies set to ino and its data file, serialized with the
// writes of n, the inode's open state here (nil if not open).
func (f *fsys) setAttr(c meta.Cred, ino uint64, n *node, set meta.SetAttr) (meta.Attr, error) {
	times := set.Size != nil || set.Mtime != nil || set.MtimeNow
	if n != nil && times {
		n.mu.Lock()
		defer n.mu.Unlock()
	}
	a, err := f.fs.SetAttr(f.ctx, c, ino, set)
	if err != nil {
		return a, err
	}
	if n != nil && times {
		n.dirty = 0 // an explicit time, or a truncate, wins over earlier writes
		if set.Size != nil {
			n.size, n.sizeKnown = *set.Size, true
		}
	}
	if set.Size != nil {
		if err := f.truncateData(n, ino, *set.Size); err != nil {
			return a, err
		}
	}
	return a, nil
}

func (f *fsys) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.fs.Mknod(f.ctx, caller(&in.InHeader, false), in.NodeId, name, in.Mode, in.Rdev)
	if err != nil {
		return status(err)
	}
	f.entry(out, a)
	return fuse.OK
}

func (f *fsys) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.fs.Mkdir(f.ctx, caller(&in.InHeader, false), in.NodeId, name, in.Mode&inode.ModePerm)
	if err != nil {
		return status(err)
	}
	f.entry(out, a)
	return fuse.OK
}

// victim returns the inode a remove of parent/name may delete, 0 if none
// or a directory.
func (f *fsys) victim(parent uint64, name string) uint64 {
	a, err := f.fs.Lookup(f.ctx, meta.RootCred(), parent, name)
	if err != nil || a.IsDir() {
		return 0
	}
	return a.Ino
}

func (f *fsys) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	v := f.victim(h.NodeId, name)
	if err := f.fs.Unlink(f.ctx, caller(h, false), h.NodeId, name); err != nil {
		return status(err)
	}
	f.reap(v)
	return fuse.OK
}

func (f *fsys) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return status(f.fs.Rmdir(f.ctx, caller(h, false), h.NodeId, name))
}

func (f *fsys) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	flags := meta.RenameFlags(in.Flags)
	var v uint64
	if flags&(meta.RenameExchange|meta.RenameNoReplace) == 0 {
		v = f.victim(in.Newdir, newName)
	}
	if err := f.fs.Rename(f.ctx, caller(&in.InHeader, false), in.NodeId, oldName, in.Newdir, newName, flags); err != nil {
		return status(err)
	}
	f.reap(v)
	return fuse.OK
}

func (f *fsys) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.fs.Link(f.ctx, caller(&in.InHeader, false), in.Oldnodeid, in.NodeId, name)
	if err != nil {
		return status(err)
	}
	f.entry(out, a)
	return fuse.OK
}

func (f *fsys) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.fs.Symlink(f.ctx, caller(h, false), h.NodeId, name, target)
	if err != nil {
		return status(err)
	}
	f.entry(out, a)
	return fuse.OK
}

func (f *fsys) Readlink(cancel <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	t, err := f.fs.Readlink(f.ctx, caller(h, false), h.NodeId)
	if err != nil {
		return nil, status(err)
	}
	return []byte(t), fuse.OK
}

// Access answers access(2) and the kernel's checks for chdir, which it
// makes with the caller's real ids.
func (f *fsys) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	c := caller(&in.InHeader, true)
	a, err := f.fs.GetAttr(f.ctx, c, in.NodeId)
	if err != nil {
		return status(err)
	}
	if !c.Permits(a, in.Mask&7) {
		return fuse.EACCES
	}
	return fuse.OK
}

// StatFs reports the data directory's space and synthetic inode counts:
// meta keeps no count of inodes, and allocates ids from a 64-bit space.
func (f *fsys) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	var st syscall.Statfs_t
	if err := syscall.Statfs(f.data, &st); err != nil {
		return status(err)
	}
	*out = fuse.StatfsOut{
		Blocks:  st.Blocks,
		Bfree:   st.Bfree,
		Bavail:  st.Bavail,
		Files:   1 << 32,
		Ffree:   1 << 32,
		Bsize:   uint32(st.Bsize),
		Frsize:  uint32(st.Frsize),
		NameLen: meta.MaxNameLen,
	}
	return fuse.OK
}

// reap removes the data file of ino if meta has deleted the inode. An
// inode still open here is left to its last release, which reaps it.
func (f *fsys) reap(ino uint64) {
	if ino == 0 {
		return
	}
	f.mu.Lock()
	open := f.nodes[ino] != nil
	f.mu.Unlock()
	if open {
		return
	}
	p := filepath.Join(f.data, dataName(ino))
	if _, err := os.Lstat(p); err != nil {
		return // no contents
	}
	// Meta deletes an inode only when it has no link and no handle left,
	// and never reuses its id: once gone, nothing can reach its data.
	if _, err := f.fs.GetAttr(f.ctx, meta.RootCred(), ino); meta.Errno(err) != syscall.ENOENT {
		return
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		f.log.Error("mount: remove data of deleted inode", "ino", ino, "err", err)
	}
}
