// Package wire converts between package meta's types and the meta server's
// protocol (metapb): attributes, credentials, locks, errors, and the bounds
// a request must respect. Both the server and the client use it, so each
// conversion exists once.
package wire

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
)

// ServiceName is the gRPC service name, also used for health checks.
const ServiceName = "fsmeta.meta.v1.Meta"

// Wire bounds. They sit well above the POSIX limits meta enforces (255-byte
// names, 4096-byte paths, 64 KiB xattr values), so that any request a POSIX
// caller can make reaches the store and gets the store's errno
// (ENAMETOOLONG, E2BIG, ...); only requests beyond them are rejected with
// InvalidArgument before touching the store.
const (
	MaxName       = 4 * meta.MaxPathLen // an entry or xattr name, a readdir cursor
	MaxPath       = 4 * meta.MaxPathLen // a path or a symlink target
	MaxXattrValue = 16 * meta.MaxXattrValueLen
	MaxGroups     = 65536 // Linux's NGROUPS_MAX
	MaxReadDir    = 8192  // entries in one ReadDir page
	MaxMessage    = 16 << 20
	// Window is the fixed gRPC flow-control window of both sides (which
	// also turns off bandwidth-probing pings).
	Window = 4 << 20
)

// ErrSessionExpired is what a session-expired error on the wire unwraps
// to, besides its errno (ESTALE).
var ErrSessionExpired = meta.ErrSessionExpired

// Cred converts a credential.
func Cred(c meta.Cred) *metapb.Cred {
	return &metapb.Cred{Uid: c.Uid, Gid: c.Gid, Groups: c.Groups}
}

// FromCred converts a credential received.
func FromCred(c *metapb.Cred) meta.Cred {
	return meta.Cred{Uid: c.GetUid(), Gid: c.GetGid(), Groups: c.GetGroups()}
}

// Attr converts attributes.
func Attr(a meta.Attr) *metapb.Attr {
	return &metapb.Attr{
		Ino: a.Ino, Type: uint32(a.Type), Mode: a.Mode, Uid: a.Uid, Gid: a.Gid, Nlink: a.Nlink,
		Size: a.Size, AtimeNs: a.Atime.UnixNano(), MtimeNs: a.Mtime.UnixNano(), CtimeNs: a.Ctime.UnixNano(),
		Rdev: a.Rdev, Entries: a.Entries,
	}
}

// FromAttr converts attributes received. Times are time.Unix(0, ns), as
// the store builds them, so both sides compare equal.
func FromAttr(a *metapb.Attr) meta.Attr {
	if a == nil {
		return meta.Attr{}
	}
	return meta.Attr{
		Ino: a.Ino, Type: inode.Type(a.Type), Mode: a.Mode, Uid: a.Uid, Gid: a.Gid, Nlink: a.Nlink,
		Size: a.Size, Atime: time.Unix(0, a.AtimeNs), Mtime: time.Unix(0, a.MtimeNs), Ctime: time.Unix(0, a.CtimeNs),
		Rdev: a.Rdev, Entries: a.Entries,
	}
}

// Handle converts a handle.
func Handle(h meta.Handle) *metapb.Handle {
	return &metapb.Handle{Ino: h.Ino, Id: h.ID, Session: h.Session}
}

// FromHandle converts a handle received.
func FromHandle(h *metapb.Handle) meta.Handle {
	return meta.Handle{Ino: h.GetIno(), ID: h.GetId(), Session: h.GetSession()}
}

// Lock converts a lock.
func Lock(l meta.Lock) *metapb.Lock {
	return &metapb.Lock{Type: metapb.LockType(l.Type), Start: l.Start, End: l.End, Owner: l.Owner, Pid: l.Pid, Session: l.Session}
}

// FromLock converts a lock received.
func FromLock(l *metapb.Lock) meta.Lock {
	if l == nil {
		return meta.Lock{}
	}
	return meta.Lock{Type: meta.LockType(l.Type), Start: l.Start, End: l.End, Owner: l.Owner, Pid: l.Pid, Session: l.Session}
}

// SetAttr converts a SetAttr into a request.
func SetAttr(c meta.Cred, ino uint64, s meta.SetAttr) *metapb.SetAttrRequest {
	r := &metapb.SetAttrRequest{Cred: Cred(c), Ino: ino, Mode: s.Mode, Uid: s.Uid, Gid: s.Gid, Size: s.Size,
		AtimeNow: s.AtimeNow, MtimeNow: s.MtimeNow}
	if s.Atime != nil {
		ns := s.Atime.UnixNano()
		r.AtimeNs = &ns
	}
	if s.Mtime != nil {
		ns := s.Mtime.UnixNano()
		r.MtimeNs = &ns
	}
	return r
}

// FromSetAttr converts a SetAttr request received.
func FromSetAttr(r *metapb.SetAttrRequest) meta.SetAttr {
	s := meta.SetAttr{Mode: r.Mode, Uid: r.Uid, Gid: r.Gid, Size: r.Size, AtimeNow: r.AtimeNow, MtimeNow: r.MtimeNow}
	if r.AtimeNs != nil {
		t := time.Unix(0, *r.AtimeNs)
		s.Atime = &t
	}
	if r.MtimeNs != nil {
		t := time.Unix(0, *r.MtimeNs)
		s.Mtime = &t
	}
	return s
}

