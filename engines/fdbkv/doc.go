// Package fdbkv is the FoundationDB engine: the kv contract over the
// official Go bindings (github.com/apple/foundationdb/bindings/go, API
// version 730).
//
// # Build tag
//
// The engine needs cgo, the FoundationDB client library (libfdb_c) and its
// header, so it is compiled only with the build tag fdb:
//
//	go build -tags fdb ./...
//
// Without the tag the package holds only what needs no cgo: Options and
// MapCode (the error mapping, tested by plain `go test`), and hybrid answers
// kv_engine_type = "fdb" with an error saying how to build. test/fdbcheck
// type-checks the tagged code against a declaration-only header on machines
// without FoundationDB; that check compiles nothing that runs.
//
// # Model
//
// Open (or OpenWith) selects API version 730 once per process, starts the
// client's network thread on first use and opens the database named by the
// cluster file. Each kv transaction is one FoundationDB transaction, so the
// semantics are FoundationDB's own: one read version per transaction,
// read-your-writes, serializable reads adding read conflicts, snapshot
// reads adding none, atomics without reads, versionstamps of the commit.
// fdbkv adds what the kv contract promises on top:
//
//   - Limits are checked in Go before a call reaches FoundationDB, with the
//     same errors and texts as memkv (key 10,000 bytes, value 100,000,
//     transaction 10,000,000 counted as memkv counts it, keys at or above
//     0xff reserved). A failed mutation makes Commit fail with its error;
//     FoundationDB's own 2101/2102/2103 map to the same sentinels.
//   - Range reads are snapshot reads plus an explicit read conflict range
//     computed by the rule of the shared transaction buffer (the span the
//     selectors depended on, up to just past the last row when the limit
//     stopped the read), so fdbkv conflicts where memkv does. A limited read
//     asks for one row more than the limit, so More is exact. Offset-0
//     selectors (LastLessThan, LastLessOrEqual) are resolved first with a
//     snapshot GetKey: one more round trip.
//   - A call after Commit or Cancel fails (kv.ErrInvalid, kv.ErrCancelled)
//     without reaching FoundationDB; after Engine.Close every call fails
//     with kv.ErrClosed. A transaction that wrote nothing commits without
//     contacting the cluster and has CommittedVersion -1 and no
//     versionstamp.
//   - Errors are mapped by code (MapCode): conflicts, too-old and future
//     read versions, throttling and recoveries are retryable, 1021 and 1039
//     are kv.ErrMaybeCommitted. The mapped error wraps the bindings'
//     fdb.Error, so errors.As finds the native code.
//
// # Contexts
//
// FoundationDB futures take no context. When ctx ends while a call waits,
// fdbkv cancels the whole FoundationDB transaction: the call fails with
// kv.ErrCancelled (kv.ErrTimeout for a deadline) and so do later calls,
// until Reset. If ctx ends while Commit waits, the outcome is unknown and
// Commit returns kv.ErrMaybeCommitted (unless FoundationDB had already
// answered).
//
// # Retries
//
// kv.Update and kv.View work over fdbkv as over memkv, with the loop's own
// backoff: 10 ms doubling to 1 s, jittered. That is the schedule of
// FoundationDB's OnError (default client knobs) for conflicts, unknown
// results and recoveries; OnError differs for a few codes (a short fixed
// delay for too-old and future read versions, a longer ceiling for proxy
// memory limits, the throttle's own delay for tag throttling). fdbkv does
// not call OnError from kv.Update: each attempt there is a fresh
// transaction, and OnError keeps its backoff state in the transaction, so
// it would start from 10 ms every time. Callers that drive one transaction
// through their own loop can call (*Txn).OnError: it waits FoundationDB's
// delay, counts Options.RetryLimit and resets the transaction.
//
// # Concurrency and byte slices
//
// An Engine is safe for concurrent use; a transaction is used by one
// goroutine at a time. Slices passed in may be reused by the caller when the
// call returns (the client library copies them); slices returned are the
// caller's.
//
// # Differences from memkv
//
// The MVCC window is the cluster's (5 s by default, a server knob) and
// cannot be moved by a test clock; versions are FoundationDB's (about a
// million per second). BitAnd over a missing value stores the parameter
// (FoundationDB's AND_V2), where kv documents zeroes. FoundationDB counts a
// transaction's size in its own way (write and read conflict ranges
// included), so it can refuse a transaction with kv.ErrTxnTooLarge that is
// under the kv count. Versionstamped keys and values carry a 4-byte offset
// that FoundationDB's limits count: up to 9,996 and 99,996 bytes. A range
// read over the possible keys of a pending SetVersionstampedKey fails with
// kv.ErrInvalid (FoundationDB's accessed_unreadable) where memkv leaves the
// pending key out. Reads of keys the transaction itself wrote add no read
// conflict (fewer conflicts, never more). A commit can end with
// kv.ErrMaybeCommitted when the cluster is unreachable mid-commit.
package fdbkv
