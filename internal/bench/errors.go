package bench

import "errors"

// ErrInvalid is wrapped by Run when the options or targets are unusable;
// the message names the problem.
var ErrInvalid = errors.New("bench: invalid options")

// ErrOp is wrapped when a benchmark operation fails; the message names the
// target, mode, phase, client and item.
var ErrOp = errors.New("bench: operation failed")
