package keys

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// normalizeInt returns x in the Go type Unpack yields for it.
func normalizeInt(x *big.Int) any {
	switch {
	case x.IsInt64():
		return x.Int64()
	case x.IsUint64():
		return x.Uint64()
	}
	return new(big.Int).Set(x)
}

// intValue returns v as a big.Int if it is any integer type.
func intValue(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int:
		return big.NewInt(int64(x)), true
	case int8:
		return big.NewInt(int64(x)), true
	case int16:
		return big.NewInt(int64(x)), true
	case int32:
		return big.NewInt(int64(x)), true
	case int64:
		return big.NewInt(x), true
	case uint:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint8:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint16:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint32:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint64:
		return new(big.Int).SetUint64(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// normalize maps a tuple to the types Unpack returns.
func normalize(t Tuple) Tuple {
	out := make(Tuple, len(t))
	for i, v := range t {
		if x, ok := intValue(v); ok {
			out[i] = normalizeInt(x)
		} else if n, ok := v.(Tuple); ok {
			out[i] = normalize(n)
		} else {
			out[i] = v
		}
	}
	return out
}

// tupleEqual compares tuples after normalization; floats compare by bits
// so NaN equals itself and -0.0 differs from 0.0.
func tupleEqual(a, b Tuple) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !elemEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func elemEqual(a, b any) bool {
	if x, ok := intValue(a); ok {
		y, ok := intValue(b)
		return ok && x.Cmp(y) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && tupleEqual(x, y)
	}
	return a == b
}

// requireTupleEqual also checks the decoded Go types are the normalized
// ones, since callers type-switch on them.
func requireTupleEqual(t testing.TB, want, got Tuple) {
	t.Helper()
	want = normalize(want)
	require.True(t, tupleEqual(want, got), "tuples differ\nwant %#v\ngot  %#v", want, got)
	require.Equal(t, fmt.Sprintf("%T", []any(want)), fmt.Sprintf("%T", []any(got)))
	for i := range want {
		require.IsType(t, want[i], got[i], "element %d", i)
	}
}

// compareTuples is the reference tuple order, written from the rules in
// design/tuple.md rather than from the encoding.
func compareTuples(a, b Tuple) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareElems(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// typeRank orders element types; all integers share one rank because
// their type codes are ordered by magnitude.
func typeRank(v any) int {
	if _, ok := intValue(v); ok {
		return 0x14
	}
	switch x := v.(type) {
	case nil:
		return 0x00
	case []byte:
		return 0x01
	case string:
		return 0x02
	case Tuple:
		return 0x05
	case float32:
		return 0x20
	case float64:
		return 0x21
	case bool:
		if x {
			return 0x27
		}
		return 0x26
	case UUID:
		return 0x30
	case Versionstamp:
		return 0x33
	}
	panic(fmt.Sprintf("typeRank: %T", v))
}

func compareElems(a, b any) int {
	if c := cmp.Compare(typeRank(a), typeRank(b)); c != 0 {
		return c
	}
	if x, ok := intValue(a); ok {
		y, _ := intValue(b)
		return x.Cmp(y)
	}
	switch x := a.(type) {
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case string:
		return cmp.Compare(x, b.(string))
	case Tuple:
		return compareTuples(x, b.(Tuple))
	case float32:
		return totalOrder(parts32(x), parts32(b.(float32)))
	case float64:
		return totalOrder(parts64(x), parts64(b.(float64)))
	case UUID:
		y := b.(UUID)
		return bytes.Compare(x[:], y[:])
	case Versionstamp:
		y := b.(Versionstamp)
		if c := bytes.Compare(x.TransactionVersion[:], y.TransactionVersion[:]); c != 0 {
			return c
		}
		return cmp.Compare(x.UserVersion, y.UserVersion)
	}
	return 0 // nil, bool: equal within a rank
}

// floatParts is a float of either width split for totalOrder, taken from
// the original bits so float32 NaNs are not altered by widening.
type floatParts struct {
	val  float64 // exact for float32 too, unless NaN
	neg  bool
	nan  bool
	mant uint64
}

func parts32(f float32) floatParts {
	u := math.Float32bits(f)
	return floatParts{float64(f), u>>31 == 1, f != f, uint64(u & (1<<23 - 1))}
}

func parts64(f float64) floatParts {
	u := math.Float64bits(f)
	return floatParts{f, u>>63 == 1, f != f, u & (1<<52 - 1)}
}

// totalOrder is IEEE 754 totalOrder: -NaN < -Inf < ... < -0 < +0 < ... <
// +Inf < +NaN, NaNs of one sign ordered by mantissa away from zero.
func totalOrder(x, y floatParts) int {
	if x.nan || y.nan {
		rank := func(p floatParts) int {
			switch {
			case !p.nan:
				return 0
			case p.neg:
				return -1
			}
			return 1
		}
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		if c := cmp.Compare(x.mant, y.mant); !x.neg {
			return c
		} else {
			return -c
		}
	}
	switch {
	case x.val < y.val:
		return -1
	case x.val > y.val:
		return 1
	case x.neg != y.neg: // -0.0 and 0.0
		if x.neg {
			return -1
		}
		return 1
	}
	return 0
}

// byteSource turns fuzz input into choices; exhausted input yields zeros.
type byteSource struct{ b []byte }

func (s *byteSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) uint64() uint64 {
	var tmp [8]byte
	for i := range tmp {
		tmp[i] = s.byte()
	}
	return binary.BigEndian.Uint64(tmp[:])
}

func (s *byteSource) bytes(max int) []byte {
	n := int(s.byte()) % (max + 1)
	out := make([]byte, n)
	alphabet := []byte{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 'a', 'b'}
	for i := range out {
		c := s.byte()
		if c&0x80 != 0 { // half the time pick a byte near the escapes
			c = alphabet[int(c)%len(alphabet)]
		}
		out[i] = c
	}
	return out
}

var interestingInts = func() []*big.Int {
	var out []*big.Int
	for _, e := range []uint{0, 8, 16, 24, 32, 56, 63, 64, 72, 128, 2039} {
		p := new(big.Int).Lsh(big.NewInt(1), e)
		for _, d := range []int64{-1, 0, 1} {
			v := new(big.Int).Add(p, big.NewInt(d))
			out = append(out, v, new(big.Int).Neg(v))
		}
	}
	return out
}()

var interestingFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(),
	math.Copysign(math.NaN(), -1), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
	math.MaxFloat64, -math.MaxFloat64, 0.5, -0.5,
}

// genTuple builds a tuple of every supported type from fuzz input.
func genTuple(s *byteSource, depth int) Tuple {
	n := int(s.byte() % 5)
	t := make(Tuple, 0, n)
	for range n {
		t = append(t, genElem(s, depth))
	}
	return t
}

func genElem(s *byteSource, depth int) any {
	switch s.byte() % 17 {
	case 0:
		return nil
	case 1:
		return s.bytes(12)
	case 2:
		return string(s.bytes(12))
	case 3:
		return int64(s.uint64())
	case 4:
		return normalizeInt(interestingInts[int(s.byte())%len(interestingInts)])
	case 5:
		return s.uint64()
	case 6:
		return int8(s.byte())
	case 7:
		x := new(big.Int).SetBytes(s.bytes(20))
		if s.byte()&1 == 1 {
			x.Neg(x)
		}
		return x
	case 8:
		return math.Float32frombits(uint32(s.uint64()))
	case 9:
		return math.Float64frombits(s.uint64())
	case 10:
		f := interestingFloats[int(s.byte())%len(interestingFloats)]
		if s.byte()&1 == 1 {
			return float32(f)
		}
		return f
	case 11:
		return s.byte()&1 == 1
	case 12:
		var u UUID
		binary.BigEndian.PutUint64(u[:], s.uint64())
		binary.BigEndian.PutUint64(u[8:], s.uint64())
		return u
	case 13:
		var v Versionstamp
		binary.BigEndian.PutUint64(v.TransactionVersion[:], s.uint64())
		v.UserVersion = uint16(s.uint64())
		return v
	case 14:
		if depth < 3 {
			return genTuple(s, depth+1)
		}
		return nil
	case 15:
		switch v := s.uint64(); s.byte() % 6 {
		case 0:
			return int(v)
		case 1:
			return int16(v)
		case 2:
			return int32(v)
		case 3:
			return uint(v)
		case 4:
			return uint16(v)
		default:
			return uint32(v)
		}
	default:
		return string(s.bytes(3)) // short strings make shared prefixes likely
	}
}
