// Package mount serves a meta.FS to the Linux kernel as a FUSE filesystem,
// so unmodified programs (ls, mv, rm -rf, tar, git) drive the metadata
// store.
//
// Model: the mount is a thin, stateless translation of FUSE requests into
// meta.FS calls. It speaks go-fuse's raw protocol (fuse.RawFileSystem), not
// its node tree: a FUSE node id is the meta inode id (the root is 1 in
// both), the generation is always 1 because meta never reuses ids, and
// Forget has nothing to release. Every request names its inodes by id, so
// paths of any length work and nothing about the namespace is cached here;
// the kernel caches only for Options.AttrTimeout and EntryTimeout.
//
// Names, attributes, sizes, times, modes, links, xattrs and locks live in
// meta. File contents live in Options.DataDir as one file per inode named
// by its decimal id, a deliberately simple stand-in for 3FS's storage
// service. A data file is removed when meta deletes its inode: after an
// unlink or a rename that replaced the last link, after the last release
// here of a file whose last link went while it was open (here or through
// another client), and for leftovers by a sweep that runs in the background
// once mounted (Server.WaitSwept).
//
// Several mounts of one store may share a DataDir, as clients of one
// storage service. Each mount caches the size of a file it has open, so a
// size another client sets (a truncate) is not seen by this mount's writes
// to it until it is closed here, and the mtime of writes is stored at
// flush, after a time another client may have set meanwhile: meta has no
// grow-only size update or compare-and-set of times for the mount to use.
//
// Permissions: the filesystem is mounted without default_permissions, so
// the kernel leaves permission checks to meta, which runs every operation
// under the caller's credentials: the uid and gid of the FUSE request and
// the supplementary groups the mount reads from /proc/<pid>/status. Modes
// are stored as the kernel sends them, with the caller's umask applied.
//
// The kernel does not send supplementary groups, so they are read after the
// fact, with these limits:
//   - uid 0 bypasses every check, so its groups are not read;
//   - the process may have exited (or, for pid 0, the request came from the
//     kernel itself): the caller then has no supplementary groups, which can
//     only deny access, never grant it;
//   - the pid may have been reused, or the thread may have changed its
//     groups since the request: the groups are taken only if the status
//     file shows the request's uid and gid, which narrows the race but
//     cannot close it;
//   - /proc must show the pid namespace of the FUSE connection (that of the
//     process that mounted it).
//
// A process that serves a mount must not start commands whose working
// directory (exec.Cmd.Dir) or executable is inside that mount: Go's
// forkExec changes directory and execs between clone and exec, while the
// process cannot schedule the goroutines that would answer the kernel, and
// both hang. Run such commands from another process, or pass paths instead
// (git -C, tar -C).
//
// Concurrency: the kernel sends requests concurrently; every handler is
// safe for concurrent use. Writes to one inode are serialized so that its
// size in meta only grows by the writes that grow it.
package mount
