package keys

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// vectorSeeds returns the packed bytes of the shared vectors, or nothing
// if the file is absent (TestVectors reports that).
func vectorSeeds() [][]byte {
	f, err := os.Open(vectorsPath())
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, h, ok := strings.Cut(sc.Text(), "\t"); ok && !strings.HasPrefix(sc.Text(), "#") {
			if b, err := hex.DecodeString(strings.TrimSpace(h)); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

func FuzzUnpack(f *testing.F) {
	for _, b := range vectorSeeds() {
		f.Add(b)
	}
	for _, s := range []string{
		"", "00", "0000ff", "05", "0500ff00", "050500ff0000", "01ff", "0100ff", "01610000ff",
		"1500", "13ff", "1d0901", "0bf6feffffffffffffffff", "1d08ffffffffffffffff", "20", "2100",
		"30", "33ff", "ff", "25", "0c7fffffffffffffff", "1cffffffffffffffff",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tup, err := Unpack(in)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			require.Nil(t, tup)
			return
		}
		// Unpack accepts only canonical encodings, so re-packing must
		// reproduce the input exactly.
		out, err := tup.PackErr()
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(in), hex.EncodeToString(out))
		again, err := Unpack(out)
		require.NoError(t, err)
		requireTupleEqual(t, tup, again)
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 4, 'a', 0, 'b', 0xff, 3, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{4, 14, 2, 0, 4, 7, 10, 6, 1, 16, 2, 0, 0})
	f.Add([]byte{4, 7, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 9, 0xff, 0xf0, 0, 0, 0, 0, 0, 1, 10, 6, 1})
	f.Add([]byte{2, 4, 37, 4, 38, 13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		tup := genTuple(&byteSource{in}, 0)
		packed := tup.Pack()
		got, err := Unpack(packed)
		require.NoError(t, err, "packed %x", packed)
		requireTupleEqual(t, tup, got)

		// A subspace prefix changes nothing about the tuple part.
		s := Sub(Tuple{"p", int64(len(in))})
		k := s.Pack(tup)
		require.True(t, s.Contains(k))
		got, err = s.Unpack(k)
		require.NoError(t, err)
		requireTupleEqual(t, tup, got)
	})
}

func FuzzOrder(f *testing.F) {
	f.Add([]byte{1, 4, 0}, []byte{1, 4, 1})
	f.Add([]byte{1, 2, 1, 'a'}, []byte{2, 2, 1, 'a', 0})
	f.Add([]byte{1, 10, 0, 0}, []byte{1, 10, 1, 0})
	f.Add([]byte{1, 10, 6, 0}, []byte{1, 10, 7, 0})
	f.Add([]byte{1, 1, 2, 0x80, 1}, []byte{1, 1, 1, 0x80})
	f.Add([]byte{1, 14, 1, 0}, []byte{1, 14, 0})
	f.Add([]byte{1, 7, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []byte{1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ta := genTuple(&byteSource{a}, 0)
		tb := genTuple(&byteSource{b}, 0)
		pa, pb := ta.Pack(), tb.Pack()
		want := compareTuples(ta, tb)
		require.Equal(t, want, bytes.Compare(pa, pb), "a=%#v (%x)\nb=%#v (%x)", ta, pa, tb, pb)
		// Equal tuples must also have equal bytes, so keys are unique.
		if want == 0 {
			require.Equal(t, pa, pb)
		}
	})
}
