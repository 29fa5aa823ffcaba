package enginetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var serialTests = []test{
	{"SerializableBankTransfers", testSerialBank},
	{"SerializableListAppend", testSerialListAppend},
}

func (c *Config) workload(seed uint64) Workload {
	return Workload{Workers: c.Workers, Txns: c.TxnsPerWorker, Keys: 50, Seed: seed}
}

func testSerialBank(t *testing.T, c *Config) {
	db := c.Open(t)
	rep, err := CheckBank(ctxBG, db, c.workload(1))
	require.NoError(t, err)
	t.Logf("bank: %d transactions committed, %d retries, %d audits", rep.Committed, rep.Retries, rep.Reads)
	require.Empty(t, rep.Violations)
	require.Positive(t, rep.Reads, "no audit ran")
}

func testSerialListAppend(t *testing.T, c *Config) {
	db := c.Open(t)
	rep, err := CheckListAppend(ctxBG, db, c.workload(2))
	require.NoError(t, err)
	t.Logf("list-append: %d transactions committed, %d retries, %d dependency edges", rep.Committed, rep.Retries, rep.Edges)
	require.Empty(t, rep.Violations)
	require.Positive(t, rep.Edges, "the history has no dependencies to check")
}

// Workload sizes a serializability check. Zero fields take the defaults.
type Workload struct {
	Workers int    // concurrent goroutines (default 8)
	Txns    int    // transactions per worker (default 2,000)
	Keys    int    // keys the transactions pick from (default 50)
	Seed    uint64 // random choices of the workers
}

func (w Workload) withDefaults() Workload {
	if w.Workers <= 0 {
		w.Workers = 8
	}
	if w.Txns <= 0 {
		w.Txns = 2000
	}
	if w.Keys <= 1 {
		w.Keys = 50
	}
	return w
}

// Report is the outcome of a serializability check. Violations is empty
// when the history was serializable.
type Report struct {
	Committed  int      // read-write transactions committed
	Retries    int      // attempts retried by kv.Update
	Reads      int      // read-only snapshots checked (bank)
	Edges      int      // dependency edges (list-append)
	Violations []string // what went wrong, one line each
}

const maxViolations = 20

func (r *Report) violate(format string, args ...any) {
	if len(r.Violations) < maxViolations {
		r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
	}
}

// retryOpts are the retry options of the workers: quick backoff, bounded.
func retryOpts(retries *int, mu *sync.Mutex) []kv.Option {
	return []kv.Option{
		kv.WithRetryOptions(kv.RetryOptions{
			MaxRetries:     10_000,
			InitialBackoff: 20 * time.Microsecond,
			MaxBackoff:     2 * time.Millisecond,
		}),
		kv.OnRetry(func(int, error) {
			mu.Lock()
			*retries++
			mu.Unlock()
		}),
	}
}

// runWorkers runs fn(worker, rand) on w.Workers goroutines and returns the
// first error.
func runWorkers(w Workload, fn func(worker int, r *rand.Rand) error) error {
	var wg sync.WaitGroup
	errs := make([]error, w.Workers)
	for i := range w.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, rand.New(rand.NewPCG(w.Seed, uint64(i))))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

const bankInitial = 100

func bankKey(i int) []byte { return fmt.Appendf(nil, "bank/%03d", i) }

