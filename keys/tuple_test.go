package keys

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func bigPow2(e uint, delta int64, neg bool) *big.Int {
	x := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), e), big.NewInt(delta))
	if neg {
		x.Neg(x)
	}
	return x
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestPack_IntegerWidthsAgree(t *testing.T) {
	for _, v := range []any{int(5), int8(5), int16(5), int32(5), int64(5), uint(5), uint8(5), uint16(5), uint32(5), uint64(5), big.NewInt(5)} {
		require.Equal(t, []byte{0x15, 0x05}, Tuple{v}.Pack(), "%T", v)
	}
	for _, v := range []any{int(-300), int16(-300), int32(-300), int64(-300), big.NewInt(-300)} {
		require.Equal(t, []byte{0x12, 0xfe, 0xd3}, Tuple{v}.Pack(), "%T", v)
	}
	require.Equal(t, Tuple{int8(math.MinInt8)}.Pack(), Tuple{big.NewInt(math.MinInt8)}.Pack())
	require.Equal(t, Tuple{uint64(math.MaxUint64)}.Pack(), Tuple{new(big.Int).SetUint64(math.MaxUint64)}.Pack())
}

func TestPack_BigIntegers(t *testing.T) {
	cases := []struct {
		v    *big.Int
		want string
	}{
		{bigPow2(64, -1, false), "1c ffffffffffffffff"},
		{bigPow2(64, 0, false), "1d 09 010000000000000000"},
		{bigPow2(64, 1, false), "1d 09 010000000000000001"},
		{bigPow2(64, -1, true), "0c 0000000000000000"},
		{bigPow2(63, 1, true), "0c 7ffffffffffffffe"},
		{bigPow2(64, 0, true), "0b f6 feffffffffffffffff"},
		{bigPow2(64, 1, true), "0b f6 fefffffffffffffffe"},
		{bigPow2(72, -1, true), "0b f6 000000000000000000"},
	}
	for _, c := range cases {
		want := mustHex(t, c.want)
		require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(Tuple{c.v}.Pack()), "%s", c.v)
		got, err := Unpack(want)
		require.NoError(t, err)
		requireTupleEqual(t, Tuple{c.v}, got)
	}

	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255*8), big.NewInt(1))
	for _, v := range []*big.Int{max, new(big.Int).Neg(max)} {
		b := Tuple{v}.Pack()
		require.Len(t, b, 257)
		got, err := Unpack(b)
		require.NoError(t, err)
		requireTupleEqual(t, Tuple{v}, got)
	}
	tooBig := new(big.Int).Lsh(big.NewInt(1), 255*8)
	_, err := Tuple{tooBig}.PackErr()
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = Tuple{new(big.Int).Neg(tooBig)}.PackErr()
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestUnpack_IntegerTypes(t *testing.T) {
	cases := []struct {
		in   any
		want any
	}{
		{int64(math.MaxInt64), int64(math.MaxInt64)},
		{int64(math.MinInt64), int64(math.MinInt64)},
		{uint64(math.MaxInt64 + 1), uint64(math.MaxInt64 + 1)},
		{uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{uint8(200), int64(200)},
		{bigPow2(63, 1, true), bigPow2(63, 1, true)},
		{bigPow2(64, 0, false), bigPow2(64, 0, false)},
	}
	for _, c := range cases {
		got, err := Unpack(Tuple{c.in}.Pack())
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.IsType(t, c.want, got[0], "%v", c.in)
		require.True(t, elemEqual(c.want, got[0]), "want %v got %v", c.want, got[0])
	}
}

func TestPack_Floats(t *testing.T) {
	require.Equal(t, mustHex(t, "21 8000000000000000"), Tuple{0.0}.Pack())
	require.Equal(t, mustHex(t, "21 7fffffffffffffff"), Tuple{math.Copysign(0, -1)}.Pack())
	require.Equal(t, mustHex(t, "20 80000000"), Tuple{float32(0)}.Pack())
	require.Equal(t, mustHex(t, "20 7fffffff"), Tuple{float32(math.Copysign(0, -1))}.Pack())

	// NaN payloads and signs survive, as design/tuple.md requires readers
	// not to canonicalize them.
	for _, bits := range []uint64{0x7ff8000000000001, 0xfff0000000000001, 0x7ff0000000000001} {
		got, err := Unpack(Tuple{math.Float64frombits(bits)}.Pack())
		require.NoError(t, err)
		require.Equal(t, bits, math.Float64bits(got[0].(float64)))
	}
	for _, bits := range []uint32{0x7fc00001, 0xff800001, 0x7f800001} {
		got, err := Unpack(Tuple{math.Float32frombits(bits)}.Pack())
		require.NoError(t, err)
		require.Equal(t, bits, math.Float32bits(got[0].(float32)))
	}
}

func TestPack_NestedNil(t *testing.T) {
	tup := Tuple{nil, Tuple{nil, Tuple{}, "a\x00"}, nil}
	want := mustHex(t, "00 05 00ff 05 00 02 61 00ff 00 00 00")
	require.Equal(t, want, tup.Pack())
	got, err := Unpack(want)
	require.NoError(t, err)
	requireTupleEqual(t, tup, got)
}

func TestPack_Unsupported(t *testing.T) {
	x := 5
	for _, v := range []any{&x, []any{1}, map[string]int{}, struct{}{}, (*big.Int)(nil), complex(1, 2), []string{"a"}} {
		_, err := Tuple{"ok", Tuple{v}}.PackErr()
		require.ErrorIs(t, err, ErrUnsupported, "%T", v)
		require.Panics(t, func() { Tuple{v}.Pack() }, "%T", v)
	}
}

func TestUnpack_Malformed(t *testing.T) {
	cases := map[string]string{
		"truncated int":             "16 01",
		"truncated negative int":    "0c 00",
		"non-canonical int":         "15 00",
		"non-canonical 2-byte int":  "16 0001",
		"non-canonical neg int":     "13 ff",
		"truncated big length":      "1d",
		"truncated big":             "1d 09 01",
		"short big length":          "1d 08 0100000000000000",
		"non-canonical big":         "1d 0a 00010000000000000000",
		"short neg big length":      "0b f7 0100000000000000",
		"non-canonical neg big":     "0b f5 ff00000000000000000000",
		"truncated neg big length":  "0b",
		"unterminated bytes":        "01 6162",
		"unterminated escaped":      "01 61 00ff",
		"unterminated string":       "02 61",
		"truncated float":           "20 000000",
		"truncated double":          "21 00000000000000",
		"truncated UUID":            "30 00",
		"truncated versionstamp":    "33 ffffffffffffffffffff 00",
		"unknown code":              "03",
		"deprecated true":           "25",
		"reserved identifier":       "31 0000000000000000",
		"80-bit versionstamp":       "32 00000000000000000000",
		"user type":                 "40",
		"escape as code":            "ff",
		"nil then escape top-level": "00 ff",
		"unterminated nested":       "05 15 01",
		"unterminated nested nil":   "05 00 ff",
		"bad element in nested":     "05 16 01 00",
		"deep unterminated nested":  "05 05 05 05 00 00 00",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Unpack(mustHex(t, in))
			require.ErrorIs(t, err, ErrMalformed)
			require.Contains(t, err.Error(), "offset")
			require.Nil(t, got)
		})
	}
}

