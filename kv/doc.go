// Package kv is the transaction contract that every fsmeta storage engine
// implements and that every metadata layer is written against.
//
// The model is FoundationDB's, as used by the metadata service of 3FS:
//
//   - An Engine hands out transactions. A transaction takes one read version
//     at its first read (or from SetReadVersion) and sees every commit at or
//     below that version, plus its own pending writes (read-your-writes).
//   - Writes are buffered in the transaction and applied atomically by
//     Commit at a single commit version, greater than every version
//     committed before it.
//   - Commit fails with ErrConflict when a transaction that committed after
//     this one's read version wrote a key inside one of this one's read
//     conflict ranges. Serializable reads add their keys (point reads) or the
//     span they covered (range reads) as read conflict ranges; snapshot reads
//     add nothing; AddReadConflict and AddReadConflictRange add ranges
//     without reading. A transaction with no read conflict ranges never
//     conflicts. Write order is the commit order, so committed transactions
//     are strictly serializable.
//   - Engines keep old versions for an MVCC window (5 s by default). Reads at
//     a version older than the window fail with ErrTooOld, and so does a
//     commit with read conflicts whose read version fell out of the window.
//   - Atomic operations (Add, Max, Min, ...) read nothing and add no read
//     conflict, so concurrent atomics on one key never conflict.
//   - Size limits follow FoundationDB: keys up to 10,000 bytes, values up to
//     100,000 bytes, a transaction up to 10,000,000 bytes; keys at or above
//     0xff are reserved.
//
// Concurrency: an Engine is safe for concurrent use. A transaction is used by
// one goroutine at a time.
//
// Byte slices: slices passed into any method may be reused by the caller as
// soon as the method returns; slices returned belong to the caller.
//
// Errors are *Error values classified with errors.Is against the sentinels in
// errors.go. Retryable and MaybeCommitted are the only classifiers; callers
// must not switch on codes themselves.
//
// Retries: Update, View, Transact and ReadTransact run a closure in a fresh
// transaction and retry it on retryable errors with exponential backoff. The
// loop owns Commit. The closure may run many times, so it must have no side
// effects outside the transaction. A commit whose outcome is unknown
// (ErrMaybeCommitted) is retried only when the caller declares the closure
// idempotent with the Idempotent option; otherwise it is returned.
package kv
