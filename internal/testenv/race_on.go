//go:build race

package testenv

// Race reports whether the race detector is on; randomized tests scale
// their sizes down under it.
const Race = true
