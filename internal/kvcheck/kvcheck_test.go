package kvcheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
)

func TestChecks(t *testing.T) {
	long := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	tests := []struct {
		name string
		err  error
		code error  // nil: no error expected
		msg  string // substring of the message
	}{
		{"key ok", Key([]byte("a")), nil, ""},
		{"empty key ok", Key(nil), nil, ""},
		{"key at limit", Key(long('k', kv.MaxKeySize)), nil, ""},
		{"key too large", Key(long('k', kv.MaxKeySize+1)), kv.ErrKeyTooLarge, "key of 10001 bytes exceeds the limit of 10000 bytes"},
		{"system key", Key([]byte("\xff/x")), kv.ErrInvalid, "reserved system key space (>= 0xff)"},
		{"value at limit", Value(long('v', kv.MaxValueSize)), nil, ""},
		{"value too large", Value(long('v', kv.MaxValueSize+1)), kv.ErrValueTooLarge, "exceeds the limit of"},
		{"range ok", Range([]byte("a"), []byte("b")), nil, ""},
		{"range to 0xff", Range([]byte("a"), []byte("\xff")), nil, ""},
		{"empty range", Range([]byte("a"), []byte("a")), nil, ""},
		{"range past 0xff", Range([]byte("a"), []byte("\xff\x00")), kv.ErrInvalid, "past the user key space (at most 0xff)"},
		{"inverted range", Range([]byte("b"), []byte("a")), kv.ErrInvalid, `inverted range: begin "b" is after end "a"`},
		{"range bad begin", Range([]byte("\xff"), []byte("\xff")), kv.ErrInvalid, "reserved system key space"},
		{"selector ok", Selector(kv.FirstGreaterOrEqual([]byte("a"))), nil, ""},
		{"selector offset", Selector(kv.KeySelector{Key: []byte("a"), Offset: 2}), kv.ErrInvalid, "key selector offset 2"},
		{"selector key at limit+1", Selector(kv.KeySelector{Key: long('k', kv.MaxKeySize+1)}), nil, ""},
		{"selector key too large", Selector(kv.KeySelector{Key: long('k', kv.MaxKeySize+2)}), kv.ErrKeyTooLarge, "selector key of 10002 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.code == nil {
				if tc.err != nil {
					t.Fatalf("unexpected error: %v", tc.err)
				}
				return
			}
			if !errors.Is(tc.err, tc.code) {
				t.Fatalf("error %v, want %v", tc.err, tc.code)
			}
			if !strings.Contains(tc.err.Error(), tc.msg) {
				t.Fatalf("error %q does not contain %q", tc.err, tc.msg)
			}
		})
	}
}

func TestTrunc(t *testing.T) {
	if got := Trunc(bytes.Repeat([]byte("x"), 40)); len(got) != 32 {
		t.Fatalf("Trunc kept %d bytes, want 32", len(got))
	}
	if got := Trunc([]byte("short")); string(got) != "short" {
		t.Fatalf("Trunc(short) = %q", got)
	}
}

func TestConflictSpan(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name       string
		lo, hi     string // what the selectors resolved to
		bsel, esel kv.KeySelector
		stop       []byte
		wantLo     string
		wantHi     string
	}{
		{"plain", "b", "d", kv.FirstGreaterOrEqual(b("b")), kv.FirstGreaterOrEqual(b("d")), nil, "b", "d"},
		{"resolved past refs", "c", "e", kv.FirstGreaterOrEqual(b("b")), kv.FirstGreaterOrEqual(b("d")), nil, "b", "e"},
		{"or-equal end", "b", "d", kv.FirstGreaterOrEqual(b("b")), kv.FirstGreaterThan(b("d")), nil, "b", "d\x00"},
		{"limited", "b", "z", kv.FirstGreaterOrEqual(b("b")), kv.FirstGreaterOrEqual(b("z")), b("c\x00"), "b", "c\x00"},
		{"begin selector end wins", "a", "b", kv.FirstGreaterThan(b("c")), kv.FirstGreaterOrEqual(b("b")), nil, "a", "c\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := ConflictSpan(b(tc.lo), b(tc.hi), tc.bsel, tc.esel, tc.stop)
			if string(lo) != tc.wantLo || string(hi) != tc.wantHi {
				t.Fatalf("ConflictSpan = [%q, %q), want [%q, %q)", lo, hi, tc.wantLo, tc.wantHi)
			}
		})
	}
	if got := MinKey(b("b"), b("a"), b("c")); string(got) != "a" {
		t.Fatalf("MinKey = %q", got)
	}
	if got := MaxKey(b("b"), b("a"), b("c")); string(got) != "c" {
		t.Fatalf("MaxKey = %q", got)
	}
	if got := SelectorEnd(kv.FirstGreaterThan(b("a"))); string(got) != "a\x00" {
		t.Fatalf("SelectorEnd = %q", got)
	}
}
