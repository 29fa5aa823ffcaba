package server

import (
	"context"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
)

// service implements metapb.MetaServer over a store. Every handler
// validates its request (InvalidArgument naming the field), runs one store
// call, and returns the store's errno errors inside the reply.
type service struct {
	metapb.UnimplementedMetaServer
	fs *meta.Store
	se *sessions
}

// fail splits an operation's error: errno errors go in the reply, the rest
// become a gRPC status.
func fail(err error) (*metapb.Error, error) {
	if e := wire.Error(err); e != nil {
		return e, nil
	}
	return nil, wire.Status(err)
}

func attrReply(a meta.Attr, err error) (*metapb.AttrReply, error) {
	if err != nil {
		e, st := fail(err)
		if st != nil {
			return nil, st
		}
		return &metapb.AttrReply{Error: e}, nil
	}
	return &metapb.AttrReply{Attr: wire.Attr(a)}, nil
}

func emptyReply(err error) (*metapb.EmptyReply, error) {
	if err != nil {
		e, st := fail(err)
		if st != nil {
			return nil, st
		}
		return &metapb.EmptyReply{Error: e}, nil
	}
	return &metapb.EmptyReply{}, nil
}

func (sv *service) Lookup(ctx context.Context, r *metapb.LookupRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Lookup(ctx, c, r.Parent, string(r.Name)))
}

func (sv *service) GetAttr(ctx context.Context, r *metapb.InoRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.GetAttr(ctx, c, r.Ino))
}

func (sv *service) Create(ctx context.Context, r *metapb.CreateRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Create(ctx, c, r.Parent, string(r.Name), r.Mode, r.Excl))
}

func (sv *service) Mkdir(ctx context.Context, r *metapb.MkdirRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Mkdir(ctx, c, r.Parent, string(r.Name), r.Mode))
}

func (sv *service) Mknod(ctx context.Context, r *metapb.MknodRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Mknod(ctx, c, r.Parent, string(r.Name), r.Mode, r.Rdev))
}

func (sv *service) Symlink(ctx context.Context, r *metapb.SymlinkRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err == nil {
		err = checkPath("target", r.Target)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Symlink(ctx, c, r.Parent, string(r.Name), string(r.Target)))
}

func (sv *service) Readlink(ctx context.Context, r *metapb.InoRequest) (*metapb.ReadlinkReply, error) {
	c, err := credOf(r.Cred)
	if err != nil {
		return nil, err
	}
	t, err := sv.fs.Readlink(ctx, c, r.Ino)
	if err != nil {
		e, st := fail(err)
		return &metapb.ReadlinkReply{Error: e}, st
	}
	return &metapb.ReadlinkReply{Target: []byte(t)}, nil
}

func (sv *service) Link(ctx context.Context, r *metapb.LinkRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("new_name", r.NewName)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Link(ctx, c, r.Ino, r.NewParent, string(r.NewName)))
}

func (sv *service) Unlink(ctx context.Context, r *metapb.EntryRequest) (*metapb.EmptyReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.Unlink(ctx, c, r.Parent, string(r.Name)))
}

func (sv *service) Rmdir(ctx context.Context, r *metapb.EntryRequest) (*metapb.EmptyReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.Rmdir(ctx, c, r.Parent, string(r.Name)))
}

func (sv *service) Rename(ctx context.Context, r *metapb.RenameRequest) (*metapb.EmptyReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("src_name", r.SrcName)
	}
	if err == nil {
		err = checkName("dst_name", r.DstName)
	}
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.Rename(ctx, c, r.SrcParent, string(r.SrcName), r.DstParent, string(r.DstName), meta.RenameFlags(r.Flags)))
}

func (sv *service) SetAttr(ctx context.Context, r *metapb.SetAttrRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.SetAttr(ctx, c, r.Ino, wire.FromSetAttr(r)))
}

func (sv *service) ReadDir(ctx context.Context, r *metapb.ReadDirRequest) (*metapb.ReadDirReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("cursor", r.Cursor)
	}
	if err == nil && r.Limit > wire.MaxReadDir {
		err = wire.Invalid("limit", "%d entries, more than the %d of one page", r.Limit, wire.MaxReadDir)
	}
	if err != nil {
		return nil, err
	}
	ents, next, err := sv.fs.ReadDir(ctx, c, r.Ino, string(r.Cursor), int(r.Limit))
	if err != nil {
		e, st := fail(err)
		return &metapb.ReadDirReply{Error: e}, st
	}
	out := &metapb.ReadDirReply{Entries: make([]*metapb.DirEntry, len(ents)), Next: []byte(next)}
	buf := make([]metapb.DirEntry, len(ents)) // one allocation for the page
	for i, e := range ents {
		buf[i] = metapb.DirEntry{Name: []byte(e.Name), Ino: e.Ino, Type: uint32(e.Type)}
		out.Entries[i] = &buf[i]
	}
	return out, nil
}