// CheckBank runs a bank on db: w.Keys accounts of 100 each, and w.Workers
// goroutines each running w.Txns transactions under kv.Update that move
// money between accounts they read (point reads, or a range read of
// several accounts) or audit every account in a read-only snapshot. Every
// audit and the final state must show the same total and no negative
// balance; a lost update breaks that. The error reports a failure to run
// (a non-retryable engine error), not an anomaly. db must be empty.
func CheckBank(ctx context.Context, db kv.Engine, w Workload) (Report, error) {
	w = w.withDefaults()
	var rep Report
	var mu sync.Mutex // guards rep
	total := bankInitial * w.Keys
	if err := kv.Update(ctx, db, func(_ context.Context, tx kv.ReadWriteTxn) error {
		for i := range w.Keys {
			tx.Set(bankKey(i), strconv.AppendInt(nil, bankInitial, 10))
		}
		return nil
	}); err != nil {
		return rep, err
	}
	audit := func() error {
		bal, err := kv.ReadTransact(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) ([]int, error) {
			return readBalances(ctx, tx, 0, w.Keys)
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			return err
		}
		rep.Reads++
		if sum(bal) != total {
			rep.violate("audit saw a total of %d, want %d: %v", sum(bal), total, bal)
		}
		for i, x := range bal {
			if x < 0 {
				rep.violate("audit saw account %d at %d", i, x)
			}
		}
		return nil
	}
	opts := retryOpts(&rep.Retries, &mu)
	err := runWorkers(w, func(_ int, r *rand.Rand) error {
		for range w.Txns {
			if r.IntN(5) == 0 {
				if err := audit(); err != nil {
					return err
				}
				continue
			}
			from, to := r.IntN(w.Keys), r.IntN(w.Keys-1)
			if to >= from {
				to++
			}
			amount := 1 + r.IntN(20)
			spread := r.IntN(4) == 0
			lo := r.IntN(w.Keys)
			hi := min(w.Keys, lo+2+r.IntN(6))
			err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				if spread {
					// Move from the richest to the poorest of a range.
					bal, err := readBalances(ctx, tx, lo, hi)
					if err != nil {
						return err
					}
					f, t := slices.Index(bal, slices.Max(bal)), slices.Index(bal, slices.Min(bal))
					return transfer(tx, lo+f, bal[f], lo+t, bal[t], amount)
				}
				bf, err := getBalance(ctx, tx, from)
				if err != nil {
					return err
				}
				bt, err := getBalance(ctx, tx, to)
				if err != nil {
					return err
				}
				return transfer(tx, from, bf, to, bt, amount)
			}, opts...)
			if err != nil {
				return err
			}
			mu.Lock()
			rep.Committed++
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	return rep, audit()
}

func transfer(tx kv.ReadWriteTxn, from, bf, to, bt, amount int) error {
	if from == to || bf < amount {
		return nil
	}
	tx.Set(bankKey(from), strconv.AppendInt(nil, int64(bf-amount), 10))
	tx.Set(bankKey(to), strconv.AppendInt(nil, int64(bt+amount), 10))
	return nil
}

func getBalance(ctx context.Context, tx kv.ReadOnlyTxn, i int) (int, error) {
	v, ok, err := tx.Get(ctx, bankKey(i))
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("enginetest: account %d is missing", i)
	}
	return strconv.Atoi(string(v))
}

