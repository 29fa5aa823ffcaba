package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type reply interface{ GetError() *metapb.Error }

// call runs one RPC: the call timeout, the status of a failed call, and the
// operation's error carried in the reply.
func call[Req any, Rep reply](ctx context.Context, c *Client, method string,
	f func(context.Context, Req, ...grpc.CallOption) (Rep, error), req Req) (Rep, error) {
	cctx, cancel := c.callCtx(ctx)
	r, err := f(cctx, req)
	cancel()
	if err != nil {
		var zero Rep
		return zero, c.rpcErr(method, err)
	}
	if e := r.GetError(); e != nil {
		return r, wire.FromError(e)
	}
	return r, nil
}

// waitCall is call for blocking lock waits: only ctx bounds them. A wait
// that ctx cut off is the store's error for it, EINTR wrapping ctx's
// error, whether the server's reply or the client's deadline came first.
func waitCall[Req any, Rep reply](ctx context.Context, c *Client, method, op string, ino uint64,
	f func(context.Context, Req, ...grpc.CallOption) (Rep, error), req Req) (Rep, error) {
	r, err := f(ctx, req)
	if err != nil {
		var zero Rep
		cause := ctx.Err()
		if _, ok := ctx.Deadline(); ok && cause == nil && status.Code(err) == codes.DeadlineExceeded {
			// The server (or gRPC) enforced ctx's deadline a moment
			// before the local timer fired: the only deadline is ctx's.
			cause = context.DeadlineExceeded
		}
		if cause != nil {
			return zero, interruptedErr(cause, op, ino)
		}
		return zero, c.rpcErr(method, err)
	}
	if e := r.GetError(); e != nil {
		err := wire.FromError(e)
		if cause := ctx.Err(); cause != nil && meta.Errno(err) == syscall.EINTR {
			return r, interruptedErr(cause, op, ino)
		}
		return r, err
	}
	return r, nil
}

// interrupted is the inner error of a lock wait cut off by its context,
// with the store's text.
type interrupted struct{ cause error }

func (e *interrupted) Error() string {
	return "interrupted while waiting for a lock: " + e.cause.Error()
}
func (e *interrupted) Unwrap() []error { return []error{syscall.EINTR, e.cause} }

func interruptedErr(cause error, op string, ino uint64) error {
	return &fs.PathError{Op: op, Path: "#" + strconv.FormatUint(ino, 10), Err: &interrupted{cause: cause}}
}

// sessionOf is the session a handle's calls name: the one it was opened
// in, so that the handles of an expired session stay fenced after the
// client moved to a new one.
func (c *Client) sessionOf(h meta.Handle) uint64 {
	if h.Session != 0 {
		return h.Session
	}
	return c.Session()
}

func attrOf(r *metapb.AttrReply, err error) (meta.Attr, error) {
	if err != nil {
		return meta.Attr{}, err
	}
	return wire.FromAttr(r.Attr), nil
}

// Lookup is meta.Store.Lookup over the wire.
func (c *Client) Lookup(ctx context.Context, cr meta.Cred, parent uint64, name string) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Lookup", c.rpc.Lookup, &metapb.LookupRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name)}))
}

// GetAttr is meta.Store.GetAttr over the wire.
func (c *Client) GetAttr(ctx context.Context, cr meta.Cred, ino uint64) (meta.Attr, error) {
	return attrOf(call(ctx, c, "GetAttr", c.rpc.GetAttr, &metapb.InoRequest{Cred: wire.Cred(cr), Ino: ino}))
}

// Create is meta.Store.Create over the wire.
func (c *Client) Create(ctx context.Context, cr meta.Cred, parent uint64, name string, mode uint32, excl bool) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Create", c.rpc.Create, &metapb.CreateRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name), Mode: mode, Excl: excl}))
}

// Mkdir is meta.Store.Mkdir over the wire.
func (c *Client) Mkdir(ctx context.Context, cr meta.Cred, parent uint64, name string, mode uint32) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Mkdir", c.rpc.Mkdir, &metapb.MkdirRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name), Mode: mode}))
}

