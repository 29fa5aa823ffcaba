package enginetest

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

// model is the state a transaction sees: a plain map, with the atomics and
// selectors written out again here, independently of any engine.
type model map[string]string

func (m model) clone() model {
	out := make(model, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (m model) sortedKeys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// resolve returns the key a selector resolves to in m.
func (m model) resolve(s kv.KeySelector) string {
	k := string(s.Key)
	var out string
	switch {
	case s.Offset == 1 && !s.OrEqual:
		out = k
	case s.Offset == 1 && s.OrEqual:
		out = k + "\x00"
	default:
		for _, x := range m.sortedKeys() {
			if x < k || (s.OrEqual && x == k) {
				out = x
			}
		}
	}
	return min(out, "\xff")
}

// rangeRows is what GetRange(begin, end, limit) must return, and whether
// rows remain beyond the limit.
func (m model) rangeRows(begin, end kv.KeySelector, limit int) ([]string, bool) {
	lo, hi := m.resolve(begin), m.resolve(end)
	out := []string{}
	for _, k := range m.sortedKeys() {
		if k >= lo && k < hi {
			out = append(out, k+"="+m[k])
		}
	}
	if limit > 0 && len(out) > limit {
		return out[:limit], true
	}
	return out, false
}

// leToInt reads a little-endian unsigned integer.
func leToInt(p []byte) *big.Int {
	be := slices.Clone(p)
	slices.Reverse(be)
	return new(big.Int).SetBytes(be)
}

// intToLE writes x modulo 2^(8n) as n little-endian bytes.
func intToLE(x *big.Int, n int) []byte {
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	x = new(big.Int).Mod(x, mod)
	be := x.FillBytes(make([]byte, n))
	slices.Reverse(be)
	return be
}

// modelAtomic is FoundationDB's atomic op over old (absent when !exists),
// written with big integers rather than byte loops.
func modelAtomic(op kv.AtomicOp, old string, exists bool, param string) string {
	n := len(param)
	if (op == kv.AtomicMin || op == kv.AtomicBitAnd) && !exists {
		return param
	}
	o := make([]byte, n)
	copy(o, old)
	p := []byte(param)
	switch op {
	case kv.AtomicAdd:
		return string(intToLE(new(big.Int).Add(leToInt(o), leToInt(p)), n))
	case kv.AtomicMax:
		if leToInt(p).Cmp(leToInt(o)) > 0 {
			return param
		}
		return string(o)
	case kv.AtomicMin:
		if leToInt(p).Cmp(leToInt(o)) < 0 {
			return param
		}
		return string(o)
	case kv.AtomicBitAnd:
		for i := range o {
			o[i] &= p[i]
		}
	case kv.AtomicBitOr:
		for i := range o {
			o[i] |= p[i]
		}
	case kv.AtomicBitXor:
		for i := range o {
			o[i] ^= p[i]
		}
	}
	return string(o)
}

// modelKeys is the small key universe of the model test; close neighbours
// ("b", "b\x00", "ba") exercise the edges of half-open ranges.
var modelKeys = []string{"", "a", "b", "b\x00", "ba", "bb", "c", "d", "da", "e", "f", "g", "h", "x", "y", "z"}

func randSelector(r *rand.Rand) kv.KeySelector {
	k := b(modelKeys[r.IntN(len(modelKeys))])
	if r.IntN(12) == 0 {
		k = b("\xff")
	}
	switch r.IntN(4) {
	case 0:
		return kv.FirstGreaterOrEqual(k)
	case 1:
		return kv.FirstGreaterThan(k)
	case 2:
		return kv.LastLessThan(k)
	}
	return kv.LastLessOrEqual(k)
}

func selString(s kv.KeySelector) string {
	name := map[[2]int]string{{1, 0}: "FirstGreaterOrEqual", {1, 1}: "FirstGreaterThan", {0, 0}: "LastLessThan", {0, 1}: "LastLessOrEqual"}
	or := 0
	if s.OrEqual {
		or = 1
	}
	return fmt.Sprintf("%s(%q)", name[[2]int{s.Offset, or}], s.Key)
}

func randValue(r *rand.Rand) string {
	n := 1 + r.IntN(3)
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.IntN(256))
	}
	return string(v)
}

