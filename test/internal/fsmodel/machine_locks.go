package fsmodel

import (
	"fmt"
	"syscall"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// maxHandles bounds the open handles of a sequence.
const maxHandles = 3

// openHandle is a handle the harness holds open.
type openHandle struct {
	id   int // the harness's name for it (flock holders)
	h    meta.Handle
	n    *Node
	mode int
}

var (
	openModes   = []int{meta.ORdOnly, meta.OWrOnly, meta.ORdWr, meta.ORdWr}
	lockTypes   = []meta.LockType{meta.LockUnlock, meta.LockRead, meta.LockWrite, meta.LockRead, meta.LockWrite}
	xattrNames  = []string{"user.a", "user.a", "user.b", "trusted.t", "security.s", "system.posix_acl_access", "other.x", "user.", ""}
	xattrValues = []string{"", "v1", "v2"}
	xattrFlags  = []int{0, 0, meta.XattrCreate, meta.XattrReplace, meta.XattrCreate | meta.XattrReplace}
)

func lockName(t meta.LockType) string {
	return [...]string{"UNLCK", "RDLCK", "WRLCK"}[t]
}

// openDead returns the nodes that lost their last link while open.
func (h *Harness) openDead() []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	for _, oh := range h.handles {
		if oh.n.Dead && !seen[oh.n] {
			seen[oh.n] = true
			out = append(out, oh.n)
		}
	}
	return out
}

func (h *Harness) drawHandle(t *rapid.T) (*openHandle, bool) {
	if len(h.handles) == 0 {
		return nil, false
	}
	return rapid.SampledFrom(h.handles).Draw(t, "handle"), true
}

func (h *Harness) open(t *rapid.T) {
	h.c = meta.RootCred()
	if len(h.handles) >= maxHandles {
		return
	}
	// A file already open, so that handles meet, or any live file.
	var files []*Node
	for _, oh := range h.handles {
		if !oh.n.Dead {
			files = append(files, oh.n)
		}
	}
	for _, n := range h.m.Live() {
		if n.Type == inode.TypeFile {
			files = append(files, n)
		}
	}
	if len(files) == 0 {
		return
	}
	n := rapid.SampledFrom(files).Draw(t, "file")
	mode := rapid.SampledFrom(openModes).Draw(t, "mode")
	hd, err := h.s.Open(h.ctx, h.c, n.Ino, mode)
	h.expect(t, 0, err, "open #%d mode %d", n.Ino, mode)
	h.nextHandle++
	h.handles = append(h.handles, &openHandle{id: h.nextHandle, h: hd, n: n, mode: mode})
}

func (h *Harness) close(t *rapid.T) {
	// Handles live a while: close one in three draws unless all are open.
	if len(h.handles) < maxHandles && rapid.IntRange(0, 2).Draw(t, "keep") > 0 {
		return
	}
	oh, ok := h.drawHandle(t)
	if !ok {
		return
	}
	err := h.s.Close(h.ctx, oh.h)
	h.expect(t, 0, err, "close handle %d of #%d", oh.id, oh.n.Ino)
	for k := range h.flocks[oh.n] {
		if k.Handle == oh.id {
			delete(h.flocks[oh.n], k)
		}
	}
	for i, x := range h.handles {
		if x == oh {
			h.handles = append(h.handles[:i], h.handles[i+1:]...)
			break
		}
	}
}

func (h *Harness) flock(t *rapid.T) {
	oh, ok := h.drawHandle(t)
	if !ok {
		return
	}
	owner := uint64(rapid.IntRange(1, 2).Draw(t, "owner"))
	typ := rapid.SampledFrom(lockTypes).Draw(t, "type")
	err := h.s.Flock(h.ctx, oh.h, owner, typ, false)
	fm := h.flocks[oh.n]
	if fm == nil {
		fm = FlockModel{}
		h.flocks[oh.n] = fm
	}
	h.touched[oh.n] = true
	h.expect(t, fm.Flock(FlockKey{Handle: oh.id, Owner: owner}, typ), err, "flock handle %d of #%d owner %d %s", oh.id, oh.n.Ino, owner, lockName(typ))
}

// drawRange draws a lock range: mostly a few bytes below LockCells-1 or
// to EOF, now and then a bad one (start > end).
func drawRange(t *rapid.T) (uint64, uint64) {
	start := uint64(rapid.IntRange(0, LockCells-2).Draw(t, "start"))
	switch k := rapid.IntRange(0, 9).Draw(t, "end-kind"); {
	case k < 3:
		return start, meta.LockEOF
	case k == 3 && start > 0:
		return start, start - 1
	default:
		return start, min(start+uint64(rapid.IntRange(0, 5).Draw(t, "len")), LockCells-2)
	}
}

func (h *Harness) setlk(t *rapid.T) {
	oh, ok := h.drawHandle(t)
	if !ok {
		return
	}
	owner := uint64(rapid.IntRange(1, 3).Draw(t, "owner"))
	typ := rapid.SampledFrom(lockTypes).Draw(t, "type")
	start, end := drawRange(t)
	lk := meta.Lock{Type: typ, Start: start, End: end, Owner: owner, Pid: uint32(owner * 10)}
	err := h.s.SetLk(h.ctx, oh.h, lk, false)
	var want syscall.Errno
	switch {
	case start > end:
		want = syscall.EINVAL
	case typ == meta.LockRead && oh.mode == meta.OWrOnly, typ == meta.LockWrite && oh.mode == meta.ORdOnly:
		want = syscall.EBADF
	default:
		pm := h.posix[oh.n]
		if pm == nil {
			pm = PosixModel{}
			h.posix[oh.n] = pm
		}
		h.touched[oh.n] = true
		want = pm.SetLk(lk)
	}
	h.expect(t, want, err, "setlk handle %d of #%d owner %d %s %d-%s", oh.id, oh.n.Ino, owner, lockName(typ), start, endName(end))
}