// Mknod is meta.Store.Mknod over the wire.
func (c *Client) Mknod(ctx context.Context, cr meta.Cred, parent uint64, name string, mode, rdev uint32) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Mknod", c.rpc.Mknod, &metapb.MknodRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name), Mode: mode, Rdev: rdev}))
}

// Symlink is meta.Store.Symlink over the wire.
func (c *Client) Symlink(ctx context.Context, cr meta.Cred, parent uint64, name, target string) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Symlink", c.rpc.Symlink, &metapb.SymlinkRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name), Target: []byte(target)}))
}

// Readlink is meta.Store.Readlink over the wire.
func (c *Client) Readlink(ctx context.Context, cr meta.Cred, ino uint64) (string, error) {
	r, err := call(ctx, c, "Readlink", c.rpc.Readlink, &metapb.InoRequest{Cred: wire.Cred(cr), Ino: ino})
	if err != nil {
		return "", err
	}
	return string(r.Target), nil
}

// Link is meta.Store.Link over the wire.
func (c *Client) Link(ctx context.Context, cr meta.Cred, ino, newParent uint64, newName string) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Link", c.rpc.Link, &metapb.LinkRequest{Cred: wire.Cred(cr), Ino: ino, NewParent: newParent, NewName: []byte(newName)}))
}

// Unlink is meta.Store.Unlink over the wire.
func (c *Client) Unlink(ctx context.Context, cr meta.Cred, parent uint64, name string) error {
	_, err := call(ctx, c, "Unlink", c.rpc.Unlink, &metapb.EntryRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name)})
	return err
}

// Rmdir is meta.Store.Rmdir over the wire.
func (c *Client) Rmdir(ctx context.Context, cr meta.Cred, parent uint64, name string) error {
	_, err := call(ctx, c, "Rmdir", c.rpc.Rmdir, &metapb.EntryRequest{Cred: wire.Cred(cr), Parent: parent, Name: []byte(name)})
	return err
}

// Rename is meta.Store.Rename over the wire.
func (c *Client) Rename(ctx context.Context, cr meta.Cred, srcParent uint64, srcName string, dstParent uint64, dstName string, flags meta.RenameFlags) error {
	_, err := call(ctx, c, "Rename", c.rpc.Rename, &metapb.RenameRequest{Cred: wire.Cred(cr),
		SrcParent: srcParent, SrcName: []byte(srcName), DstParent: dstParent, DstName: []byte(dstName), Flags: uint32(flags)})
	return err
}

// SetAttr is meta.Store.SetAttr over the wire.
func (c *Client) SetAttr(ctx context.Context, cr meta.Cred, ino uint64, set meta.SetAttr) (meta.Attr, error) {
	return attrOf(call(ctx, c, "SetAttr", c.rpc.SetAttr, wire.SetAttr(cr, ino, set)))
}

// ReadDir is meta.Store.ReadDir over the wire. A limit above the server's
// page bound (8192) gets a shorter page, which the contract allows.
func (c *Client) ReadDir(ctx context.Context, cr meta.Cred, ino uint64, cursor string, limit int) ([]meta.DirEntry, string, error) {
	limit = min(limit, wire.MaxReadDir)
	r, err := call(ctx, c, "ReadDir", c.rpc.ReadDir, &metapb.ReadDirRequest{Cred: wire.Cred(cr), Ino: ino, Cursor: []byte(cursor), Limit: int32(limit)})
	if err != nil {
		return nil, "", err
	}
	ents := make([]meta.DirEntry, len(r.Entries))
	for i, e := range r.Entries {
		ents[i] = meta.DirEntry{Name: string(e.Name), Ino: e.Ino, Type: typeOf(e.Type)}
	}
	return ents, string(r.Next), nil
}

// ReadDirAll lists every entry of directory ino, page by page.
func (c *Client) ReadDirAll(ctx context.Context, cr meta.Cred, ino uint64) ([]meta.DirEntry, error) {
	return meta.ReadDirAllFS(ctx, c, cr, ino)
}

