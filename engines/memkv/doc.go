// Package memkv is the in-memory engine: an MVCC store on a copy-on-write
// B-tree with a FoundationDB-style conflict resolver, behind the kv contract.
// It is the embedded default of fsmeta: tests, the demo and single-process
// services use it.
//
// Model: every commit gets a version that advances with the clock (one per
// microsecond, at least one per commit). A transaction reads at the version
// current at its first read and sees its own pending writes. Commit checks
// the transaction's read conflict ranges against the newest write version of
// every key they cover and fails with kv.ErrConflict if any is newer than the
// read version; the check and the apply run under one commit lock, so the
// commit order is a serial order.
//
// Concurrency: reads take no lock; they load the published tree atomically
// and walk immutable version chains. Commits are serialized. An Engine is
// safe for concurrent use; a transaction is not.
//
// Memory: versions older than the MVCC window (Options.Window, 5 s by
// default) are pruned when their key is written and by an incremental sweep
// that runs with the commits, and tombstones leave the tree once they fall
// out of the window. Nothing is persisted: the data lives as long as the
// Engine.
package memkv
