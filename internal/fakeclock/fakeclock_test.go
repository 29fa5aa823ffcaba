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
