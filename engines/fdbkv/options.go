package fdbkv

import (
	"fmt"
	"math"
	"time"
)

// Options configure an Engine. The zero value connects with the client
// library's default cluster file and FoundationDB's default transaction
// options.
type Options struct {
	// ClusterFile is the path of the FoundationDB cluster file. Empty means
	// the client library's default: $FDB_CLUSTER_FILE, ./fdb.cluster, then
	// /etc/foundationdb/fdb.cluster.
	ClusterFile string
	// TransactionTimeout is FoundationDB's timeout transaction option:
	// a transaction still running this long after it began (or was Reset)
	// is cancelled, and its calls fail with kv.ErrTimeout, which is not
	// retryable. Zero means none. It is set in whole milliseconds,
	// rounded up.
	TransactionTimeout time.Duration
	// RetryLimit is FoundationDB's retry_limit transaction option: how many
	// times (*Txn).OnError retries one transaction before it returns the
	// error instead. Zero means no limit. kv.Update does not call OnError
	// (each of its attempts is a fresh transaction) and bounds its retries
	// with kv.MaxRetries instead.
	RetryLimit int
}

func (o Options) validate() error {
	if o.TransactionTimeout < 0 {
		return fmt.Errorf("fdbkv: Options.TransactionTimeout: want >= 0, got %v", o.TransactionTimeout)
	}
	if o.timeoutMillis() > math.MaxInt32 {
		return fmt.Errorf("fdbkv: Options.TransactionTimeout: %v is over FoundationDB's maximum of %d ms", o.TransactionTimeout, math.MaxInt32)
	}
	if o.RetryLimit < 0 {
		return fmt.Errorf("fdbkv: Options.RetryLimit: want >= 0 (0 means no limit), got %d", o.RetryLimit)
	}
	if o.RetryLimit > math.MaxInt32 {
		return fmt.Errorf("fdbkv: Options.RetryLimit: %d is over FoundationDB's maximum of %d", o.RetryLimit, math.MaxInt32)
	}
	return nil
}

// timeoutMillis is TransactionTimeout in whole milliseconds, rounded up.
func (o Options) timeoutMillis() int64 {
	ms := int64(o.TransactionTimeout / time.Millisecond)
	if o.TransactionTimeout%time.Millisecond != 0 {
		ms++
	}
	return ms
}
