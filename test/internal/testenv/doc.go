// Package testenv holds small facts about the test environment shared by
// the tests under test/.
package testenv