func TestUnpack_DeepNesting(t *testing.T) {
	const depth = 10000
	in := append(bytes.Repeat([]byte{codeNested}, depth), bytes.Repeat([]byte{0x00}, depth)...)
	got, err := Unpack(in)
	require.NoError(t, err)
	require.Equal(t, in, got.Pack())

	_, err = Unpack(bytes.Repeat([]byte{codeNested}, 1<<18))
	require.ErrorIs(t, err, ErrMalformed)
}

func TestUnpack_Empty(t *testing.T) {
	for _, in := range [][]byte{nil, {}} {
		got, err := Unpack(in)
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Empty(t, got)
	}
}

func TestUnpack_DoesNotAliasInput(t *testing.T) {
	in := Tuple{[]byte("abc"), "def", []byte("g\x00h"), UUID{1}}.Pack()
	got, err := Unpack(in)
	require.NoError(t, err)
	for i := range in {
		in[i] = 0xee
	}
	requireTupleEqual(t, Tuple{[]byte("abc"), "def", []byte("g\x00h"), UUID{1}}, got)
}

func TestPack_ReturnsFreshSlices(t *testing.T) {
	tup := Tuple{"a", int64(1)}
	a, b := tup.Pack(), tup.Pack()
	a[0] = 0xee
	require.Equal(t, byte(codeString), b[0])

	s := Sub(Tuple{"root"})
	p := s.Bytes()
	p[0] = 0xee
	k := s.Pack(Tuple{1})
	k[1] = 0xee
	begin, end := s.Range()
	begin[0], end[0] = 0xee, 0xee
	require.Equal(t, Tuple{"root"}.Pack(), s.Bytes())
}