// testRYWModel runs random mutations and reads in transactions over random
// stored data and compares every answer (point reads, range reads with all
// selector forms, limits and paging) and the committed result with the
// model. Failures print the seed and the operations so far.
func testRYWModel(t *testing.T, c *Config) {
	db := c.Open(t)
	for round := range 60 {
		seed := uint64(round)
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		var log []string
		fail := func() string { return fmt.Sprintf("seed %d, ops:\n  %s", seed, strings.Join(log, "\n  ")) }

		// Fresh stored data each round.
		tx := db.NewReadWrite()
		tx.ClearRange(b(""), b("\xff"))
		stored := model{}
		for _, k := range modelKeys {
			if r.IntN(2) == 0 {
				v := randValue(r)
				tx.Set(b(k), b(v))
				stored[k] = v
			}
		}
		require.NoError(t, tx.Commit(ctxBG))

		view := stored.clone()
		tx = db.NewReadWrite()
		for range 40 {
			k := modelKeys[r.IntN(len(modelKeys))]
			switch op := r.IntN(10); op {
			case 0, 1:
				v := randValue(r)
				log = append(log, fmt.Sprintf("Set(%q, %q)", k, v))
				tx.Set(b(k), b(v))
				view[k] = v
			case 2:
				log = append(log, fmt.Sprintf("Clear(%q)", k))
				tx.Clear(b(k))
				delete(view, k)
			case 3:
				e := modelKeys[r.IntN(len(modelKeys))]
				if e < k {
					k, e = e, k
				}
				log = append(log, fmt.Sprintf("ClearRange(%q, %q)", k, e))
				tx.ClearRange(b(k), b(e))
				for x := range view {
					if x >= k && x < e {
						delete(view, x)
					}
				}
			case 4, 5:
				aop := []kv.AtomicOp{kv.AtomicAdd, kv.AtomicMax, kv.AtomicMin, kv.AtomicBitAnd, kv.AtomicBitOr, kv.AtomicBitXor}[r.IntN(6)]
				old, exists := view[k]
				p := randValue(r)
				log = append(log, fmt.Sprintf("Atomic(%v, %q, %q)", aop, k, p))
				tx.Atomic(aop, b(k), b(p))
				view[k] = modelAtomic(aop, old, exists, p)
			case 6:
				snap := r.IntN(2) == 0
				log = append(log, fmt.Sprintf("Get(%q) snapshot=%v", k, snap))
				var got []byte
				var ok bool
				var err error
				if snap {
					got, ok, err = tx.SnapshotGet(ctxBG, b(k))
				} else {
					got, ok, err = tx.Get(ctxBG, b(k))
				}
				require.NoError(t, err, fail())
				want, wantOK := view[k]
				require.Equal(t, wantOK, ok, "found; %s", fail())
				require.Equal(t, want, string(got), "value; %s", fail())
			case 7, 8:
				bs, es := randSelector(r), randSelector(r)
				limit := r.IntN(5)
				snap := r.IntN(2) == 0
				log = append(log, fmt.Sprintf("GetRange(%s, %s, %d) snapshot=%v", selString(bs), selString(es), limit, snap))
				var got kv.RangeResult
				var err error
				if snap {
					got, err = tx.SnapshotGetRange(ctxBG, bs, es, limit)
				} else {
					got, err = tx.GetRange(ctxBG, bs, es, limit)
				}
				require.NoError(t, err, fail())
				want, wantMore := view.rangeRows(bs, es, limit)
				require.Equal(t, want, rows(t, got), fail())
				if wantMore {
					require.True(t, got.More, "More; %s", fail())
				}
			case 9:
				lo, hi := modelKeys[r.IntN(len(modelKeys))], modelKeys[r.IntN(len(modelKeys))]
				if hi < lo {
					lo, hi = hi, lo
				}
				limit := 1 + r.IntN(3)
				log = append(log, fmt.Sprintf("page [%q, %q) by %d", lo, hi, limit))
				want, _ := view.rangeRows(kv.FirstGreaterOrEqual(b(lo)), kv.FirstGreaterOrEqual(b(hi)), 0)
				require.Equal(t, want, page(t, tx, b(lo), b(hi), limit), fail())
			}
		}
		log = append(log, "Commit")
		require.NoError(t, tx.Commit(ctxBG), fail())
		want, _ := view.rangeRows(kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
		require.Equal(t, want, dump(t, db), "committed state; %s", fail())
	}
}
