package keys

import "errors"

var (
	// ErrMalformed is wrapped by Unpack errors on bytes that are not a
	// canonical tuple encoding.
	ErrMalformed = errors.New("keys: malformed tuple")

	// ErrUnsupported is wrapped by PackErr errors for elements the
	// encoding cannot represent.
	ErrUnsupported = errors.New("keys: unsupported tuple element")

	// ErrVersionstamp is wrapped when a tuple passed to a versionstamp
	// packing function does not hold exactly one incomplete versionstamp.
	ErrVersionstamp = errors.New("keys: need exactly one incomplete versionstamp")

	// ErrNotInSubspace is wrapped by Subspace.Unpack for keys outside the
	// subspace.
	ErrNotInSubspace = errors.New("keys: key not in subspace")

	// ErrNoSuccessor is returned by Strinc for keys that are empty or all
	// 0xff, which have no prefix successor.
	ErrNoSuccessor = errors.New("keys: key has no successor")
)
