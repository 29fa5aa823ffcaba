// Package meta is the POSIX metadata service of fsmeta: create, mkdir,
// mknod, symlink, link, unlink, rmdir, rename, setattr, readdir, open and
// close, each one strictly serializable transaction over a kv.Engine, retried
// by kv.Update, with POSIX errors.
//
// Conflict discipline (after 3FS): path resolution uses snapshot reads only.
// Each operation then reads with conflicts exactly the keys whose stability
// it relies on and writes only what it changes:
//
//   - create, mkdir, mknod, symlink, link conflict on the parent inode (a
//     concurrent rmdir deletes it) and on the new entry's key (a concurrent
//     create of the same name). The parent inode is not rewritten: a
//     directory's mtime, ctime, entry count and subdirectory count are
//     atomic counters under its stats keys, raised with Max and Add, so
//     creates of different names in one directory never conflict.
//   - rmdir reads the children with a conflict (limit 1), so a concurrent
//     create in the directory conflicts with it.
//   - rename conflicts on both parents and both entry keys; a directory
//     moved to a new parent walks the destination's ancestors up to the root
//     with conflicting reads, so two crossing renames conflict and a
//     directory never becomes its own ancestor.
//
// Retries: every operation runs under kv.Update with kv.Idempotent. Every
// operation that is not idempotent (create, mkdir, mknod, symlink, link,
// unlink, rmdir, rename, setattr) writes a result record under
// ("q", client, request) in its own transaction, so a retry after
// kv.ErrMaybeCommitted recognises its own success, even when other clients
// changed the names in between, instead of failing with EEXIST or ENOENT
// or applying twice. Entries also carry the request id that wrote them.
//
// Errors are *fs.PathError (*os.LinkError for rename and link) wrapping a
// syscall.Errno, so errors.Is(err, fs.ErrNotExist) and errno comparisons
// both work. Engine failures that outlast the retry loop are wrapped too.
//
// Permissions are checked as Linux checks them, against the caller's Cred:
// search on every directory walked, write and search on a directory
// changed, the sticky bit, owner-only chmod and root-only chown; uid 0
// bypasses them. The store applies no umask of its own.
//
// # Sessions
//
// Open handles and locks belong to a session: a lease record under
// ("e", session) holding its expiry, creation time and description, and an
// index under ("h", session, ...) of what it owns — ("o", ino, handle) per
// handle, ("f", ino) and ("p", ino) per inode it may hold flock or POSIX
// locks on — so that expiry finds its leftovers without a scan. A Store
// registers its default session (id = the store's request client id) on
// the first Open or lock call; stores doing only namespace operations never
// register. NewSession makes more (a meta server: one per remote client,
// with NoRenew, renewed on the client's keepalives); WithSession runs Open
// and lock calls in one. Sessions renew in the background every Lease/3
// unless NoRenew; the default session's goroutine also runs an expiry pass
// about once a lease. Shutdown closes the default session. If the default
// session expires under a live store (a stall longer than the lease), its
// handles and locks are gone and calls through them stay fenced
// (ErrSessionExpired); the store's next Open registers a fresh default
// session.
//
// ExpireSessions, callable by any client, expires sessions whose lease ran
// out by its clock: the first transaction marks the record dead (from then
// on the session is fenced whatever the clocks say), then transactions of
// up to 128 index entries close the handles (deleting inodes unlinked while
// open), release the locks, and the last one removes the request records
// under ("q", session) and the record. Each transaction reads what it
// removes with conflicts, so two clients expiring one session do the work
// once. Fencing: Open and every lock call read the session record in their
// own transaction and fail with ErrSessionExpired (ESTALE) when it is gone,
// dead or past its expiry; a renewal of an expired session fails the same
// way, a session is never revived. Close and namespace operations are not
// fenced. Leases assume that clients' clocks agree to well within a lease.
// A lock call runs in the session of its handle (Handle.Session, set by
// Open); a handle of another session than the one WithSession put in the
// context is EBADF.
//
// # Locks
//
// Locks live under ("l", ino, kind, ...): flock locks under ("f", session,
// handle, owner), POSIX locks under ("p", session, owner, start) with the
// end, type and pid in the value. A lock call reads all locks of its kind
// on the inode with conflicts and takes the lock in the same transaction,
// so two concurrent lockers conflict and one retries. flock locks are
// held by (handle, owner), POSIX locks by (session, owner): ranges of one
// owner merge and split as on Linux. flock and POSIX locks ignore each
// other. Differences from Linux: a flock conversion (shared <-> exclusive)
// that conflicts keeps the old lock (Linux drops it first); blocking calls
// poll with backoff (1 ms to 100 ms) instead of queueing, so there is no
// fairness and no deadlock detection (no EDEADLK); Close releases the
// handle's flock locks but not its owner's POSIX locks (Linux drops them
// on any close by the owner; a FUSE server does that itself on FLUSH, which
// carries the lock owner, as package mount does); a
// lock call checks the handle is open and, for POSIX read and write locks,
// its access mode (EBADF), while an unlock works through a closed handle;
// GetLk reports the conflicting lock with the lowest start. Locks go with
// their inode, their session, or an unlock.
//
// # Extended attributes
//
// Under ("x", ino, name), raw values, set and removed in recorded
// transactions that also set the inode's ctime, deleted with the inode.
// Namespaces user., trusted. and security.; system.* (POSIX ACLs
// included) is EOPNOTSUPP. Permissions follow Linux's xattr_permission and
// the capability module: user.* needs read or write permission, exists
// only on files and directories (EPERM to set elsewhere, ENODATA to read)
// and in a sticky directory only its owner writes it; trusted.* is uid 0's
// (others: EPERM to write, ENODATA to read, hidden from lists); security.*
// is readable by anyone and writable by uid 0 only (Linux lets an LSM
// decide; security.capability needs CAP_SETFCAP there).
//
// A Store is safe for concurrent use.
package meta
