package kv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryOptions configure the retry loop. The zero value is usable: every
// zero field takes its default.
type RetryOptions struct {
	// MaxRetries bounds the retries after the first attempt (default 100);
	// negative means no bound other than Timeout and the context.
	MaxRetries int
	// Timeout bounds the whole loop, attempts and backoff included
	// (default none: the context decides).
	Timeout time.Duration
	// InitialBackoff is the first pause (default 10 ms); it doubles on each
	// retry up to MaxBackoff (default 1 s), with jitter.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Idempotent declares that running the closure twice leaves the same
	// state as running it once (for instance because it records a request
	// id it can recognise). Only then is ErrMaybeCommitted retried.
	Idempotent bool
	// OnRetry, if set, is called before each retry with the error that
	// caused it (for metrics and logs; it runs outside any transaction).
	OnRetry func(attempt int, err error)
}

const (
	defaultMaxRetries     = 100
	defaultInitialBackoff = 10 * time.Millisecond
	defaultMaxBackoff     = time.Second
)

// Option adjusts RetryOptions for one call.
type Option func(*RetryOptions)

// WithRetryOptions replaces the options wholesale.
func WithRetryOptions(o RetryOptions) Option { return func(r *RetryOptions) { *r = o } }

// Idempotent marks the closure as safe to re-run after ErrMaybeCommitted.
func Idempotent() Option { return func(r *RetryOptions) { r.Idempotent = true } }

// MaxRetries sets the retry bound; negative means unbounded.
func MaxRetries(n int) Option { return func(r *RetryOptions) { r.MaxRetries = n } }

// Timeout bounds the whole loop.
func Timeout(d time.Duration) Option { return func(r *RetryOptions) { r.Timeout = d } }

// OnRetry installs a retry observer.
func OnRetry(f func(attempt int, err error)) Option {
	return func(r *RetryOptions) { r.OnRetry = f }
}

func buildOptions(opts []Option) RetryOptions {
	var o RetryOptions
	for _, f := range opts {
		f(&o)
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = defaultMaxRetries
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = defaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.MaxBackoff < o.InitialBackoff {
		o.MaxBackoff = o.InitialBackoff
	}
	return o
}

// Update runs fn in a read-write transaction and commits it, retrying on
// retryable errors. Errors returned by fn that are not retryable kv errors
// end the loop unchanged. fn must have no side effects outside tx.
func Update(ctx context.Context, db Engine, fn func(ctx context.Context, tx ReadWriteTxn) error, opts ...Option) error {
	_, err := Transact(ctx, db, func(ctx context.Context, tx ReadWriteTxn) (struct{}, error) {
		return struct{}{}, fn(ctx, tx)
	}, opts...)
	return err
}

// Transact is Update with a typed result, returned from the attempt that
// committed.
func Transact[T any](ctx context.Context, db Engine, fn func(ctx context.Context, tx ReadWriteTxn) (T, error), opts ...Option) (T, error) {
	return loop(ctx, buildOptions(opts), db.NewReadWrite, func(ctx context.Context, tx ReadWriteTxn) (T, error) {
		v, err := fn(ctx, tx)
		if err != nil {
			return v, err
		}
		return v, tx.Commit(ctx)
	})
}

// View runs fn in a read-only transaction, retrying on retryable errors.
func View(ctx context.Context, db Engine, fn func(ctx context.Context, tx ReadOnlyTxn) error, opts ...Option) error {
	_, err := ReadTransact(ctx, db, func(ctx context.Context, tx ReadOnlyTxn) (struct{}, error) {
		return struct{}{}, fn(ctx, tx)
	}, opts...)
	return err
}

// ReadTransact is View with a typed result.
func ReadTransact[T any](ctx context.Context, db Engine, fn func(ctx context.Context, tx ReadOnlyTxn) (T, error), opts ...Option) (T, error) {
	return loop(ctx, buildOptions(opts), db.NewReadOnly, fn)
}

func loop[X interface{ Cancel() }, T any](ctx context.Context, o RetryOptions, newTxn func() X, attempt func(context.Context, X) (T, error)) (T, error) {
	var zero T
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	backoff := o.InitialBackoff
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return zero, contextError(err)
		}
		tx := newTxn()
		v, err := attempt(ctx, tx)
		tx.Cancel()
		if err == nil {
			return v, nil
		}
		if !Retryable(err) || (MaybeCommitted(err) && !o.Idempotent) {
			return zero, err
		}
		if o.MaxRetries >= 0 && n >= o.MaxRetries {
			return zero, fmt.Errorf("kv: gave up after %d attempts: %w", n+1, err)
		}
		if o.OnRetry != nil {
			o.OnRetry(n+1, err)
		}
		// Jitter in [backoff/2, backoff) keeps retrying clients apart.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, fmt.Errorf("kv: retry interrupted after %d attempts (last error: %v): %w", n+1, err, contextError(ctx.Err()))
		case <-t.C:
		}
		backoff = min(backoff*2, o.MaxBackoff)
	}
}

func contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Msg: "retry loop deadline exceeded", Err: err}
	}
	return &Error{Code: CodeCancelled, Msg: "context cancelled", Err: err}
}