func (sv *service) Open(ctx context.Context, r *metapb.OpenRequest) (*metapb.OpenReply, error) {
	c, err := credOf(r.Cred)
	if err != nil {
		return nil, err
	}
	ctx, ok := sv.se.context(ctx, r.Session)
	if !ok {
		return &metapb.OpenReply{Error: wire.Expired("open", r.Session)}, nil
	}
	h, err := sv.fs.Open(ctx, c, r.Ino, int(r.Flags))
	if err != nil {
		e, st := fail(err)
		return &metapb.OpenReply{Error: e}, st
	}
	return &metapb.OpenReply{Handle: wire.Handle(h)}, nil
}

func (sv *service) Close(ctx context.Context, r *metapb.HandleRequest) (*metapb.EmptyReply, error) {
	if r.Handle == nil {
		return nil, wire.Invalid("handle", "missing")
	}
	// As in process, Close works in an expired session too.
	ctx, _ = sv.se.context(ctx, r.Session)
	return emptyReply(sv.fs.Close(ctx, wire.FromHandle(r.Handle)))
}

func (sv *service) Flock(ctx context.Context, r *metapb.FlockRequest) (*metapb.EmptyReply, error) {
	if r.Handle == nil {
		return nil, wire.Invalid("handle", "missing")
	}
	if err := checkLockType("type", r.Type); err != nil {
		return nil, err
	}
	ctx, ok := sv.se.context(ctx, r.Session)
	if !ok {
		return &metapb.EmptyReply{Error: wire.Expired("flock", r.Session)}, nil
	}
	return emptyReply(sv.fs.Flock(ctx, wire.FromHandle(r.Handle), r.Owner, meta.LockType(r.Type), r.Wait))
}

func (sv *service) SetLk(ctx context.Context, r *metapb.SetLkRequest) (*metapb.EmptyReply, error) {
	if err := checkHandleLock(r.Handle, r.Lock); err != nil {
		return nil, err
	}
	ctx, ok := sv.se.context(ctx, r.Session)
	if !ok {
		return &metapb.EmptyReply{Error: wire.Expired("setlk", r.Session)}, nil
	}
	return emptyReply(sv.fs.SetLk(ctx, wire.FromHandle(r.Handle), wire.FromLock(r.Lock), r.Wait))
}

func (sv *service) GetLk(ctx context.Context, r *metapb.GetLkRequest) (*metapb.GetLkReply, error) {
	if err := checkHandleLock(r.Handle, r.Lock); err != nil {
		return nil, err
	}
	ctx, ok := sv.se.context(ctx, r.Session)
	if !ok {
		return &metapb.GetLkReply{Error: wire.Expired("getlk", r.Session)}, nil
	}
	lk, err := sv.fs.GetLk(ctx, wire.FromHandle(r.Handle), wire.FromLock(r.Lock))
	if err != nil {
		e, st := fail(err)
		return &metapb.GetLkReply{Error: e}, st
	}
	return &metapb.GetLkReply{Lock: wire.Lock(lk)}, nil
}

func (sv *service) SetXattr(ctx context.Context, r *metapb.SetXattrRequest) (*metapb.EmptyReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err == nil && len(r.Value) > wire.MaxXattrValue {
		err = wire.Invalid("value", "%d bytes, more than the %d a request may carry", len(r.Value), wire.MaxXattrValue)
	}
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.SetXattr(ctx, c, r.Ino, string(r.Name), r.Value, int(r.Flags)))
}

func (sv *service) GetXattr(ctx context.Context, r *metapb.XattrRequest) (*metapb.GetXattrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	v, err := sv.fs.GetXattr(ctx, c, r.Ino, string(r.Name))
	if err != nil {
		e, st := fail(err)
		return &metapb.GetXattrReply{Error: e}, st
	}
	if v == nil {
		v = []byte{}
	}
	return &metapb.GetXattrReply{Value: v}, nil
}

