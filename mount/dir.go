package mount

import (
	"sync"
	"syscall"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory. Its stream is ".", "..", then the
// entries in name order, at positions 0, 1, 2, ...; the FUSE offset of an
// entry is its position + 1, where the next read resumes. The handle holds
// one page of meta's listing, the entries at [base, base+len(ents)), and the
// cursor of the page after it; a read further back than the page restarts
// the listing (only seekdir does that).
type dirHandle struct {
	ino uint64

	mu     sync.Mutex
	parent uint64 // ino of "..", 0 until needed
	loaded bool
	base   uint64
	ents   []meta.DirEntry
	next   string // meta cursor after ents
	eof    bool   // no page after ents

	lockH *meta.Handle // meta handle for flocks on the directory, opened on first use
}

// dirPage is how many entries one meta ReadDir returns to a handle.
const dirPage = 1024

func (f *fsys) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	c := caller(&in.InHeader, false)
	a, err := f.fs.GetAttr(f.ctx, c, in.NodeId)
	if err != nil {
		return status(err)
	}
	if !a.IsDir() {
		return fuse.ENOTDIR
	}
	// Read permission is checked at open, as opendir(2) does; the pages are
	// then read under the handle, even if the mode changes meanwhile.
	if !c.Permits(a, 4) {
		return fuse.EACCES
	}
	f.mu.Lock()
	f.nextFh++
	out.Fh = f.nextFh
	f.dirs[out.Fh] = &dirHandle{ino: in.NodeId}
	f.mu.Unlock()
	return fuse.OK
}

func (f *fsys) ReleaseDir(in *fuse.ReleaseIn) {
	f.mu.Lock()
	d := f.dirs[in.Fh]
	delete(f.dirs, in.Fh)
	f.mu.Unlock()
	if d != nil && d.lockH != nil {
		_ = f.fs.Close(f.ctx, *d.lockH) // drops its flocks
	}
}

func (f *fsys) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status { return fuse.OK }

func (f *fsys) dir(fh uint64) *dirHandle {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirs[fh]
}

func (f *fsys) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(in, out, false)
}

// ReadDirPlus returns entries with their attributes only when the kernel
// may cache them (EntryTimeout > 0); otherwise an entry carries no node
// id, which the kernel takes as a plain READDIR entry, and no lookup is
// spent on it.
func (f *fsys) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(in, out, true)
}

func (f *fsys) readDir(in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	d := f.dir(in.Fh)
	if d == nil {
		return fuse.EBADF
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	attrs := plus && f.opts.EntryTimeout > 0
	c := caller(&in.InHeader, false)
	for p := in.Offset; ; p++ {
		var e fuse.DirEntry
		switch p {
		case 0:
			e = fuse.DirEntry{Name: ".", Ino: d.ino, Mode: syscall.S_IFDIR}
		case 1:
			if d.parent == 0 {
				a, err := f.fs.Lookup(f.ctx, meta.RootCred(), d.ino, "..")
				if err != nil {
					return status(err)
				}
				d.parent = a.Ino
			}
			e = fuse.DirEntry{Name: "..", Ino: d.parent, Mode: syscall.S_IFDIR}
		default:
			if err := f.seek(d, p); err != nil {
				return status(err)
			}
			if p >= d.base+uint64(len(d.ents)) {
				return fuse.OK // end of the directory
			}
			me := d.ents[p-d.base]
			e = fuse.DirEntry{Name: me.Name, Ino: me.Ino, Mode: me.Type.IFMT()}
		}
		e.Off = p + 1
		if !plus {
			if !out.AddDirEntry(e) {
				return fuse.OK
			}
			continue
		}
		eo := out.AddDirLookupEntry(e)
		if eo == nil {
			return fuse.OK
		}
		if attrs && p >= 2 {
			if a, err := f.fs.Lookup(f.ctx, c, d.ino, e.Name); err == nil {
				f.entry(eo, a)
			}
		}
	}
}

// seek makes d's page hold position p (p >= 2), unless p is past the end.
func (f *fsys) seek(d *dirHandle, p uint64) error {
	if !d.loaded || p < d.base {
		ents, next, err := f.fs.ReadDir(f.ctx, meta.RootCred(), d.ino, "", dirPage)
		if err != nil {
			return err
		}
		d.loaded, d.base, d.ents, d.next, d.eof = true, 2, ents, next, next == ""
	}
	for !d.eof && p >= d.base+uint64(len(d.ents)) {
		ents, next, err := f.fs.ReadDir(f.ctx, meta.RootCred(), d.ino, d.next, dirPage)
		if err != nil {
			return err
		}
		d.base += uint64(len(d.ents))
		d.ents, d.next, d.eof = ents, next, next == ""
	}
	return nil
}
