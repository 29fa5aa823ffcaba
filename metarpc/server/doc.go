// Package server is the fsmeta meta server: every operation of meta.FS as
// a gRPC call (package metapb) over one *meta.Store, so that code written
// against meta runs unchanged in another process through package
// metarpc/client.
//
// Calls: each request carries the caller's credentials (uid, gid, groups)
// and runs one store call; the path helpers (Resolve, Stat, Lstat,
// ResolveParent, MkdirAll, RemoveAll) and Check run on the server, one
// round trip each. POSIX failures travel in the reply as errno, op, paths,
// message and the context error they wrap, if any, so the client rebuilds
// the same *fs.PathError or *os.LinkError wrapping the same syscall.Errno
// (and meta.ErrSessionExpired, context.Canceled or
// context.DeadlineExceeded when it wrapped one). Failures without an errno are gRPC codes: Unavailable
// (engine down), DeadlineExceeded, Canceled, Aborted (retries exhausted),
// Internal.
//
// Validation: a request with a missing credential, handle or lock, an
// unknown lock type, or a field beyond the wire bounds (names 16 KiB,
// paths and symlink targets 16 KiB, xattr values 1 MiB, 65536 groups,
// 8192 entries per ReadDir page) is InvalidArgument with a message naming
// the field. The bounds sit above the POSIX limits on purpose: a 256-byte
// name still reaches the store and gets ENAMETOOLONG, as in process. A
// panic in a handler becomes Internal; the server stays up.
//
// Sessions: a client registers a session (NewSession), which the server
// creates with store.NewSession(NoRenew, Config.SessionLease) and renews
// on each Keepalive; Open and lock calls run in it (meta.WithSession). A
// session that misses its lease is dropped and an unknown session id is
// meta.ErrSessionExpired. The server also runs store.ExpireSessions every
// third of the lease, reaping any client's expired sessions, and ends the
// sessions it holds when it stops.
//
// Security: the server binds 127.0.0.1:7450 by default. Config.Token
// makes every call but the gRPC health service require the metadata
// "authorization: Bearer <token>" (compared in constant time;
// Unauthenticated otherwise). Without TLS the token crosses the network in
// clear: set Config.TLSCert and Config.TLSKey (PEM files) or Config.TLS to
// serve TLS.
//
// Operations: the gRPC health service (grpc.health.v1, service "" and
// "fsmeta.meta.v1.Meta") reports SERVING until shutdown. Config.MetricsAddr
// serves Prometheus metrics at /metrics: fsmeta_meta_requests_total{op,
// result} (result OK, an errno name, SessionExpired or a gRPC code; no
// label carries a name or path), fsmeta_meta_request_seconds{op},
// fsmeta_meta_retries_total (the store's transaction retries),
// fsmeta_meta_conflicts_total (retries caused by read conflicts, when Open
// opened the store), fsmeta_meta_sessions (live remote sessions),
// fsmeta_meta_sessions_expired_total (remote sessions that stopped
// renewing, each counted once) and fsmeta_meta_sessions_reaped_total
// (expired session records of any client that this server's expiry
// passes cleaned up). Logs go to Config.Logger (log/slog):
// "serving" with addr= once listening, every request at debug level.
// Serve stops when its context ends: health turns NOT_SERVING, requests in
// flight drain for up to Config.ShutdownTimeout, then the rest (blocking
// lock waits, say) are cut off. A Server serves once; after Close, Serve
// is ErrClosed.
package server
