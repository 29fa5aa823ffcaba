// Package client is the Go client of the fsmeta meta server (package
// metarpc/server). *Client implements meta.FS, so code written against
// meta runs unchanged against a remote server; the conformance suite in
// meta/metatest runs over both.
//
//	c, err := client.Dial(ctx, "127.0.0.1:7450", client.Options{Token: tok})
//	...
//	defer c.Shutdown(ctx)
//	a, err := c.MkdirAll(ctx, meta.RootCred(), "/a/b", 0o755)
//
// Each call is one round trip on one shared connection. Errors are what
// the store returns: *fs.PathError or *os.LinkError wrapping a
// syscall.Errno (errors.Is(err, fs.ErrNotExist), meta.Errno and
// errors.Is(err, meta.ErrSessionExpired) all work). A call that fails
// without an errno returns an *RPCError: status.Code gives its gRPC code,
// and errors.Is matches ErrUnavailable when the server cannot be reached
// (the call fails fast rather than waiting for a reconnect), and
// context.DeadlineExceeded or context.Canceled. A blocking lock wait cut
// off by its context is, as in process, a *fs.PathError that is EINTR and
// wraps the context's error. Calls are not retried: a call cut off in
// flight may or may not have been applied.
//
// Dial registers a session; a goroutine renews it every third of its
// lease. Handles and locks belong to the session they were opened in. If
// keepalives stop reaching the server for a whole lease (or the server
// restarts), the session expires: lock calls through its handles fail
// with meta.ErrSessionExpired (fencing; Close still works), namespace
// calls keep working, and the next Open registers a fresh session and
// opens in it, as the store does with its default session. Shutdown ends
// the current session and closes the connection.
//
// Walk runs on the client over Lstat, ReadDir and GetAttr, with the
// semantics of meta.Store.Walk; ReadDirAll pages over ReadDir.
package client
