package keys

// Layout is the key layout of one filesystem under its root subspace
// (DESIGN §4). Several filesystems may share a database under different
// roots. Each method returns a new slice.
//
//	("f")                  format record
//	("i", ino)             inode
//	("d", parent, name)    directory entry; name as bytes
//	("s", dir, field)      directory stats counters
//	("a", shard)           inode id allocator
//	("g", ino)             deferred deletes
//	("o", ino, handle)     open handles
//	("q", client, req)     results of non-idempotent operations
//	("x", ino, name)       extended attributes
//	("e", session)         client sessions (lease records)
//	("h", session, ...)    what a session owns: ("o", ino, handle) its
//	                       handles, ("f", ino) and ("p", ino) inodes it
//	                       may hold flock and POSIX locks on
//	("l", ino, "f", session, handle, owner)  flock locks
//	("l", ino, "p", session, owner, start)   POSIX byte-range locks
type Layout struct {
	root Subspace
}

// NewLayout returns the layout under root.
func NewLayout(root Subspace) Layout { return Layout{root: root} }

// Root is the filesystem's subspace.
func (l Layout) Root() Subspace { return l.root }

// Range spans every key of the filesystem.
func (l Layout) Range() (begin, end []byte) { return l.root.Range() }

// Format is the key of the format record.
func (l Layout) Format() []byte { return l.root.Pack(Tuple{"f"}) }

// Inode is the key of inode ino.
func (l Layout) Inode(ino uint64) []byte { return l.root.Pack(Tuple{"i", ino}) }

// InodeRange spans every inode.
func (l Layout) InodeRange() (begin, end []byte) { return l.root.Sub("i").Range() }

// Dirent is the key of the entry name in directory parent.
func (l Layout) Dirent(parent uint64, name []byte) []byte {
	return l.root.Pack(Tuple{"d", parent, name})
}

// DirentRange spans the entries of directory parent.
func (l Layout) DirentRange(parent uint64) (begin, end []byte) {
	return l.root.Sub("d", parent).Range()
}

// AllDirentRange spans every directory entry.
func (l Layout) AllDirentRange() (begin, end []byte) { return l.root.Sub("d").Range() }

// Stat is the key of one stats counter of directory dir.
func (l Layout) Stat(dir uint64, field string) []byte {
	return l.root.Pack(Tuple{"s", dir, field})
}

// StatRange spans the stats counters of directory dir.
func (l Layout) StatRange(dir uint64) (begin, end []byte) { return l.root.Sub("s", dir).Range() }

// AllStatRange spans every stats counter.
func (l Layout) AllStatRange() (begin, end []byte) { return l.root.Sub("s").Range() }

// Alloc is the key of id allocator shard.
func (l Layout) Alloc(shard int) []byte { return l.root.Pack(Tuple{"a", shard}) }

// Deferred is the key of a deferred delete of ino.
func (l Layout) Deferred(ino uint64) []byte { return l.root.Pack(Tuple{"g", ino}) }

// DeferredRange spans every deferred delete.
func (l Layout) DeferredRange() (begin, end []byte) { return l.root.Sub("g").Range() }

// Handle is the key of open handle h of ino.
func (l Layout) Handle(ino, h uint64) []byte { return l.root.Pack(Tuple{"o", ino, h}) }

// HandleRange spans the open handles of ino.
func (l Layout) HandleRange(ino uint64) (begin, end []byte) { return l.root.Sub("o", ino).Range() }

// Request is the key of the recorded result of request req of client.
func (l Layout) Request(client, req uint64) []byte { return l.root.Pack(Tuple{"q", client, req}) }

// RequestRange spans every recorded request result.
func (l Layout) RequestRange() (begin, end []byte) { return l.root.Sub("q").Range() }

// Xattr is the key of extended attribute name of ino.
func (l Layout) Xattr(ino uint64, name []byte) []byte { return l.root.Pack(Tuple{"x", ino, name}) }

// XattrRange spans the extended attributes of ino.
func (l Layout) XattrRange(ino uint64) (begin, end []byte) { return l.root.Sub("x", ino).Range() }

// AllXattrRange spans every extended attribute.
func (l Layout) AllXattrRange() (begin, end []byte) { return l.root.Sub("x").Range() }

// AllHandleRange spans every open handle.
func (l Layout) AllHandleRange() (begin, end []byte) { return l.root.Sub("o").Range() }

// Session is the key of session se's record.
func (l Layout) Session(se uint64) []byte { return l.root.Pack(Tuple{"e", se}) }

// SessionRange spans every session record.
func (l Layout) SessionRange() (begin, end []byte) { return l.root.Sub("e").Range() }

// SessionHandle is the key indexing handle h of ino under its session.
func (l Layout) SessionHandle(se, ino, h uint64) []byte {
	return l.root.Pack(Tuple{"h", se, "o", ino, h})
}

// SessionLocks is the key recording that session se may hold locks of kind
// ("f" flock, "p" POSIX) on ino.
func (l Layout) SessionLocks(se uint64, kind string, ino uint64) []byte {
	return l.root.Pack(Tuple{"h", se, kind, ino})
}

// SessionOwnedRange spans everything indexed under session se.
func (l Layout) SessionOwnedRange(se uint64) (begin, end []byte) {
	return l.root.Sub("h", se).Range()
}

// AllSessionOwnedRange spans the indexes of every session.
func (l Layout) AllSessionOwnedRange() (begin, end []byte) { return l.root.Sub("h").Range() }

// Lock is the key of a lock of kind ("f" or "p") on ino; rest identifies
// it: (session, handle, owner) for flock, (session, owner, start) for
// POSIX locks.
func (l Layout) Lock(ino uint64, kind string, rest ...uint64) []byte {
	t := Tuple{"l", ino, kind}
	for _, v := range rest {
		t = append(t, v)
	}
	return l.root.Pack(t)
}

// LockRange spans the locks of ino of kind ("f", "p"), narrowed to those
// whose identifying tuple starts with prefix; kind "" spans every lock of
// ino.
func (l Layout) LockRange(ino uint64, kind string, prefix ...uint64) (begin, end []byte) {
	t := Tuple{"l", ino}
	if kind != "" {
		t = append(t, kind)
	}
	for _, v := range prefix {
		t = append(t, v)
	}
	return l.root.Sub(t...).Range()
}

// AllLockRange spans every lock.
func (l Layout) AllLockRange() (begin, end []byte) { return l.root.Sub("l").Range() }

// RequestClientRange spans the recorded request results of client.
func (l Layout) RequestClientRange(client uint64) (begin, end []byte) {
	return l.root.Sub("q", client).Range()
}
