package fakeclock

import (
	"testing"
	"time"
)

func TestClock_AdvanceMovesNow(t *testing.T) {
	var c Clock
	before := time.Now()
	c.Advance(time.Hour)
	got := c.Now()
	if got.Sub(before) < time.Hour {
		t.Fatalf("Now after Advance(1h) is only %v past real time", got.Sub(before))
	}
	if got.Sub(time.Now()) > time.Hour {
		t.Fatalf("Now is more than the advance ahead of real time")
	}
}

func TestStopped_MovesOnlyByAdvance(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Stopped(start)
	time.Sleep(2 * time.Millisecond)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("stopped clock moved by itself: %v, want %v", got, start)
	}
	c.Advance(time.Second)
	if got := c.Now(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("after Advance(1s): %v, want %v", got, start.Add(time.Second))
	}
}