func TestVersionstamp(t *testing.T) {
	vs := IncompleteVersionstamp(7)
	require.Equal(t, [10]byte(bytes.Repeat([]byte{0xff}, 10)), vs.TransactionVersion)
	complete := Versionstamp{TransactionVersion: [10]byte{9: 1}, UserVersion: 1}

	cases := []struct {
		name   string
		prefix []byte
		tup    Tuple
		offset uint32
	}{
		{"top level", nil, Tuple{vs}, 1},
		{"after prefix and string", []byte("pp"), Tuple{"a", complete, vs}, 2 + 3 + 13 + 1},
		{"nested", []byte{0x15}, Tuple{Tuple{nil, vs}}, 1 + 1 + 2 + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			has, err := c.tup.HasIncompleteVersionstamp()
			require.NoError(t, err)
			require.True(t, has)

			got, err := c.tup.PackWithVersionstamp(c.prefix)
			require.NoError(t, err)
			packed := append(append([]byte{}, c.prefix...), c.tup.Pack()...)
			require.Equal(t, packed, got[:len(got)-4])
			require.Equal(t, []byte{byte(c.offset), byte(c.offset >> 8), byte(c.offset >> 16), byte(c.offset >> 24)}, got[len(got)-4:])
			require.Equal(t, vs.TransactionVersion[:], got[c.offset:c.offset+10])
		})
	}

	has, err := Tuple{complete, "x"}.HasIncompleteVersionstamp()
	require.NoError(t, err)
	require.False(t, has)
	_, err = Tuple{complete}.PackWithVersionstamp(nil)
	require.ErrorIs(t, err, ErrVersionstamp)

	two := Tuple{vs, Tuple{IncompleteVersionstamp(8)}}
	_, err = two.HasIncompleteVersionstamp()
	require.ErrorIs(t, err, ErrVersionstamp)
	_, err = two.PackWithVersionstamp(nil)
	require.ErrorIs(t, err, ErrVersionstamp)

	_, err = Tuple{vs, 1i}.PackWithVersionstamp(nil)
	require.ErrorIs(t, err, ErrUnsupported)

	got, err := Unpack(Tuple{vs}.Pack())
	require.NoError(t, err)
	require.Equal(t, Tuple{vs}, got)
}

func TestSubspace(t *testing.T) {
	root := Sub(Tuple{"fs", int64(1)})
	require.Equal(t, Tuple{"fs", int64(1)}.Pack(), root.Bytes())

	child := root.Sub("d", int64(42))
	require.Equal(t, Tuple{"fs", int64(1), "d", int64(42)}.Pack(), child.Bytes())
	require.True(t, root.Contains(child.Bytes()))
	require.False(t, child.Contains(root.Bytes()))

	k := child.Pack(Tuple{[]byte("name")})
	require.Equal(t, Tuple{"fs", int64(1), "d", int64(42), []byte("name")}.Pack(), k)
	got, err := child.Unpack(k)
	require.NoError(t, err)
	requireTupleEqual(t, Tuple{[]byte("name")}, got)
	got, err = root.Unpack(k)
	require.NoError(t, err)
	requireTupleEqual(t, Tuple{"d", int64(42), []byte("name")}, got)

	_, err = child.Unpack(Sub(Tuple{"other"}).Pack(Tuple{1}))
	require.ErrorIs(t, err, ErrNotInSubspace)
	_, err = root.Unpack(append(root.Bytes(), 0x16, 0x01))
	require.ErrorIs(t, err, ErrMalformed)

	begin, end := child.Range()
	require.Equal(t, append(child.Bytes(), 0x00), begin)
	require.Equal(t, append(child.Bytes(), 0xff), end)
	for _, tup := range []Tuple{{nil}, {[]byte{}}, {int64(-1) << 40}, {true}, {Versionstamp{}}, {IncompleteVersionstamp(math.MaxUint16)}} {
		k := child.Pack(tup)
		require.True(t, bytes.Compare(begin, k) <= 0 && bytes.Compare(k, end) < 0, "%x", k)
	}

	vk, err := child.PackWithVersionstamp(Tuple{IncompleteVersionstamp(1)})
	require.NoError(t, err)
	require.True(t, child.Contains(vk))

	raw := []byte{0x01, 0x02}
	fb := FromBytes(raw)
	raw[0] = 0xee
	require.Equal(t, []byte{0x01, 0x02}, fb.Bytes())
	require.Equal(t, []byte{0x01, 0x02, 0x15, 0x07}, fb.Pack(Tuple{7}))

	var zero Subspace
	require.Empty(t, zero.Bytes())
	require.True(t, zero.Contains([]byte("anything")))
	begin, end = zero.Range()
	require.Equal(t, []byte{0x00}, begin)
	require.Equal(t, []byte{0xff}, end)
	got, err = zero.Unpack(Tuple{"x"}.Pack())
	require.NoError(t, err)
	require.Equal(t, Tuple{"x"}, got)

	require.Panics(t, func() { root.Sub(struct{}{}) })
	require.Panics(t, func() { Sub(Tuple{struct{}{}}) })
}

func TestStrinc(t *testing.T) {
	cases := map[string]string{
		"01":       "02",
		"01ff":     "02",
		"0001ffff": "0002",
		"fe":       "ff",
		"61fffe":   "61ffff",
	}
	for in, want := range cases {
		got, err := Strinc(mustHex(t, in))
		require.NoError(t, err, in)
		require.Equal(t, want, hex.EncodeToString(got), in)
	}
	for _, in := range []string{"", "ff", "ffff"} {
		_, err := Strinc(mustHex(t, in))
		require.ErrorIs(t, err, ErrNoSuccessor, in)
	}
	in := []byte{0x01, 0xff}
	out, _ := Strinc(in)
	out[0] = 0xee
	require.Equal(t, []byte{0x01, 0xff}, in)
}