// Open is meta.Store.Open over the wire, in the client's session. If that
// session expired (keepalives stopped reaching the server for a lease, or
// the server restarted), Open registers a new session and opens in it, as
// the store does with its default session; the old session's handles stay
// fenced.
func (c *Client) Open(ctx context.Context, cr meta.Cred, ino uint64, flags int) (meta.Handle, error) {
	for attempt := 0; ; attempt++ {
		id, _, lost := c.current()
		if lost && attempt == 0 {
			if err := c.replace(ctx, id); err != nil {
				return meta.Handle{}, &fs.PathError{Op: "open", Path: "#" + strconv.FormatUint(ino, 10),
					Err: fmt.Errorf("session %016x expired and a new one could not be registered: %w", id, errors.Join(meta.ErrSessionExpired, err))}
			}
			continue
		}
		r, err := call(ctx, c, "Open", c.rpc.Open, &metapb.OpenRequest{Cred: wire.Cred(cr), Session: id, Ino: ino, Flags: int64(flags)})
		if err != nil && attempt == 0 && errors.Is(err, meta.ErrSessionExpired) {
			c.expired(id)
			if c.replace(ctx, id) == nil {
				continue
			}
		}
		if err != nil {
			return meta.Handle{}, err
		}
		return wire.FromHandle(r.Handle), nil
	}
}

// Close is meta.Store.Close over the wire.
func (c *Client) Close(ctx context.Context, h meta.Handle) error {
	_, err := call(ctx, c, "Close", c.rpc.Close, &metapb.HandleRequest{Session: c.sessionOf(h), Handle: wire.Handle(h)})
	return err
}

// badLockType is the store's answer to an unknown lock type, given here
// because the wire cannot carry one (the server rejects it as
// InvalidArgument).
func badLockType(op string, h meta.Handle, t meta.LockType) error {
	if t <= meta.LockWrite {
		return nil
	}
	return &fs.PathError{Op: op, Path: "#" + strconv.FormatUint(h.Ino, 10), Err: syscall.EINVAL}
}

// Flock is meta.Store.Flock over the wire. With wait, only ctx bounds it.
func (c *Client) Flock(ctx context.Context, h meta.Handle, owner uint64, typ meta.LockType, wait bool) error {
	if err := badLockType("flock", h, typ); err != nil {
		return err
	}
	req := &metapb.FlockRequest{Session: c.sessionOf(h), Handle: wire.Handle(h), Owner: owner, Type: metapb.LockType(typ), Wait: wait}
	var err error
	if wait {
		_, err = waitCall(ctx, c, "Flock", "flock", h.Ino, c.rpc.Flock, req)
	} else {
		_, err = call(ctx, c, "Flock", c.rpc.Flock, req)
	}
	return err
}

// SetLk is meta.Store.SetLk over the wire. With wait, only ctx bounds it.
func (c *Client) SetLk(ctx context.Context, h meta.Handle, lk meta.Lock, wait bool) error {
	if err := badLockType("setlk", h, lk.Type); err != nil {
		return err
	}
	req := &metapb.SetLkRequest{Session: c.sessionOf(h), Handle: wire.Handle(h), Lock: wire.Lock(lk), Wait: wait}
	var err error
	if wait {
		_, err = waitCall(ctx, c, "SetLk", "setlk", h.Ino, c.rpc.SetLk, req)
	} else {
		_, err = call(ctx, c, "SetLk", c.rpc.SetLk, req)
	}
	return err
}

// GetLk is meta.Store.GetLk over the wire.
func (c *Client) GetLk(ctx context.Context, h meta.Handle, lk meta.Lock) (meta.Lock, error) {
	if err := badLockType("getlk", h, lk.Type); err != nil {
		return meta.Lock{}, err
	}
	r, err := call(ctx, c, "GetLk", c.rpc.GetLk, &metapb.GetLkRequest{Session: c.sessionOf(h), Handle: wire.Handle(h), Lock: wire.Lock(lk)})
	if err != nil {
		return meta.Lock{}, err
	}
	return wire.FromLock(r.Lock), nil
}

// SetXattr is meta.Store.SetXattr over the wire.
func (c *Client) SetXattr(ctx context.Context, cr meta.Cred, ino uint64, name string, value []byte, flags int) error {
	_, err := call(ctx, c, "SetXattr", c.rpc.SetXattr, &metapb.SetXattrRequest{Cred: wire.Cred(cr), Ino: ino, Name: []byte(name), Value: value, Flags: int64(flags)})
	return err
}

