package mount

import (
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// GetXAttr returns an attribute's value. A buffer too small (of size 0 for
// the size probe) gets ERANGE and the size, which go-fuse turns into the
// size reply for the probe.
func (f *fsys) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, name string, dest []byte) (uint32, fuse.Status) {
	v, err := f.fs.GetXattr(f.ctx, caller(h, false), h.NodeId, name)
	if err != nil {
		return 0, status(err)
	}
	if len(dest) < len(v) {
		return uint32(len(v)), fuse.ERANGE
	}
	return uint32(copy(dest, v)), fuse.OK
}

// ListXAttr returns the names, each ended by a NUL, as listxattr(2).
func (f *fsys) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	names, err := f.fs.ListXattr(f.ctx, caller(h, false), h.NodeId)
	if err != nil {
		return 0, status(err)
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	if len(dest) < b.Len() {
		return uint32(b.Len()), fuse.ERANGE
	}
	return uint32(copy(dest, b.String())), fuse.OK
}

// ignoredXattrs are the attributes go-fuse answers as absent without
// asking (MountOptions.IgnoreSecurityLabels): setting them fails as on a
// filesystem without capabilities or ACLs, instead of storing what no read
// would find and no check would use.
var ignoredXattrs = map[string]bool{
	"security.capability":      true,
	"system.posix_acl_access":  true,
	"system.posix_acl_default": true,
}

func (f *fsys) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, name string, data []byte) fuse.Status {
	if ignoredXattrs[name] {
		return fuse.Status(syscall.EOPNOTSUPP)
	}
	return status(f.fs.SetXattr(f.ctx, caller(&in.InHeader, false), in.NodeId, name, data, int(in.Flags)))
}

func (f *fsys) RemoveXAttr(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return status(f.fs.RemoveXattr(f.ctx, caller(h, false), h.NodeId, name))
}
