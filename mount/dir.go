package mount

import (
	"sync"
	"syscall"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory. Its stream is ".", "..", then the
// entries in name order, at positions 0, 1, 2, ...; the FUSE offset of an
// entry is its position + 1, where the next read resumes.
//
// The handle holds the page of meta's listing the last read ended in
// (cur) and the one before it (prev): one kernel reply spans at most two
// pages, and the kernel resumes within its last reply when the caller's
// buffer filled before the reply was used up, so such a resume is served
// from the very entries it was given, whatever changed meanwhile. It also
// records where every page of the listing began (starts), so a seek
// further back (seekdir) reloads just that page from its name cursor, and
// only changes within that page can shift positions. A read at offset 0
// (the first one, or rewinddir) starts a fresh listing, as POSIX's
// rewinddir requires.
type dirHandle struct {
	ino uint64

	mu     sync.Mutex
	parent uint64 // ino of "..", 0 until needed
	starts []dirStart
	cur    dirPageBuf
	prev   dirPageBuf // the page before cur, or empty

	lockH *meta.Handle // meta handle for flocks on the directory, opened on first use
}

// dirStart is where a page of a listing began: its position and the name
// cursor it was read after.
type dirStart struct {
	base  uint64
	after string
}

// dirPageBuf is one page of a listing: the entries at positions
// [base, base+len(ents)) and the cursor of the page after it.
type dirPageBuf struct {
	loaded bool
	base   uint64
	ents   []meta.DirEntry
	next   string // meta cursor after ents
	eof    bool   // no page after ents
}

// has reports whether the page holds position p.
func (pg *dirPageBuf) has(p uint64) bool {
	return pg.loaded && p >= pg.base && p < pg.base+uint64(len(pg.ents))
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
	if d == nil {
		return
	}
	d.mu.Lock()
	lockH := d.lockH
	d.lockH = nil
	d.mu.Unlock()
	if lockH != nil {
		_ = f.fs.Close(f.ctx, *lockH) // drops its flocks
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
	if in.Offset == 0 {
		// opendir or rewinddir: the directory as it is now.
		d.starts, d.cur, d.prev = nil, dirPageBuf{}, dirPageBuf{}
	}
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
			me, ok, err := f.entryAt(d, p)
			if err != nil {
				return status(err)
			}
			if !ok {
				return fuse.OK // end of the directory
			}
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

// entryAt returns the entry at position p (p >= 2) of d's listing, false
// past its end.
func (f *fsys) entryAt(d *dirHandle, p uint64) (meta.DirEntry, bool, error) {
	if d.prev.has(p) {
		return d.prev.ents[p-d.prev.base], true, nil
	}
	if !d.cur.loaded || p < d.cur.base {
		// First read, or a seek back: reload the page p was in.
		i := len(d.starts) - 1
		for i > 0 && d.starts[i].base > p {
			i--
		}
		st := dirStart{base: 2}
		if i >= 0 {
			st = d.starts[i]
		}
		d.starts = append(d.starts[:max(i, 0)], st)
		if err := f.loadPage(d, &d.cur, st); err != nil {
			return meta.DirEntry{}, false, err
		}
		d.prev = dirPageBuf{}
	}
	for !d.cur.has(p) {
		if d.cur.eof {
			return meta.DirEntry{}, false, nil
		}
		st := dirStart{base: d.cur.base + uint64(len(d.cur.ents)), after: d.cur.next}
		var pg dirPageBuf
		if err := f.loadPage(d, &pg, st); err != nil {
			return meta.DirEntry{}, false, err
		}
		d.starts = append(d.starts, st)
		d.prev, d.cur = d.cur, pg
	}
	return d.cur.ents[p-d.cur.base], true, nil
}

// loadPage reads into pg the page of d's listing that starts at st.
func (f *fsys) loadPage(d *dirHandle, pg *dirPageBuf, st dirStart) error {
	ents, next, err := f.fs.ReadDir(f.ctx, meta.RootCred(), d.ino, st.after, dirPage)
	if err != nil {
		return err
	}
	*pg = dirPageBuf{loaded: true, base: st.base, ents: ents, next: next, eof: next == ""}
	return nil
}
