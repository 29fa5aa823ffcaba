package fdbkv

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/kvcheck"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

func TestStampParam_AppendsLittleEndianOffset(t *testing.T) {
	in := []byte("log/0123456789")
	p := stampParam(in, 4)
	require.Equal(t, append([]byte("log/0123456789"), 4, 0, 0, 0), p)
	require.Equal(t, "log/0123456789", string(in), "input untouched")
	require.Equal(t, uint32(70000), binary.LittleEndian.Uint32(stampParam(nil, 70000)))
}

func TestStrinc(t *testing.T) {
	for in, want := range map[string]string{"a": "b", "\xfe\x01\xff": "\xfe\x02", "\xfe\xff\xff": "\xff"} {
		got, ok := strinc([]byte(in))
		require.True(t, ok)
		require.Equal(t, want, string(got), "strinc(%q)", in)
	}
	for _, in := range []string{"", "\xff\xff"} {
		_, ok := strinc([]byte(in))
		require.False(t, ok, "strinc(%q)", in)
	}
}

func TestSpace_PackUnpack(t *testing.T) {
	sp := space{prefix: []byte("\xfepfx")}
	require.Equal(t, []byte("\xfepfxa"), sp.pack([]byte("a")))
	require.Equal(t, []byte("a"), sp.unpack([]byte("\xfepfxa")))
	require.Equal(t, []byte{}, sp.unpack([]byte("\xfepfx")))
	// Selector results outside the prefix clamp to the ends of the space.
	require.Equal(t, []byte{}, sp.unpack([]byte("\x01other")))
	require.Equal(t, []byte{}, sp.unpack(nil))
	require.Equal(t, kvcheck.MaxUserKey, sp.unpack([]byte("\xfeq")))
	var none space
	require.Equal(t, []byte("k"), none.pack([]byte("k")))
	require.Equal(t, []byte("k"), none.unpack([]byte("k")))
}

func TestSpace_CheckStored(t *testing.T) {
	k := bytes.Repeat([]byte("k"), kv.MaxKeySize)
	require.NoError(t, space{}.checkStored(k, 0))
	require.ErrorIs(t, space{}.checkStored(k, stampOffsetSize), kv.ErrKeyTooLarge)
	require.NoError(t, space{}.checkStored(k[:kv.MaxKeySize-stampOffsetSize], stampOffsetSize))
	// With raw access FoundationDB allows 8 more bytes: an 8-byte prefix.
	sp := space{prefix: []byte("\xfe1234567"), rawAccess: true}
	require.NoError(t, sp.checkStored(k, 0))
	require.ErrorIs(t, sp.checkStored(append(k, 'x'), 0), kv.ErrKeyTooLarge)
	require.ErrorIs(t, space{prefix: []byte("p")}.checkStored(k, 0), kv.ErrKeyTooLarge)
}

func TestChecks(t *testing.T) {
	require.NoError(t, kvcheck.Key(bytes.Repeat([]byte("k"), kv.MaxKeySize)))
	require.ErrorIs(t, kvcheck.Key(bytes.Repeat([]byte("k"), kv.MaxKeySize+1)), kv.ErrKeyTooLarge)
	err := kvcheck.Key([]byte("\xff/x"))
	require.ErrorIs(t, err, kv.ErrInvalid)
	require.Contains(t, err.Error(), "0xff")
	require.NoError(t, checkValue(bytes.Repeat([]byte("v"), kv.MaxValueSize), 0))
	require.ErrorIs(t, checkValue(bytes.Repeat([]byte("v"), kv.MaxValueSize+1), 0), kv.ErrValueTooLarge)
	require.ErrorIs(t, checkValue(bytes.Repeat([]byte("v"), kv.MaxValueSize-3), stampOffsetSize), kv.ErrValueTooLarge)
	require.NoError(t, kvcheck.Range([]byte("a"), []byte("\xff")))
	require.ErrorIs(t, kvcheck.Range([]byte("a"), []byte("\xff\x00")), kv.ErrInvalid)
	require.ErrorIs(t, kvcheck.Range([]byte("b"), []byte("a")), kv.ErrInvalid)
	require.ErrorIs(t, kvcheck.Selector(kv.KeySelector{Key: []byte("a"), Offset: 2}), kv.ErrInvalid)
	for _, tc := range []struct{ n, off int }{{12, -1}, {12, 3}, {9, 0}, {0, 0}} {
		require.ErrorIs(t, checkStampOffset("key", tc.n, tc.off), kv.ErrInvalid, "n=%d off=%d", tc.n, tc.off)
	}
	require.NoError(t, checkStampOffset("key", 12, 2))
}

// readSpan must give the spans the shared transaction buffer gives: the
// conformance suite's conflict cases, worked by hand.
func TestReadSpan(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	for _, tc := range []struct {
		name       string
		lo, hi     string // resolved begin and end
		bsel, esel kv.KeySelector
		stop       string
		want       [2]string
		ok         bool
	}{
		{"WholeRange", "a", "z", kv.FirstGreaterOrEqual(b("a")), kv.FirstGreaterOrEqual(b("z")), "", [2]string{"a", "z"}, true},
		{"LimitStopsAfterLastRow", "a", "z", kv.FirstGreaterOrEqual(b("a")), kv.FirstGreaterOrEqual(b("z")), "c\x00", [2]string{"a", "c\x00"}, true},
		// LastLessThan("m") resolved to "c", limit 1 returned "c".
		{"OffsetZeroBegin", "c", "\xff", kv.LastLessThan(b("m")), kv.FirstGreaterOrEqual(b("\xff")), "c\x00", [2]string{"c", "m"}, true},
		// Begin LastLessOrEqual("m") resolved to "m", past the end "d".
		{"EmptyRead", "m", "d", kv.LastLessOrEqual(b("m")), kv.FirstGreaterOrEqual(b("d")), "", [2]string{"d", "m\x00"}, true},
		// End LastLessThan("m") resolved to "c".
		{"OffsetZeroEnd", "a", "c", kv.FirstGreaterOrEqual(b("a")), kv.LastLessThan(b("m")), "", [2]string{"a", "m"}, true},
		{"Empty", "c", "c", kv.FirstGreaterOrEqual(b("c")), kv.FirstGreaterOrEqual(b("c")), "", [2]string{}, false},
		{"ClampedToUserSpace", "x", "\xff", kv.FirstGreaterThan(b("x")), kv.FirstGreaterThan(b("\xff")), "", [2]string{"x", "\xff"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stop []byte
			if tc.stop != "" {
				stop = b(tc.stop)
			}
			lo, hi, ok := readSpan(b(tc.lo), b(tc.hi), tc.bsel, tc.esel, stop)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, [2]string{string(lo), string(hi)})
			}
		})
	}
}

func TestOptions_Validate(t *testing.T) {
	require.NoError(t, Options{}.validate())
	require.NoError(t, Options{TransactionTimeout: time.Second, RetryLimit: 10}.validate())
	require.Error(t, Options{TransactionTimeout: -time.Second}.validate())
	require.Error(t, Options{RetryLimit: -1}.validate())
	require.Error(t, Options{TransactionTimeout: 1 << 62}.validate())
	require.Equal(t, int64(1), Options{TransactionTimeout: time.Microsecond}.timeoutMillis())
	require.Equal(t, int64(1500), Options{TransactionTimeout: 1500 * time.Millisecond}.timeoutMillis())
	require.Equal(t, int64(0), Options{}.timeoutMillis())
}