func readBalances(ctx context.Context, tx kv.ReadOnlyTxn, lo, hi int) ([]int, error) {
	r, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(bankKey(lo)), kv.FirstGreaterOrEqual(bankKey(hi)), 0)
	if err != nil {
		return nil, err
	}
	if len(r.KVs) != hi-lo || r.More {
		return nil, fmt.Errorf("enginetest: range read of accounts [%d, %d) returned %d rows (more %v)", lo, hi, len(r.KVs), r.More)
	}
	out := make([]int, len(r.KVs))
	for i, row := range r.KVs {
		if out[i], err = strconv.Atoi(string(row.Value)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// ListTxn is one committed transaction of a list-append history: the lists
// it read (by key; an absent key reads as an empty list) and the keys it
// appended its ID to. Process and the order of a process's transactions
// in the history give the real-time order within one client.
type ListTxn struct {
	ID      int
	Process int
	Reads   map[string][]int
	Appends []string
}

func listKey(i int) string { return fmt.Sprintf("list/%03d", i) }

func encodeList(ids []int) []byte {
	out := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		out = binary.BigEndian.AppendUint32(out, uint32(id))
	}
	return out
}

func decodeList(p []byte) ([]int, error) {
	if len(p)%4 != 0 {
		return nil, fmt.Errorf("enginetest: list value of %d bytes is not a list of 4-byte ids", len(p))
	}
	out := make([]int, len(p)/4)
	for i := range out {
		out[i] = int(binary.BigEndian.Uint32(p[4*i:]))
	}
	return out, nil
}

// CheckListAppend runs an Elle-style list-append workload on db: each of
// w.Workers goroutines runs w.Txns transactions under kv.Update over w.Keys
// keys holding lists of transaction ids. A transaction reads some lists
// (point reads or a range read over several keys) and appends its id to
// others (a read and a write of the list). From each committed
// transaction's observations and the final lists it checks the history
// with CheckListHistory. db must be empty.
func CheckListAppend(ctx context.Context, db kv.Engine, w Workload) (Report, error) {
	w = w.withDefaults()
	var rep Report
	var mu sync.Mutex
	hist := make([][]ListTxn, w.Workers)
	opts := retryOpts(&rep.Retries, &mu)
	err := runWorkers(w, func(worker int, r *rand.Rand) error {
		for i := range w.Txns {
			id := worker*w.Txns + i + 1
			// Distinct keys per transaction: no read after its own append.
			perm := r.Perm(w.Keys)
			nops := 1 + r.IntN(4)
			var reads, appends []string
			for _, k := range perm[:nops] {
				if r.IntN(2) == 0 {
					reads = append(reads, listKey(k))
				} else {
					appends = append(appends, listKey(k))
				}
			}
			var scan []int // a range read over keys not otherwise touched
			if r.IntN(4) == 0 {
				lo := r.IntN(w.Keys)
				for k := lo; k < min(w.Keys, lo+4); k++ {
					if !slices.Contains(perm[:nops], k) {
						scan = append(scan, k)
					}
				}
				// Only a contiguous run can be one range read.
				for j := 1; j < len(scan); j++ {
					if scan[j] != scan[j-1]+1 {
						scan = scan[:j]
						break
					}
				}
			}
			txn, err := kv.Transact(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) (ListTxn, error) {
				t := ListTxn{ID: id, Process: worker, Reads: map[string][]int{}, Appends: appends}
				for _, k := range reads {
					v, _, err := tx.Get(ctx, []byte(k))
					if err != nil {
						return t, err
					}
					if t.Reads[k], err = decodeList(v); err != nil {
						return t, err
					}
				}
				if len(scan) > 0 {
					lo, hi := listKey(scan[0]), listKey(scan[len(scan)-1]+1)
					res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte(lo)), kv.FirstGreaterOrEqual([]byte(hi)), 0)
					if err != nil {
						return t, err
					}
					for _, k := range scan {
						t.Reads[listKey(k)] = []int{}
					}
					for _, row := range res.KVs {
						if t.Reads[string(row.Key)], err = decodeList(row.Value); err != nil {
							return t, err
						}
					}
				}
				for _, k := range appends {
					v, _, err := tx.Get(ctx, []byte(k))
					if err != nil {
						return t, err
					}
					l, err := decodeList(v)
					if err != nil {
						return t, err
					}
					t.Reads[k] = l
					tx.Set([]byte(k), encodeList(append(l, id)))
				}
				return t, nil
			}, opts...)
			if err != nil {
				return err
			}
			hist[worker] = append(hist[worker], txn)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	final, err := kv.ReadTransact(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) (map[string][]int, error) {
		res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("list/")), kv.FirstGreaterOrEqual([]byte("list0")), 0)
		if err != nil {
			return nil, err
		}
		out := map[string][]int{}
		for _, row := range res.KVs {
			if out[string(row.Key)], err = decodeList(row.Value); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	if err != nil {
		return rep, err
	}
	var all []ListTxn
	for _, h := range hist {
		all = append(all, h...)
	}
	rep.Committed = len(all)
	rep.Edges, rep.Violations = CheckListHistory(all, final)
	return rep, nil
}

// CheckListHistory checks a list-append history: every committed append is
// in the final list exactly once and nothing else is, every read is a prefix
// of the final list, and the dependency graph is acyclic. The graph has the
// transactions as nodes and edges T1 -> T2 when T2 must follow T1 in any
// serial order: ww (T2 appended right after T1 on a key), wr (T2 read T1's
// append as the last element), rw (T1 read a list that T2's append
// extended) and process order (T1 came before T2 in one process, i.e. in
// real time). It returns the number of edges and the violations.
func CheckListHistory(txns []ListTxn, final map[string][]int) (edges int, violations []string) {
	violate := func(format string, args ...any) {
		if len(violations) < maxViolations {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
	}
	idx := make(map[int]int, len(txns)) // id -> index in txns
	for i, t := range txns {
		idx[t.ID] = i
	}
	// writer[k][id] is the position of id in final[k].
	pos := map[string]map[int]int{}
	for k, l := range final {
		pos[k] = map[int]int{}
		for p, id := range l {
			if _, dup := pos[k][id]; dup {
				violate("duplicate: %d appears twice in %s", id, k)
			}
			pos[k][id] = p
			i, ok := idx[id]
			if !ok || !slices.Contains(txns[i].Appends, k) {
				violate("garbage: %d in %s was appended by no committed transaction", id, k)
			}
		}
	}
	for _, t := range txns {
		for _, k := range t.Appends {
			if _, ok := pos[k][t.ID]; !ok {
				violate("lost append: transaction %d appended to %s, the final list %s lacks it", t.ID, k, fmtList(final[k]))
			}
		}
	}

	type edge struct{ from, to int }
	kind := map[edge]string{}
	adj := make([][]int, len(txns))
	add := func(from, to int, why string) {
		if from == to {
			return
		}
		e := edge{from, to}
		if _, ok := kind[e]; ok {
			return
		}
		kind[e] = why
		adj[from] = append(adj[from], to)
	}
	keys := make([]string, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := final[k]
		for p := 1; p < len(l); p++ {
			a, okA := idx[l[p-1]]
			b, okB := idx[l[p]]
			if okA && okB {
				add(a, b, fmt.Sprintf("ww on %s", k))
			}
		}
	}
	for i, t := range txns {
		rk := make([]string, 0, len(t.Reads))
		for k := range t.Reads {
			rk = append(rk, k)
		}
		sort.Strings(rk)
		for _, k := range rk {
			got, l := t.Reads[k], final[k]
			if len(got) > len(l) || !slices.Equal(got, l[:len(got)]) {
				violate("incompatible order: transaction %d read %s = %s, not a prefix of the final %s", t.ID, k, fmtList(got), fmtList(l))
				continue
			}
			if len(got) > 0 {
				if w, ok := idx[got[len(got)-1]]; ok {
					add(w, i, fmt.Sprintf("wr on %s", k))
				}
			}
			if len(got) < len(l) {
				if w, ok := idx[l[len(got)]]; ok {
					add(i, w, fmt.Sprintf("rw on %s", k))
				}
			}
		}
	}
	last := map[int]int{} // process -> index of its previous transaction
	for i, t := range txns {
		if p, ok := last[t.Process]; ok {
			add(p, i, fmt.Sprintf("process %d order", t.Process))
		}
		last[t.Process] = i
	}
	edges = len(kind)

	for _, cyc := range cycles(adj, 5) {
		s := fmt.Sprintf("cycle of %d transactions:", len(cyc))
		for j, from := range cyc {
			to := cyc[(j+1)%len(cyc)]
			s += fmt.Sprintf(" %d -(%s)->", txns[from].ID, kind[edge{from, to}])
		}
		violate("%s %d", s, txns[cyc[0]].ID)
	}
	return edges, violations
}

// fmtList prints a list, eliding the middle of long ones.
func fmtList(l []int) string {
	if len(l) <= 8 {
		return fmt.Sprint(l)
	}
	return fmt.Sprintf("%v ... %v (%d ids)", l[:3], l[len(l)-3:], len(l))
}

// cycles returns up to max cycles of the graph, one from each strongly
// connected component with more than one node.
func cycles(adj [][]int, max int) [][]int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	comp := make([]int, n)
	for i := range index {
		index[i] = -1
		comp[i] = -1
	}
	var stack []int
	next, ncomp := 0, 0
	var sccs [][]int
	// Iterative Tarjan: frames of (node, next edge to visit).
	type frame struct{ v, e int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.e < len(adj[f.v]) {
				w := adj[f.v][f.e]
				f.e++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var scc []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					scc = append(scc, w)
					if w == v {
						break
					}
				}
				if len(scc) > 1 {
					sccs = append(sccs, scc)
				}
				ncomp++
			}
		}
	}
	var out [][]int
	for _, scc := range sccs {
		if len(out) == max {
			break
		}
		out = append(out, cycleIn(adj, comp, scc[0]))
	}
	return out
}

// cycleIn finds a shortest cycle through start inside its component by
// breadth-first search.
func cycleIn(adj [][]int, comp []int, start int) []int {
	parent := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range adj[v] {
			if comp[w] != comp[start] {
				continue
			}
			if w == start {
				var path []int
				for x := v; x != -1; x = parent[x] {
					path = append(path, x)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := parent[w]; !seen {
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int{start} // unreachable for a real component
}
