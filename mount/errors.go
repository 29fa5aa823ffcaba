package mount

import "errors"

// ErrNoDataDir is returned by Mount when Options.DataDir is empty.
var ErrNoDataDir = errors.New("mount: Options.DataDir is required (file contents are stored there)")

// ErrNoFUSE is wrapped by Mount when the kernel's FUSE device or the
// fusermount3 helper is missing.
var ErrNoFUSE = errors.New("mount: FUSE is not available")
