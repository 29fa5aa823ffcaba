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
// A Store is safe for concurrent use.
package meta
