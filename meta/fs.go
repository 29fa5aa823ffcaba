package meta

import (
	"context"
	"time"
)

// FS is the filesystem metadata API. *Store implements it in process; the
// meta server's client (package metarpc/client) implements it over gRPC, so
// code written against FS runs unchanged against either. Both run through
// the conformance suite in package meta/metatest.
//
// Errors are *fs.PathError (or *os.LinkError for two-name operations)
// wrapping a syscall.Errno; Errno extracts it.
type FS interface {
	// By inode.
	Lookup(ctx context.Context, c Cred, parent uint64, name string) (Attr, error)
	GetAttr(ctx context.Context, c Cred, ino uint64) (Attr, error)
	Create(ctx context.Context, c Cred, parent uint64, name string, mode uint32, excl bool) (Attr, error)
	Mkdir(ctx context.Context, c Cred, parent uint64, name string, mode uint32) (Attr, error)
	Mknod(ctx context.Context, c Cred, parent uint64, name string, mode, rdev uint32) (Attr, error)
	Symlink(ctx context.Context, c Cred, parent uint64, name, target string) (Attr, error)
	Readlink(ctx context.Context, c Cred, ino uint64) (string, error)
	Link(ctx context.Context, c Cred, ino, newParent uint64, newName string) (Attr, error)
	Unlink(ctx context.Context, c Cred, parent uint64, name string) error
	Rmdir(ctx context.Context, c Cred, parent uint64, name string) error
	Rename(ctx context.Context, c Cred, srcParent uint64, srcName string, dstParent uint64, dstName string, flags RenameFlags) error
	SetAttr(ctx context.Context, c Cred, ino uint64, set SetAttr) (Attr, error)
	ReadDir(ctx context.Context, c Cred, ino uint64, cursor string, limit int) ([]DirEntry, string, error)
	ReadDirAll(ctx context.Context, c Cred, ino uint64) ([]DirEntry, error)

	// Open handles and locks. Handles and locks belong to the caller's
	// session (see Session); they are released when it ends or expires.
	Open(ctx context.Context, c Cred, ino uint64, flags int) (Handle, error)
	Close(ctx context.Context, h Handle) error
	Flock(ctx context.Context, h Handle, owner uint64, typ LockType, wait bool) error
	SetLk(ctx context.Context, h Handle, lk Lock, wait bool) error
	GetLk(ctx context.Context, h Handle, lk Lock) (Lock, error)

	// Extended attributes.
	SetXattr(ctx context.Context, c Cred, ino uint64, name string, value []byte, flags int) error
	GetXattr(ctx context.Context, c Cred, ino uint64, name string) ([]byte, error)
	ListXattr(ctx context.Context, c Cred, ino uint64) ([]string, error)
	RemoveXattr(ctx context.Context, c Cred, ino uint64, name string) error

	// By path.
	Resolve(ctx context.Context, c Cred, p string) (uint64, error)
	Stat(ctx context.Context, c Cred, p string) (Attr, error)
	Lstat(ctx context.Context, c Cred, p string) (Attr, error)
	ResolveParent(ctx context.Context, c Cred, p string) (uint64, string, error)
	MkdirAll(ctx context.Context, c Cred, p string, mode uint32) (Attr, error)
	RemoveAll(ctx context.Context, c Cred, p string) error
	Walk(ctx context.Context, c Cred, root string, fn WalkFunc) error

	// Check is the consistency checker (fsck).
	Check(ctx context.Context) (*Report, error)
	// Shutdown ends the caller's default session, releasing its handles and
	// locks, and stops its lease renewal. The FS is unusable afterwards.
	Shutdown(ctx context.Context) error
}

var _ FS = (*Store)(nil)

// Extended attribute flags, as setxattr(2).
const (
	XattrCreate  = 1 // fail with EEXIST if the attribute exists
	XattrReplace = 2 // fail with ENODATA if it does not
)

// Extended attribute limits, as Linux's.
const (
	MaxXattrNameLen  = 255
	MaxXattrValueLen = 64 << 10
)

// LockType is the type of a file lock, as fcntl(2)'s l_type.
type LockType uint8

// Lock types.
const (
	LockUnlock LockType = iota // F_UNLCK
	LockRead                   // F_RDLCK, shared
	LockWrite                  // F_WRLCK, exclusive
)

// LockEOF is the End of a lock that extends to the end of the file.
const LockEOF = ^uint64(0)

// Lock is a POSIX byte-range lock [Start, End] held by Owner.
type Lock struct {
	Type  LockType
	Start uint64
	End   uint64 // inclusive; LockEOF for "to the end of the file"
	// Owner is the lock owner (a process, or FUSE's lock_owner); ranges of
	// one owner merge and split.
	Owner uint64
	// Pid is reported back by GetLk for the holder.
	Pid uint32
	// Session is the holder's session, reported by GetLk.
	Session uint64
}

// SessionOptions configure a session.
type SessionOptions struct {
	// Lease is how long the session lives without renewal (default
	// Options.Lease).
	Lease time.Duration
	// NoRenew leaves renewal to the caller (Session.Renew); a meta server
	// renews a remote client's session when the client sends keepalives.
	NoRenew bool
	// Description is stored with the session (host, pid, mount point).
	Description string
}

// SessionInfo describes a live or expired session record.
type SessionInfo struct {
	ID          uint64
	Expires     time.Time
	Description string
	// Created is when the session registered.
	Created time.Time
	// Dead is set once an expiry or Close has begun removing the session.
	Dead bool
}
