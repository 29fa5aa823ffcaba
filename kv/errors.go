package kv

import (
	"errors"
	"fmt"
)

// Code classifies an Error. Engines map their native codes onto these.
type Code int

// Error codes. The zero Code is never used.
const (
	CodeConflict       Code = iota + 1 // a read conflict range was written after the read version
	CodeTooOld                         // the read version fell out of the MVCC window
	CodeFutureVersion                  // the read version is ahead of the store
	CodeMaybeCommitted                 // the commit may or may not have been applied
	CodeThrottled                      // the engine asks the client to slow down
	CodeTimeout                        // the transaction ran past its deadline
	CodeCancelled                      // the transaction was cancelled
	CodeUnavailable                    // the engine cannot be reached right now
	CodeKeyTooLarge                    // a key exceeds MaxKeySize
	CodeValueTooLarge                  // a value exceeds MaxValueSize
	CodeTxnTooLarge                    // the transaction exceeds MaxTxnSize
	CodeInvalid                        // a malformed call: bad argument, reserved key, use after commit
	CodeClosed                         // the engine was closed
	CodeInternal                       // an engine fault that is not the caller's
)

var codeNames = map[Code]string{
	CodeConflict:       "conflict",
	CodeTooOld:         "transaction too old",
	CodeFutureVersion:  "future version",
	CodeMaybeCommitted: "commit result unknown",
	CodeThrottled:      "throttled",
	CodeTimeout:        "timeout",
	CodeCancelled:      "cancelled",
	CodeUnavailable:    "unavailable",
	CodeKeyTooLarge:    "key too large",
	CodeValueTooLarge:  "value too large",
	CodeTxnTooLarge:    "transaction too large",
	CodeInvalid:        "invalid",
	CodeClosed:         "engine closed",
	CodeInternal:       "internal error",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the error type of every engine. Msg adds detail (the limit that
// was hit, the key range that conflicted); Err is an optional cause.
type Error struct {
	Code Code
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	s := "kv: " + e.Code.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, kv.ErrConflict) matches every conflict whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with the given code and a formatted message.
// A %w verb in format becomes the cause.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Sentinels, compared with errors.Is.
var (
	ErrConflict       = &Error{Code: CodeConflict}
	ErrTooOld         = &Error{Code: CodeTooOld}
	ErrFutureVersion  = &Error{Code: CodeFutureVersion}
	ErrMaybeCommitted = &Error{Code: CodeMaybeCommitted}
	ErrThrottled      = &Error{Code: CodeThrottled}
	ErrTimeout        = &Error{Code: CodeTimeout}
	ErrCancelled      = &Error{Code: CodeCancelled}
	ErrUnavailable    = &Error{Code: CodeUnavailable}
	ErrKeyTooLarge    = &Error{Code: CodeKeyTooLarge}
	ErrValueTooLarge  = &Error{Code: CodeValueTooLarge}
	ErrTxnTooLarge    = &Error{Code: CodeTxnTooLarge}
	ErrInvalid        = &Error{Code: CodeInvalid}
	ErrClosed         = &Error{Code: CodeClosed}
	ErrInternal       = &Error{Code: CodeInternal}
)

// Retryable reports whether a transaction that failed with err may succeed if
// run again from the start: conflicts, too-old and future read versions,
// throttling, unavailability and unknown commit results. For the last kind
// MaybeCommitted is also true, and the caller decides (see Idempotent).
func Retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case CodeConflict, CodeTooOld, CodeFutureVersion, CodeThrottled,
		CodeUnavailable, CodeMaybeCommitted:
		return true
	}
	return false
}

// MaybeCommitted reports whether err leaves the outcome of a commit unknown:
// the transaction may have been applied.
func MaybeCommitted(err error) bool {
	return errors.Is(err, ErrMaybeCommitted)
}