func endName(end uint64) string {
	if end == meta.LockEOF {
		return "EOF"
	}
	return fmt.Sprint(end)
}

func (h *Harness) getlk(t *rapid.T) {
	oh, ok := h.drawHandle(t)
	if !ok {
		return
	}
	owner := uint64(rapid.IntRange(1, 3).Draw(t, "owner"))
	typ := rapid.SampledFrom([]meta.LockType{meta.LockRead, meta.LockWrite}).Draw(t, "type")
	start, end := drawRange(t)
	lk := meta.Lock{Type: typ, Start: start, End: end, Owner: owner}
	got, err := h.s.GetLk(h.ctx, oh.h, lk)
	what := fmt.Sprintf("getlk handle %d of #%d owner %d %s %d-%s", oh.id, oh.n.Ino, owner, lockName(typ), start, endName(end))
	if start > end {
		h.expect(t, syscall.EINVAL, err, "%s", what)
		return
	}
	h.expect(t, 0, err, "%s", what)
	pm := h.posix[oh.n]
	if pm == nil {
		pm = PosixModel{}
	}
	want := pm.GetLk(lk)
	if want.Type != meta.LockUnlock {
		want.Session, want.Pid = oh.h.Session, uint32(want.Owner*10)
		h.Stats["getlk-case conflict"]++
	}
	require.Equal(t, want, got, "%s: result", what)
}

func (h *Harness) xattr(t *rapid.T) {
	p := h.drawPath(t, "path", 3)
	follow := rapid.IntRange(0, 3).Draw(t, "follow") > 0
	n, ok := h.resolve(t, p, follow)
	if !ok {
		return
	}
	name := rapid.SampledFrom(xattrNames).Draw(t, "name")
	switch op := rapid.IntRange(0, 5).Draw(t, "op"); {
	case op < 2:
		value := rapid.SampledFrom(xattrValues).Draw(t, "value")
		flags := rapid.SampledFrom(xattrFlags).Draw(t, "flags")
		err := h.s.SetXattr(h.ctx, h.c, n.Ino, name, []byte(value), flags)
		h.touched[n] = true
		h.expect(t, h.m.SetXattr(h.c, n, name, []byte(value), flags), err, "setxattr %s %q=%q flags %d", p, name, value, flags)
	case op < 4:
		got, err := h.s.GetXattr(h.ctx, h.c, n.Ino, name)
		want, e := h.m.GetXattr(h.c, n, name)
		h.expect(t, e, err, "getxattr %s %q", p, name)
		if e == 0 {
			require.Equal(t, want, string(got), "getxattr %s %q: value", p, name)
		}
	case op == 4:
		got, err := h.s.ListXattr(h.ctx, h.c, n.Ino)
		h.expect(t, 0, err, "listxattr %s", p)
		require.Equal(t, h.m.ListXattr(h.c, n), got, "listxattr %s", p)
	default:
		err := h.s.RemoveXattr(h.ctx, h.c, n.Ino, name)
		h.expect(t, h.m.RemoveXattr(h.c, n, name), err, "removexattr %s %q", p, name)
	}
}

// checkLocksAndXattrs compares the locks and xattrs of every node that
// ever had some and still exists (live, or unlinked but open).
func (h *Harness) checkLocksAndXattrs(t *rapid.T, live []*Node) {
	t.Helper()
	exists := map[*Node]bool{}
	for _, n := range live {
		exists[n] = true
	}
	for _, n := range h.openDead() {
		exists[n] = true
	}
	slot := map[uint64]int{}
	for _, oh := range h.handles {
		slot[oh.h.ID] = oh.id
	}
	for n := range h.touched {
		if !exists[n] {
			continue
		}
		ls, err := h.v.Locks(h.ctx, n.Ino)
		require.NoError(t, err, "locks of #%d", n.Ino)
		flocks := FlockModel{}
		posix := []meta.Lock{}
		for _, l := range ls {
			if l.Flock {
				id, ok := slot[l.Handle]
				require.True(t, ok, "#%d: flock of handle %d, which is closed", n.Ino, l.Handle)
				flocks[FlockKey{Handle: id, Owner: l.Owner}] = l.Type
				continue
			}
			l.Lock.Session, l.Lock.Pid = 0, 0
			posix = append(posix, l.Lock)
		}
		wantF := h.flocks[n]
		if wantF == nil {
			wantF = FlockModel{}
		}
		require.Equal(t, wantF, flocks, "#%d: flock locks", n.Ino)
		wantP := []meta.Lock{}
		if pm := h.posix[n]; pm != nil {
			wantP = append(wantP, pm.Ranges()...)
		}
		sortLocks(posix)
		require.Equal(t, wantP, posix, "#%d: POSIX locks (merged and split)", n.Ino)

		names, err := h.v.ListXattr(h.ctx, meta.RootCred(), n.Ino)
		require.NoError(t, err, "listxattr #%d", n.Ino)
		require.Equal(t, h.m.ListXattr(meta.RootCred(), n), names, "#%d: xattr names", n.Ino)
		for _, name := range names {
			v, err := h.v.GetXattr(h.ctx, meta.RootCred(), n.Ino, name)
			require.NoError(t, err, "getxattr #%d %q", n.Ino, name)
			require.Equal(t, n.Xattrs[name], string(v), "#%d: xattr %q", n.Ino, name)
		}
	}
}

func sortLocks(ls []meta.Lock) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && (ls[j].Start < ls[j-1].Start || (ls[j].Start == ls[j-1].Start && ls[j].Owner < ls[j-1].Owner)); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}