// Report converts a fsck report.
func Report(r *meta.Report) *metapb.CheckReply {
	out := &metapb.CheckReply{Inodes: int64(r.Inodes), Dirs: int64(r.Dirs), Entries: int64(r.Entries)}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, &metapb.Problem{Kind: p.Kind, Ino: p.Ino, Detail: p.Detail})
	}
	return out
}

// FromReport converts a fsck report received.
func FromReport(r *metapb.CheckReply) *meta.Report {
	out := &meta.Report{Inodes: int(r.Inodes), Dirs: int(r.Dirs), Entries: int(r.Entries)}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, meta.Problem{Kind: p.Kind, Ino: p.Ino, Detail: p.Detail})
	}
	return out
}

// Error encodes an operation's error for the wire. It returns nil for nil
// and for errors that carry no errno and are not a session expiry: those
// travel as a gRPC status instead (see Status).
func Error(err error) *metapb.Error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	hasErrno := errors.As(err, &errno)
	expired := errors.Is(err, ErrSessionExpired)
	if !hasErrno && !expired {
		return nil
	}
	e := &metapb.Error{Kind: metapb.Error_KIND_PLAIN, Errno: uint32(errno), SessionExpired: expired}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.Cause = metapb.Error_CAUSE_DEADLINE
	case errors.Is(err, context.Canceled):
		e.Cause = metapb.Error_CAUSE_CANCELED
	}
	inner := err
	switch w := outermost(err).(type) {
	case *fs.PathError:
		e.Kind, e.Op, e.Path, inner = metapb.Error_KIND_PATH, w.Op, []byte(w.Path), w.Err
	case *os.LinkError:
		e.Kind, e.Op, e.Path, e.Path2, inner = metapb.Error_KIND_LINK, w.Op, []byte(w.Old), []byte(w.New), w.Err
	}
	if !hasErrno || inner != error(errno) {
		e.Message = inner.Error()
	}
	return e
}

// outermost returns the first *fs.PathError or *os.LinkError in err's
// chain (depth first, as errors.As walks it), or nil.
func outermost(err error) error {
	switch x := err.(type) {
	case nil:
		return nil
	case *fs.PathError, *os.LinkError:
		return err
	case interface{ Unwrap() error }:
		return outermost(x.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if w := outermost(e); w != nil {
				return w
			}
		}
	}
	return nil
}

// FromError rebuilds an error received: the same *fs.PathError or
// *os.LinkError wrapping the same syscall.Errno the store returned.
func FromError(e *metapb.Error) error {
	if e == nil {
		return nil
	}
	var cause error
	switch e.Cause {
	case metapb.Error_CAUSE_DEADLINE:
		cause = context.DeadlineExceeded
	case metapb.Error_CAUSE_CANCELED:
		cause = context.Canceled
	}
	var inner error = syscall.Errno(e.Errno)
	switch {
	case e.Errno == 0 && !e.SessionExpired:
		// Only a faulty server sends a failure without an errno; errno 0
		// would read as success (to a FUSE server, say), so it is EIO.
		msg := e.Message
		if msg == "" {
			msg = "meta server sent a failure without an errno"
		}
		inner = &Remote{Errno: syscall.EIO, Msg: msg, Cause: cause}
	case e.Message != "" || e.SessionExpired || cause != nil:
		inner = &Remote{Errno: syscall.Errno(e.Errno), SessionExpired: e.SessionExpired, Msg: e.Message, Cause: cause}
	}
	switch e.Kind {
	case metapb.Error_KIND_PATH:
		return &fs.PathError{Op: e.Op, Path: string(e.Path), Err: inner}
	case metapb.Error_KIND_LINK:
		return &os.LinkError{Op: e.Op, Old: string(e.Path), New: string(e.Path2), Err: inner}
	default:
		return inner
	}
}

// Remote is the inner error of a failure whose text says more than its
// errno. It unwraps to the errno, for an expired session to
// ErrSessionExpired, and to the context error it was caused by.
type Remote struct {
	Errno          syscall.Errno
	SessionExpired bool
	Msg            string
	Cause          error // context.Canceled, context.DeadlineExceeded or nil
}

func (r *Remote) Error() string {
	switch {
	case r.Msg != "":
		return r.Msg
	case r.SessionExpired:
		return ErrSessionExpired.Error()
	default:
		return r.Errno.Error()
	}
}

// Unwrap returns the errno and the session sentinel it carries.
func (r *Remote) Unwrap() []error {
	var out []error
	if r.Errno != 0 {
		out = append(out, r.Errno)
	}
	if r.SessionExpired {
		out = append(out, ErrSessionExpired)
	}
	if r.Cause != nil {
		out = append(out, r.Cause)
	}
	return out
}

// Expired is the wire error for a session the server does not know (or
// that has expired).
func Expired(op string, session uint64) *metapb.Error {
	return &metapb.Error{Kind: metapb.Error_KIND_PATH, Op: op, Path: []byte(fmt.Sprintf("session:%016x", session)), // as the store names sessions
		Errno: uint32(meta.Errno(ErrSessionExpired)), SessionExpired: true, Message: fmt.Sprintf("%v: unknown or expired on this server", ErrSessionExpired)}
}
