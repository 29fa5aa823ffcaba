package msgcodec

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// values covers every msgpack family and every length-encoding boundary.
func values() []any {
	vs := []any{
		nil, true, false,
		0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, uint64(math.MaxUint64),
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, int64(math.MinInt64),
		float32(1.5), 2.25, time.Unix(1_700_000_000, 5).UTC(), time.Unix(-1, 0).UTC(),
		map[string]any{}, []any{}, map[string]any{"a": []any{1, "x", nil, map[string]any{"b": []byte{}}}},
	}
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		vs = append(vs, string(bytes.Repeat([]byte{'s'}, n)), bytes.Repeat([]byte{'b'}, n))
	}
	for _, n := range []int{15, 16, 65536} {
		a := make([]any, n)
		m := make(map[string]any, n)
		for i := range a {
			a[i] = i
			m[string(rune('a'+i%26))+string(rune(i))] = i
		}
		vs = append(vs, a, m)
	}
	return vs
}

func TestWellformed_AcceptsWhatMsgpackWrites(t *testing.T) {
	for _, v := range values() {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := Wellformed(b); err != nil {
			t.Fatalf("Wellformed(Marshal(%T of %d bytes)) = %v", v, len(b), err)
		}
	}
}

// msgpack is prefix-free: no proper prefix of a value is a value, and a
// value followed by anything is not one value.
func TestWellformed_RefusesPrefixesAndTrailers(t *testing.T) {
	for _, v := range values() {
		b, _ := msgpack.Marshal(v)
		if len(b) > 4096 {
			b = b[:4096] // long values: their prefixes, checked below, are enough
			if Wellformed(b) == nil {
				t.Fatalf("a 4096-byte prefix of a longer %T is well-formed", v)
			}
			continue
		}
		for n := 0; n < len(b); n++ {
			if err := Wellformed(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Wellformed(%x, %d of %d bytes of a %T) = %v, want ErrMalformed", b[:n], n, len(b), v, err)
			}
		}
		if err := Wellformed(append(b, 0xc0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("a %T with a byte after it: %v, want ErrMalformed", v, err)
		}
	}
}

func TestWellformed_RefusesHugeClaimsWithoutAllocating(t *testing.T) {
	for _, b := range [][]byte{
		{0x81, 0xa1, 'l', 0xc6, 0xff, 0xff, 0xff, 0xff},       // bin32 of 4 GiB
		{0x81, 0xa1, 'l', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'},  // str32
		{0x81, 0xa1, 'l', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, // ext32
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0},                  // array32 of 4 G elements
		{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0},            // map32
		{0xc1},                          // the one code msgpack never uses
		bytes.Repeat([]byte{0x91}, 100), // nested 100 deep
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := Wellformed(b)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Wellformed(%x) = %v, want ErrMalformed", b, err)
		}
		if n := after.Mallocs - before.Mallocs; n > 8 { // the error's own
			t.Errorf("Wellformed(%x) made %d allocations", b, n)
		}
		var v map[string]any
		if err := Unmarshal(b, &v); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Unmarshal(%x) = %v, want ErrMalformed", b, err)
		}
	}
}

func TestWellformed_RandomBytesNeverPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		checkAgainstMsgpack(t, b)
	}
}

// checkAgainstMsgpack: bytes Wellformed accepts declare no more than they
// hold, so msgpack may decode them (it may still refuse, say an ext type it
// does not know) without allocating more than a small multiple of their
// size. (Bytes it refuses are not given to msgpack: that is the allocation
// it guards against.)
func checkAgainstMsgpack(t *testing.T, b []byte) {
	t.Helper()
	if Wellformed(b) != nil {
		return
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var v any
	_ = msgpack.Unmarshal(b, &v)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20+64*uint64(len(b)) {
		t.Fatalf("msgpack allocated %d bytes for the well-formed %x", n, b)
	}
}

func FuzzWellformed(f *testing.F) {
	for _, v := range values()[:30] {
		b, _ := msgpack.Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		checkAgainstMsgpack(t, b)
	})
}
