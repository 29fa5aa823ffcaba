// Package customkv is the kv.Engine of the fsmeta KV server (package
// engines/customkv/server, binary cmd/kvserver), spoken to over gRPC with
// the protocol of package kvpb.
//
// Transactions are buffered on the client by the same read-your-writes
// buffer as memkv (internal/txnbuf); the server sees only reads at a read
// version and one commit. Round trips: the read version rides on the first
// read (a read with version 0 returns the version the server chose), keys
// read together with kv.GetMany go in one call, and the commit is one call.
//
// Connections: each endpoint gets a small pool of gRPC connections; a
// health checker (the standard gRPC health protocol) probes every endpoint
// and calls go to the first healthy one, moving to the next when it stops
// answering. The endpoints must serve one database (one server reachable at
// several addresses, or servers sharing its storage): a transaction may
// read from one and commit through another.
//
// Errors: the server's typed errors come back as the matching kv errors. A
// call that failed before its request left the client is kv.ErrUnavailable
// (retryable, nothing was applied). A commit whose request left but whose
// reply did not arrive — connection reset, deadline after send — is
// kv.ErrMaybeCommitted: never reported as success or as a plain failure.
// A transaction that outlives Options.TransactionTimeout fails with
// kv.ErrTimeout.
package customkv
