//go:build fdb

package fdbkv

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apple/foundationdb/bindings/go/src/fdb"
	"github.com/fsmeta/fsmeta/kv"
)

// APIVersion is the FoundationDB API version fdbkv selects.
const APIVersion = 730

var (
	apiOnce sync.Once
	apiErr  error
)

// selectAPI selects APIVersion once per process. The client library
// accepts one selection per process, so a failure (another version chosen
// by other code, a library too old) is final and returned to every Open.
func selectAPI() error {
	apiOnce.Do(func() {
		if err := fdb.APIVersion(APIVersion); err != nil {
			apiErr = fmt.Errorf("fdbkv: select FoundationDB API version %d: %w", APIVersion, err)
		}
	})
	return apiErr
}

// The bindings cache one database handle per cluster file in a map without
// a lock, and a handle must be closed exactly once. Engines on one cluster
// file share a handle here, counted, closed with the last engine.
var (
	dbsMu sync.Mutex
	dbs   = map[string]*sharedDB{}
)

type sharedDB struct {
	db   fdb.Database
	refs int
}

func acquireDB(clusterFile string) (*sharedDB, error) {
	dbsMu.Lock()
	defer dbsMu.Unlock()
	if s, ok := dbs[clusterFile]; ok {
		s.refs++
		return s, nil
	}
	db, err := fdb.OpenDatabase(clusterFile)
	if err != nil {
		return nil, err
	}
	s := &sharedDB{db: db, refs: 1}
	dbs[clusterFile] = s
	return s, nil
}

func releaseDB(clusterFile string, s *sharedDB) {
	dbsMu.Lock()
	defer dbsMu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(dbs, clusterFile)
		s.db.Close()
	}
}

// Engine is a kv.Engine over a FoundationDB database.
type Engine struct {
	opts  Options
	space space
	db    *sharedDB

	mu     sync.RWMutex // held for reading while a transaction is created
	closed atomic.Bool
}

var _ kv.Engine = (*Engine)(nil)

// Open connects to the cluster named by clusterFile (empty: the client
// library's default) with default options.
func Open(clusterFile string) (*Engine, error) {
	return OpenWith(Options{ClusterFile: clusterFile})
}

// OpenWith connects with opts. It fails, never panics, when the options are
// invalid, the API version cannot be selected or the database cannot be
// opened. Opening does not contact the cluster: an unreachable cluster shows
// as calls that wait (bounded by contexts and Options.TransactionTimeout).
func OpenWith(opts Options) (*Engine, error) {
	return openWith(opts, space{})
}

func openWith(opts Options, sp space) (*Engine, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := selectAPI(); err != nil {
		return nil, err
	}
	s, err := acquireDB(opts.ClusterFile)
	if err != nil {
		return nil, fmt.Errorf("fdbkv: open database (cluster file %q): %w", opts.ClusterFile, toKV(err))
	}
	return &Engine{opts: opts, space: sp, db: s}, nil
}

// NewReadOnly implements kv.Engine. The transaction's reads add no read
// conflicts (it never commits).
func (e *Engine) NewReadOnly() kv.ReadOnlyTxn { return e.newTxn(true) }

// NewReadWrite implements kv.Engine.
func (e *Engine) NewReadWrite() kv.ReadWriteTxn { return e.newTxn(false) }

func (e *Engine) newTxn(readOnly bool) *Txn {
	t := &Txn{e: e, readOnly: readOnly, version: -1}
	t.open()
	return t
}

// createTransaction returns a new FoundationDB transaction with the
// engine's options, or ErrClosed.
func (e *Engine) createTransaction() (fdb.Transaction, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return fdb.Transaction{}, errClosed()
	}
	tr, err := e.db.db.CreateTransaction()
	if err != nil {
		return fdb.Transaction{}, toKV(err)
	}
	return tr, nil
}

// setOptions applies the engine's transaction options to tr; FoundationDB
// drops them on Reset.
func (e *Engine) setOptions(tr fdb.Transaction) error {
	o := tr.Options()
	if ms := e.opts.timeoutMillis(); ms > 0 {
		if err := o.SetTimeout(ms); err != nil {
			return toKV(err)
		}
	}
	if e.opts.RetryLimit > 0 {
		if err := o.SetRetryLimit(int64(e.opts.RetryLimit)); err != nil {
			return toKV(err)
		}
	}
	if e.space.rawAccess {
		if err := o.SetRawAccess(); err != nil {
			return toKV(err)
		}
	}
	return nil
}

// Close implements kv.Engine. Later calls on the engine and its
// transactions fail with kv.ErrClosed. The database handle is released
// when the last engine on its cluster file closes; the client's network
// thread runs until the process exits (FoundationDB cannot restart it).
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Swap(true) {
		return nil
	}
	releaseDB(e.opts.ClusterFile, e.db)
	return nil
}

func errClosed() error { return kv.Errorf(kv.CodeClosed, "fdbkv engine closed") }
