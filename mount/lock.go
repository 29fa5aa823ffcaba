package mount

import (
	"context"
	"syscall"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fuseEOF is the End the kernel sends for a lock to the end of the file.
const fuseEOF = 1<<63 - 1

// lockHandle returns the meta handle behind fh: a file's, or for a
// directory one opened now (flock on directories is common).
func (f *fsys) lockHandle(fh uint64) (meta.Handle, fuse.Status) {
	if h := f.handle(fh); h != nil {
		return h.mh, fuse.OK
	}
	d := f.dir(fh)
	if d == nil {
		return meta.Handle{}, fuse.EBADF
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lockH == nil {
		mh, err := f.fs.Open(f.ctx, meta.RootCred(), d.ino, syscall.O_RDONLY)
		if err != nil {
			return meta.Handle{}, status(err)
		}
		d.lockH = &mh
	}
	return *d.lockH, fuse.OK
}

func lockType(t uint32) (meta.LockType, bool) {
	switch t {
	case syscall.F_RDLCK:
		return meta.LockRead, true
	case syscall.F_WRLCK:
		return meta.LockWrite, true
	case syscall.F_UNLCK:
		return meta.LockUnlock, true
	}
	return 0, false
}

func toMetaLock(in *fuse.LkIn) (meta.Lock, bool) {
	t, ok := lockType(in.Lk.Typ)
	end := in.Lk.End
	if end >= fuseEOF {
		end = meta.LockEOF
	}
	return meta.Lock{Type: t, Start: in.Lk.Start, End: end, Owner: in.Owner, Pid: in.Lk.Pid}, ok
}

func (f *fsys) GetLk(cancel <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	h, st := f.lockHandle(in.Fh)
	if !st.Ok() {
		return st
	}
	lk, ok := toMetaLock(in)
	if !ok {
		return fuse.EINVAL
	}
	got, err := f.fs.GetLk(f.ctx, h, lk)
	if err != nil {
		return status(err)
	}
	out.Lk = fuse.FileLock{Typ: syscall.F_UNLCK}
	switch got.Type {
	case meta.LockRead:
		out.Lk.Typ = syscall.F_RDLCK
	case meta.LockWrite:
		out.Lk.Typ = syscall.F_WRLCK
	default:
		return fuse.OK
	}
	out.Lk.Start, out.Lk.End, out.Lk.Pid = got.Start, got.End, got.Pid
	if got.End == meta.LockEOF {
		out.Lk.End = fuseEOF
	}
	return fuse.OK
}

func (f *fsys) SetLk(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return f.setLk(cancel, in, false)
}

func (f *fsys) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return f.setLk(cancel, in, true)
}

// setLk takes or drops a flock (FUSE_LK_FLOCK) or a POSIX byte-range lock
// of the kernel's lock owner. A waiting request ends with EINTR when the
// kernel interrupts it (a signal to the caller).
func (f *fsys) setLk(cancel <-chan struct{}, in *fuse.LkIn, wait bool) fuse.Status {
	h, st := f.lockHandle(in.Fh)
	if !st.Ok() {
		return st
	}
	lk, ok := toMetaLock(in)
	if !ok {
		return fuse.EINVAL
	}
	ctx := f.ctx
	if wait {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(f.ctx)
		defer stop()
		go func() {
			select {
			case <-cancel:
				stop()
			case <-ctx.Done():
			}
		}()
	}
	var err error
	if in.LkFlags&fuse.LK_FLOCK != 0 {
		err = f.fs.Flock(ctx, h, in.Owner, lk.Type, wait)
	} else {
		if fh := f.handle(in.Fh); fh != nil && lk.Type != meta.LockUnlock {
			fh.n.mu.Lock()
			fh.n.posix = true
			fh.n.mu.Unlock()
		}
		err = f.fs.SetLk(ctx, h, lk, wait)
	}
	if err != nil && wait {
		select {
		case <-cancel:
			return fuse.EINTR
		default:
		}
	}
	return status(err)
}
