package server

import (
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
)

// Request validation: structural problems and sizes beyond the wire bounds
// are InvalidArgument naming the field. Everything within the bounds goes
// to the store, which answers with POSIX errors (EINVAL for a name with a
// '/', ENAMETOOLONG past 255 bytes, ...), exactly as in process.

func credOf(c *metapb.Cred) (meta.Cred, error) {
	if c == nil {
		return meta.Cred{}, wire.Invalid("cred", "missing (every request names its caller)")
	}
	if len(c.Groups) > wire.MaxGroups {
		return meta.Cred{}, wire.Invalid("cred.groups", "%d groups, more than %d", len(c.Groups), wire.MaxGroups)
	}
	return wire.FromCred(c), nil
}

func checkName(field string, b []byte) error {
	if len(b) > wire.MaxName {
		return wire.Invalid(field, "%d bytes, more than the %d a request may carry", len(b), wire.MaxName)
	}
	return nil
}

func checkPath(field string, b []byte) error {
	if len(b) > wire.MaxPath {
		return wire.Invalid(field, "%d bytes, more than the %d a request may carry", len(b), wire.MaxPath)
	}
	return nil
}

func checkLockType(field string, t metapb.LockType) error {
	if _, ok := metapb.LockType_name[int32(t)]; !ok {
		return wire.Invalid(field, "unknown lock type %d", int32(t))
	}
	return nil
}

func checkHandleLock(h *metapb.Handle, l *metapb.Lock) error {
	if h == nil {
		return wire.Invalid("handle", "missing")
	}
	if l == nil {
		return wire.Invalid("lock", "missing")
	}
	return checkLockType("lock.type", l.Type)
}