// GetXattr is meta.Store.GetXattr over the wire.
func (c *Client) GetXattr(ctx context.Context, cr meta.Cred, ino uint64, name string) ([]byte, error) {
	r, err := call(ctx, c, "GetXattr", c.rpc.GetXattr, &metapb.XattrRequest{Cred: wire.Cred(cr), Ino: ino, Name: []byte(name)})
	if err != nil {
		return nil, err
	}
	if r.Value == nil {
		return []byte{}, nil
	}
	return r.Value, nil
}

// ListXattr is meta.Store.ListXattr over the wire.
func (c *Client) ListXattr(ctx context.Context, cr meta.Cred, ino uint64) ([]string, error) {
	r, err := call(ctx, c, "ListXattr", c.rpc.ListXattr, &metapb.InoRequest{Cred: wire.Cred(cr), Ino: ino})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(r.Names))
	for i, n := range r.Names {
		out[i] = string(n)
	}
	return out, nil
}

// RemoveXattr is meta.Store.RemoveXattr over the wire.
func (c *Client) RemoveXattr(ctx context.Context, cr meta.Cred, ino uint64, name string) error {
	_, err := call(ctx, c, "RemoveXattr", c.rpc.RemoveXattr, &metapb.XattrRequest{Cred: wire.Cred(cr), Ino: ino, Name: []byte(name)})
	return err
}

func pathReq(cr meta.Cred, p string) *metapb.PathRequest {
	return &metapb.PathRequest{Cred: wire.Cred(cr), Path: []byte(p)}
}

// Resolve is meta.Store.Resolve, run on the server.
func (c *Client) Resolve(ctx context.Context, cr meta.Cred, p string) (uint64, error) {
	r, err := call(ctx, c, "Resolve", c.rpc.Resolve, pathReq(cr, p))
	if err != nil {
		return 0, err
	}
	return r.Ino, nil
}

// Stat is meta.Store.Stat, run on the server.
func (c *Client) Stat(ctx context.Context, cr meta.Cred, p string) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Stat", c.rpc.Stat, pathReq(cr, p)))
}

// Lstat is meta.Store.Lstat, run on the server.
func (c *Client) Lstat(ctx context.Context, cr meta.Cred, p string) (meta.Attr, error) {
	return attrOf(call(ctx, c, "Lstat", c.rpc.Lstat, pathReq(cr, p)))
}

// ResolveParent is meta.Store.ResolveParent, run on the server.
func (c *Client) ResolveParent(ctx context.Context, cr meta.Cred, p string) (uint64, string, error) {
	r, err := call(ctx, c, "ResolveParent", c.rpc.ResolveParent, pathReq(cr, p))
	if err != nil {
		return 0, "", err
	}
	return r.Parent, string(r.Name), nil
}

// MkdirAll is meta.Store.MkdirAll, run on the server.
func (c *Client) MkdirAll(ctx context.Context, cr meta.Cred, p string, mode uint32) (meta.Attr, error) {
	return attrOf(call(ctx, c, "MkdirAll", c.rpc.MkdirAll, &metapb.MkdirAllRequest{Cred: wire.Cred(cr), Path: []byte(p), Mode: mode}))
}

// RemoveAll is meta.Store.RemoveAll, run on the server (each entry still
// in a transaction of its own).
func (c *Client) RemoveAll(ctx context.Context, cr meta.Cred, p string) error {
	_, err := call(ctx, c, "RemoveAll", c.rpc.RemoveAll, pathReq(cr, p))
	return err
}

// Check runs the consistency checker on the server.
func (c *Client) Check(ctx context.Context) (*meta.Report, error) {
	r, err := call(ctx, c, "Check", c.rpc.Check, &metapb.CheckRequest{})
	if err != nil {
		return nil, err
	}
	return wire.FromReport(r), nil
}

// Walk is meta.Store.Walk, driven from the client over Lstat, ReadDir and
// GetAttr: root and everything below it in lexical order, depth first,
// without following symlinks; each directory page is its own snapshot.
func (c *Client) Walk(ctx context.Context, cr meta.Cred, root string, fn meta.WalkFunc) error {
	return meta.WalkFS(ctx, c, cr, root, fn)
}
