package keys

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireAscending checks each tuple packs strictly below the next and
// that the reference order agrees.
func requireAscending(t *testing.T, tuples []Tuple) {
	t.Helper()
	for i := 1; i < len(tuples); i++ {
		a, b := tuples[i-1], tuples[i]
		pa, pb := a.Pack(), b.Pack()
		require.Equal(t, -1, bytes.Compare(pa, pb), "%#v (%x) should sort before %#v (%x)", a, pa, b, pb)
		require.Equal(t, -1, compareTuples(a, b), "reference order: %#v before %#v", a, b)
	}
}

func TestOrder_Integers(t *testing.T) {
	var ints []*big.Int
	ints = append(ints, bigPow2(2039, 0, true), bigPow2(72, 0, true), bigPow2(64, 1, true), bigPow2(64, 0, true), bigPow2(64, -1, true),
		bigPow2(63, 1, true), bigPow2(63, 0, true), bigPow2(63, -1, true))
	for _, v := range []int64{-65537, -65536, -65535, -257, -256, -255, -2, -1, 0, 1, 2, 255, 256, 257, 65535, 65536, 65537} {
		ints = append(ints, big.NewInt(v))
	}
	ints = append(ints, bigPow2(63, -1, false), bigPow2(63, 0, false), bigPow2(63, 1, false),
		bigPow2(64, -1, false), bigPow2(64, 0, false), bigPow2(64, 1, false), bigPow2(72, 0, false), bigPow2(2039, 0, false))

	var tuples []Tuple
	for _, x := range ints {
		tuples = append(tuples, Tuple{normalizeInt(x)})
	}
	requireAscending(t, tuples)
}

func TestOrder_Floats(t *testing.T) {
	negNaN := math.Float64frombits(0xfff8000000000000)
	negNaNBig := math.Float64frombits(0xffffffffffffffff)
	posNaNBig := math.Float64frombits(0x7fffffffffffffff)
	doubles := []float64{negNaNBig, negNaN, math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64,
		math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, 1, math.MaxFloat64, math.Inf(1), math.NaN(), posNaNBig}
	var tuples []Tuple
	for _, f := range doubles {
		tuples = append(tuples, Tuple{f})
	}
	requireAscending(t, tuples)

	tuples = nil
	for _, f := range []float32{float32(math.Inf(-1)), -1, float32(math.Copysign(0, -1)), 0, 1, float32(math.Inf(1)), float32(math.NaN())} {
		tuples = append(tuples, Tuple{f})
	}
	requireAscending(t, tuples)
}

func TestOrder_StringsAndPrefixes(t *testing.T) {
	requireAscending(t, []Tuple{
		{""}, {"\x00"}, {"\x00", nil}, {"\x00\x00"}, {"\x00\x01"}, {"\x00\xff"}, {"\x01"},
		{"a"}, {"a", nil}, {"a", []byte{}}, {"a", "b"}, {"a", int64(0)}, {"a", true},
		{"a\x00"}, {"a\x00", nil}, {"a\x00b"}, {"a\x01"}, {"ab"}, {"b"}, {"\xff"},
	})
	requireAscending(t, []Tuple{
		{[]byte{}}, {[]byte{0}}, {[]byte{0}, []byte{}}, {[]byte{0, 0}}, {[]byte{0, 0xff}}, {[]byte{1}}, {[]byte{0xff}},
	})
	requireAscending(t, []Tuple{
		{Tuple{}}, {Tuple{}, nil}, {Tuple{}, int64(0)}, {Tuple{nil}}, {Tuple{nil}, nil}, {Tuple{nil, nil}},
		{Tuple{[]byte{}}}, {Tuple{"a"}}, {Tuple{"a", nil}}, {Tuple{"a", Tuple{}}}, {Tuple{"a\x00"}}, {Tuple{int64(-1)}}, {Tuple{int64(0)}},
	})
}

func TestOrder_TypeCodes(t *testing.T) {
	requireAscending(t, []Tuple{
		{}, {nil}, {[]byte("z")}, {""}, {Tuple{}}, {bigPow2(64, 0, true)}, {int64(-1)}, {int64(0)}, {uint64(math.MaxUint64)},
		{bigPow2(64, 0, false)}, {float32(math.NaN())}, {math.Inf(-1)}, {false}, {true}, {UUID{}}, {UUID{15: 1}},
		{Versionstamp{}}, {Versionstamp{UserVersion: 1}}, {IncompleteVersionstamp(0)},
	})
}

// TestOrder_DirentKeys pins the shape of a directory-entry key: a name is
// ordered before its extensions.
func TestOrder_DirentKeys(t *testing.T) {
	a := Tuple{"d", int64(1), []byte("a")}.Pack()
	b := Tuple{"d", int64(1), []byte("a\x00")}.Pack()
	require.Equal(t, "0264001501016100", hex.EncodeToString(a))
	require.Equal(t, -1, bytes.Compare(a, b))
}