func (sv *service) ListXattr(ctx context.Context, r *metapb.InoRequest) (*metapb.ListXattrReply, error) {
	c, err := credOf(r.Cred)
	if err != nil {
		return nil, err
	}
	names, err := sv.fs.ListXattr(ctx, c, r.Ino)
	if err != nil {
		e, st := fail(err)
		return &metapb.ListXattrReply{Error: e}, st
	}
	out := &metapb.ListXattrReply{Names: make([][]byte, len(names))}
	for i, n := range names {
		out.Names[i] = []byte(n)
	}
	return out, nil
}

func (sv *service) RemoveXattr(ctx context.Context, r *metapb.XattrRequest) (*metapb.EmptyReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkName("name", r.Name)
	}
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.RemoveXattr(ctx, c, r.Ino, string(r.Name)))
}

func (sv *service) pathReq(r *metapb.PathRequest) (meta.Cred, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkPath("path", r.Path)
	}
	return c, err
}

func (sv *service) Resolve(ctx context.Context, r *metapb.PathRequest) (*metapb.ResolveReply, error) {
	c, err := sv.pathReq(r)
	if err != nil {
		return nil, err
	}
	ino, err := sv.fs.Resolve(ctx, c, string(r.Path))
	if err != nil {
		e, st := fail(err)
		return &metapb.ResolveReply{Error: e}, st
	}
	return &metapb.ResolveReply{Ino: ino}, nil
}

func (sv *service) Stat(ctx context.Context, r *metapb.PathRequest) (*metapb.AttrReply, error) {
	c, err := sv.pathReq(r)
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Stat(ctx, c, string(r.Path)))
}

func (sv *service) Lstat(ctx context.Context, r *metapb.PathRequest) (*metapb.AttrReply, error) {
	c, err := sv.pathReq(r)
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.Lstat(ctx, c, string(r.Path)))
}

func (sv *service) ResolveParent(ctx context.Context, r *metapb.PathRequest) (*metapb.ResolveParentReply, error) {
	c, err := sv.pathReq(r)
	if err != nil {
		return nil, err
	}
	p, name, err := sv.fs.ResolveParent(ctx, c, string(r.Path))
	if err != nil {
		e, st := fail(err)
		return &metapb.ResolveParentReply{Error: e}, st
	}
	return &metapb.ResolveParentReply{Parent: p, Name: []byte(name)}, nil
}

func (sv *service) MkdirAll(ctx context.Context, r *metapb.MkdirAllRequest) (*metapb.AttrReply, error) {
	c, err := credOf(r.Cred)
	if err == nil {
		err = checkPath("path", r.Path)
	}
	if err != nil {
		return nil, err
	}
	return attrReply(sv.fs.MkdirAll(ctx, c, string(r.Path), r.Mode))
}

func (sv *service) RemoveAll(ctx context.Context, r *metapb.PathRequest) (*metapb.EmptyReply, error) {
	c, err := sv.pathReq(r)
	if err != nil {
		return nil, err
	}
	return emptyReply(sv.fs.RemoveAll(ctx, c, string(r.Path)))
}

func (sv *service) Check(ctx context.Context, r *metapb.CheckRequest) (*metapb.CheckReply, error) {
	rep, err := sv.fs.Check(ctx)
	if err != nil {
		e, st := fail(err)
		return &metapb.CheckReply{Error: e}, st
	}
	return wire.Report(rep), nil
}

func (sv *service) NewSession(ctx context.Context, r *metapb.NewSessionRequest) (*metapb.NewSessionReply, error) {
	if len(r.Description) > wire.MaxName {
		return nil, wire.Invalid("description", "%d bytes, more than %d", len(r.Description), wire.MaxName)
	}
	id, err := sv.se.open(ctx, r.Description)
	if err != nil {
		e, st := fail(err)
		return &metapb.NewSessionReply{Error: e}, st
	}
	return &metapb.NewSessionReply{Session: id, LeaseMs: sv.se.lease.Milliseconds()}, nil
}

func (sv *service) Keepalive(ctx context.Context, r *metapb.SessionRequest) (*metapb.EmptyReply, error) {
	ok, err := sv.se.renew(ctx, r.Session)
	if !ok {
		return &metapb.EmptyReply{Error: wire.Expired("keepalive", r.Session)}, nil
	}
	return emptyReply(err)
}

func (sv *service) EndSession(ctx context.Context, r *metapb.SessionRequest) (*metapb.EmptyReply, error) {
	ok, err := sv.se.end(ctx, r.Session)
	if !ok {
		return &metapb.EmptyReply{Error: wire.Expired("endsession", r.Session)}, nil
	}
	return emptyReply(err)
}
