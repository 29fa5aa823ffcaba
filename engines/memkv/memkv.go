package memkv

import (
	"time"

	"github.com/fsmeta/fsmeta/internal/mvcc"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

// Options configure an Engine. The zero value gives the defaults.
type Options struct {
	// Window is the MVCC window (default 5 s).
	Window time.Duration
	// Clock is the time source (default time.Now). Tests pass a clock they
	// move by hand to exercise the window.
	Clock func() time.Time
}

// Engine is an in-memory kv.Engine.
type Engine struct {
	st *mvcc.Store
	be txnbuf.Backend
}

var _ kv.Engine = (*Engine)(nil)

// New returns an empty engine.
func New(opts Options) *Engine {
	st := mvcc.New(mvcc.Options{Window: opts.Window, Clock: opts.Clock})
	return &Engine{st: st, be: st.Backend()}
}

// NewReadOnly implements kv.Engine.
func (e *Engine) NewReadOnly() kv.ReadOnlyTxn { return txnbuf.New(e.be, true) }

// NewReadWrite implements kv.Engine.
func (e *Engine) NewReadWrite() kv.ReadWriteTxn { return txnbuf.New(e.be, false) }

// Close implements kv.Engine. Later calls on the engine and its
// transactions fail with kv.ErrClosed.
func (e *Engine) Close() error {
	e.st.Close()
	return nil
}
