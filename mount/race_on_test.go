//go:build race

package mount_test

// raceEnabled scales the large tests down under the race detector, which
// slows the server (and each child process) several times.
const raceEnabled = true
