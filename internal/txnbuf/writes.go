package txnbuf

import (
	"bytes"
	"slices"

	"github.com/tidwall/btree"
)

// smallWrites is how many pending keys a writeSet keeps in a sorted slice
// before it moves them to a B-tree: most transactions write a few keys, and
// for those a slice costs no allocation and a search touches one array.
const smallWrites = 16

// writeSet is a transaction's pending entries in key order: a sorted slice
// while there are at most smallWrites of them, a B-tree from then on. The
// zero value is empty. A writeSet must not be copied once used (small may
// point into buf).
type writeSet struct {
	small []*entry // sorted by key; unused once big is set
	big   *btree.BTreeG[*entry]
	buf   [2]*entry // small's first backing array
}

func entryLess(a, b *entry) bool { return bytes.Compare(a.key, b.key) < 0 }

func cmpEntry(e *entry, k []byte) int { return bytes.Compare(e.key, k) }

// empty reports whether the set holds no entry.
func (w *writeSet) empty() bool {
	if w.big != nil {
		return w.big.Len() == 0
	}
	return len(w.small) == 0
}

// get returns the entry of k, or nil.
func (w *writeSet) get(k []byte) *entry {
	if w.big != nil {
		e, _ := w.big.Get(&entry{key: k})
		return e
	}
	if i, ok := slices.BinarySearchFunc(w.small, k, cmpEntry); ok {
		return w.small[i]
	}
	return nil
}

// insert adds e, whose key the set does not hold.
func (w *writeSet) insert(e *entry) {
	if w.big != nil {
		w.big.Set(e)
		return
	}
	if len(w.small) == smallWrites {
		w.big = btree.NewBTreeGOptions(entryLess, btree.Options{NoLocks: true, Degree: 16})
		for _, x := range w.small {
			w.big.Set(x)
		}
		w.big.Set(e)
		w.small, w.buf = nil, [2]*entry{}
		return
	}
	if w.small == nil {
		w.small = w.buf[:0]
	}
	i, _ := slices.BinarySearchFunc(w.small, e.key, cmpEntry)
	w.small = slices.Insert(w.small, i, e)
}

// delete removes e, which the set holds.
func (w *writeSet) delete(e *entry) {
	if w.big != nil {
		w.big.Delete(e)
		return
	}
	if i, ok := slices.BinarySearchFunc(w.small, e.key, cmpEntry); ok {
		w.small = slices.Delete(w.small, i, i+1)
	}
}

// ascend calls fn with the entries whose keys are >= from, in ascending
// order, until fn returns false. fn must not change the set.
func (w *writeSet) ascend(from []byte, fn func(*entry) bool) {
	if w.big != nil {
		w.big.Ascend(&entry{key: from}, fn)
		return
	}
	i, _ := slices.BinarySearchFunc(w.small, from, cmpEntry)
	for _, e := range w.small[i:] {
		if !fn(e) {
			return
		}
	}
}

// descend calls fn with the entries whose keys are <= from, in descending
// order, until fn returns false. fn must not change the set.
func (w *writeSet) descend(from []byte, fn func(*entry) bool) {
	if w.big != nil {
		w.big.Descend(&entry{key: from}, fn)
		return
	}
	i, found := slices.BinarySearchFunc(w.small, from, cmpEntry)
	if found {
		i++
	}
	for j := i - 1; j >= 0; j-- {
		if !fn(w.small[j]) {
			return
		}
	}
}

// scan calls fn with every entry in ascending key order.
func (w *writeSet) scan(fn func(*entry) bool) {
	if w.big != nil {
		w.big.Scan(fn)
		return
	}
	for _, e := range w.small {
		if !fn(e) {
			return
		}
	}
}
