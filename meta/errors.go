package meta

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Limits checked on names and paths.
const (
	MaxNameLen    = 255
	MaxPathLen    = 4096
	MaxSymlinkLen = 4096
	MaxSymlinks   = 40
)

// ErrNotFormatted is returned by Open with Options.NoCreate on an empty root.
var ErrNotFormatted = errors.New("meta: no filesystem under this root")

// ErrFormat is wrapped when the format record is unreadable or of another
// version.
var ErrFormat = errors.New("meta: bad format record")

func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

func linkErr(op, old, new string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: old, New: new, Err: err}
}

// Errno extracts the syscall.Errno from an error returned by this package;
// errors that carry none (engine failures) map to EIO. nil maps to 0.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// ErrSessionExpired is wrapped by Open, lock calls and Session.Renew when
// the session they run in has expired, was expired by another client, or
// was closed: its handles and locks are gone (fencing). Errno maps it to
// ESTALE; the session cannot be revived, the client must start a new one.
var ErrSessionExpired error = &errnoError{msg: "meta: session expired", errno: syscall.ESTALE}

// errnoError is a sentinel that also carries an errno, so that errors.Is
// against the sentinel and Errno both work.
type errnoError struct {
	msg   string
	errno syscall.Errno
}

func (e *errnoError) Error() string { return e.msg }
func (e *errnoError) Unwrap() error { return e.errno }

// interrupted is the error of a blocking lock call whose context ended: it
// is EINTR, as for a signal, and wraps the context's error.
type interrupted struct{ cause error }

func (e *interrupted) Error() string {
	return "interrupted while waiting for a lock: " + e.cause.Error()
}
func (e *interrupted) Unwrap() []error { return []error{syscall.EINTR, e.cause} }
