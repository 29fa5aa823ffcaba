// Package testenv holds small facts about the test environment shared by
// tests across the module: the engine FSMETA_ENGINE names (with a fresh
// root on it), whether the race detector is on, and the sizes of the
// randomized tests.
package testenv
