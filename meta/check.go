package meta

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/kv"
)

// Problem kinds reported by Check.
const (
	ProblemCorrupt       = "corrupt-record"    // a key or value that does not decode
	ProblemDangling      = "dangling-entry"    // an entry naming a missing inode
	ProblemTypeMismatch  = "type-mismatch"     // an entry's type differs from its inode's
	ProblemNlink         = "wrong-nlink"       // nlink differs from the entries naming the inode
	ProblemParent        = "wrong-parent"      // a directory's parent pointer or name disagrees with its entry
	ProblemDirLinks      = "dir-hard-link"     // a directory named by more than one entry
	ProblemOrphan        = "orphan"            // an inode no entry reaches, not queued for deletion
	ProblemCycle         = "cycle"             // directories that are their own ancestors
	ProblemStats         = "wrong-stats"       // directory counters that disagree with the entries
	ProblemNotDir        = "entry-in-nondir"   // entries under an inode that is not a live directory
	ProblemDeferred      = "deferred-linked"   // a deferred delete of an inode that still has links
	ProblemUnreachable   = "unreachable"       // a directory not reachable from the root
	ProblemStaleHandles  = "handle-no-inode"   // open handles of a missing inode
	ProblemRootMissing   = "root-missing"      // no root inode
	ProblemStaleStats    = "stats-no-dir"      // counters of a missing directory
	ProblemMtimeNegative = "negative-counter"  // a counter below zero
	ProblemStaleXattrs   = "xattr-no-inode"    // extended attributes of a missing inode
	ProblemStaleLocks    = "lock-no-inode"     // locks of a missing inode
	ProblemOrphanHandle  = "handle-no-session" // an open handle whose session record is gone
	ProblemOrphanLock    = "lock-no-session"   // a lock whose session record is gone
	ProblemUnindexed     = "not-indexed"       // a handle or lock missing from its session's index, so expiry would miss it
	ProblemSessionLeft   = "session-leftover"  // index entries of a session whose record is gone
)

// Problem is one inconsistency found by Check.
type Problem struct {
	Kind   string
	Ino    uint64
	Detail string
}

func (p Problem) String() string { return fmt.Sprintf("%s: inode %d: %s", p.Kind, p.Ino, p.Detail) }

// Report is the result of Check.
type Report struct {
	Inodes, Dirs, Entries int
	Problems              []Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(kind string, ino uint64, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Ino: ino, Detail: fmt.Sprintf(format, args...)})
}

type checkEntry struct {
	parent uint64
	name   []byte
	e      *dirent.Entry
}

// Check verifies the whole filesystem in one snapshot: every entry names a
// live inode of its type, nlinks equal the entries naming each inode,
// directories' parent pointers agree with their entries, there are no
// cycles and no orphans other than queued deletes, and directory counters
// equal the truth; extended attributes, handles and locks belong to live
// inodes, handles and locks to session records and are in their sessions'
// indexes (index entries may outlive what they name: they are hints, and
// expired sessions waiting for ExpireSessions are not problems). The
// snapshot must be read within the engine's MVCC window.
func (s *Store) Check(ctx context.Context) (*Report, error) {
	return view(ctx, s, s.check)
}

func (s *Store) check(ctx context.Context, tx kv.ReadOnlyTxn) (*Report, error) {
	r := &Report{}
	inodes := map[uint64]*inode.Inode{}
	var entries []checkEntry
	stats := map[uint64]*dirStats{}
	deferred := map[uint64]bool{}
	handles := map[uint64]int{}
	xattrs := map[uint64]int{}
	type owned struct {
		session, ino uint64
		kind         string
		id           uint64 // handles: the handle id
	}
	type lockRef struct {
		session, ino, handle uint64
		kind                 string
	}
	sessions := map[uint64]bool{}
	index := map[owned]bool{}
	var handleRefs, lockRefs []lockRef

	sub := s.l.Root()
	b, e := s.l.Range()
	sel := kv.FirstGreaterOrEqual(b)
	for {
		res, err := tx.SnapshotGetRange(ctx, sel, kv.FirstGreaterOrEqual(e), 1000)
		if err != nil {
			return nil, err
		}
		for _, row := range res.KVs {
			t, err := sub.Unpack(row.Key)
			if err != nil || len(t) == 0 {
				r.add(ProblemCorrupt, 0, "key %x: %v", row.Key, err)
				continue
			}
			tag, _ := t[0].(string)
			id := func(i int) uint64 {
				if i >= len(t) {
					return 0
				}
				switch v := t[i].(type) {
				case int64:
					return uint64(v)
				case uint64:
					return v
				}
				return 0
			}
			switch tag {
			case "i":
				n, err := inode.Decode(row.Value)
				if err != nil || n.Ino != id(1) {
					r.add(ProblemCorrupt, id(1), "inode record: %v", err)
					continue
				}
				inodes[n.Ino] = n
			case "d":
				name, _ := t[len(t)-1].([]byte)
				de, err := dirent.Decode(row.Value)
				if err != nil || len(t) != 3 {
					r.add(ProblemCorrupt, id(1), "entry %q: %v", name, err)
					continue
				}
				entries = append(entries, checkEntry{parent: id(1), name: name, e: de})
			case "s":
				st := stats[id(1)]
				if st == nil {
					st = &dirStats{}
					stats[id(1)] = st
				}
				field, _ := t[len(t)-1].(string)
				v := parseLE64(row.Value)
				if v < 0 {
					r.add(ProblemMtimeNegative, id(1), "counter %q is %d", field, v)
				}
				switch field {
				case statEntries:
					st.entries = v
				case statSubdirs:
					st.subdirs = v
				case statMtime:
					st.mtime = v
				case statCtime:
					st.ctime = v
				}
			case "g":
				deferred[id(1)] = true
			case "o":
				handles[id(1)]++
				se, _, ok := parseHandle(row.Value)
				if !ok || len(t) != 3 {
					r.add(ProblemCorrupt, id(1), "handle record %x", row.Value)
					continue
				}
				handleRefs = append(handleRefs, lockRef{session: se, ino: id(1), handle: id(2)})
			case "x":
				xattrs[id(1)]++
			case "e":
				if _, err := decodeSession(row.Value); err != nil || len(t) != 2 {
					r.add(ProblemCorrupt, 0, "session record %v: %v", t, err)
				}
				sessions[id(1)] = true
			case "h":
				if len(t) < 4 {
					r.add(ProblemCorrupt, 0, "session index key %v", t)
					continue
				}
				kind, _ := t[2].(string)
				o := owned{session: id(1), kind: kind, ino: id(3)}
				if kind == "o" {
					o.id = id(4)
				}
				index[o] = true
			case "l":
				var kind string
				if len(t) > 2 {
					kind, _ = t[2].(string)
				}
				var lr lockRecord
				if len(t) != 6 || (kind != lockFlock && kind != lockPosix) || msgcodec.Unmarshal(row.Value, &lr) != nil {
					r.add(ProblemCorrupt, id(1), "lock %v", t)
					continue
				}
				lockRefs = append(lockRefs, lockRef{session: id(3), ino: id(1), kind: kind})
			}
		}
		if !res.More || len(res.KVs) == 0 {
			break
		}
		sel = kv.FirstGreaterThan(res.KVs[len(res.KVs)-1].Key)
	}

	r.Inodes, r.Entries = len(inodes), len(entries)
	root := inodes[inode.RootIno]
	if root == nil || root.Type != inode.TypeDir {
		r.add(ProblemRootMissing, inode.RootIno, "no root directory")
	}

	links := map[uint64][]checkEntry{}
	children := map[uint64][]uint64{}
	count := map[uint64]*dirStats{}
	for _, ce := range entries {
		p := inodes[ce.parent]
		if p == nil || p.Type != inode.TypeDir {
			r.add(ProblemNotDir, ce.parent, "entry %q under an inode that is not a live directory", ce.name)
			continue
		}
		// The counters count entries as written, by the entry's type,
		// whatever the inode they name: a dangling entry is one problem,
		// not two.
		c := count[ce.parent]
		if c == nil {
			c = &dirStats{}
			count[ce.parent] = c
		}
		c.entries++
		if ce.e.Type == inode.TypeDir {
			c.subdirs++
		}
		n := inodes[ce.e.Ino]
		if n == nil {
			r.add(ProblemDangling, ce.e.Ino, "entry %q in %d names a missing inode", ce.name, ce.parent)
			continue
		}
		if n.Type != ce.e.Type {
			r.add(ProblemTypeMismatch, n.Ino, "entry %q in %d says %v, inode is %v", ce.name, ce.parent, ce.e.Type, n.Type)
		}
		links[n.Ino] = append(links[n.Ino], ce)
		if n.Type == inode.TypeDir {
			children[ce.parent] = append(children[ce.parent], n.Ino)
		}
	}

	ids := make([]uint64, 0, len(inodes))
	for id := range inodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		n := inodes[id]
		ls := links[id]
		if n.Type == inode.TypeDir {
			r.Dirs++
			st, truth := stats[id], count[id]
			if st == nil {
				st = &dirStats{}
			}
			if truth == nil {
				truth = &dirStats{}
			}
			if st.entries != truth.entries || st.subdirs != truth.subdirs {
				r.add(ProblemStats, id, "counters say %d entries, %d subdirs; the entries say %d, %d", st.entries, st.subdirs, truth.entries, truth.subdirs)
			}
			if id == inode.RootIno {
				if len(ls) > 0 {
					r.add(ProblemDirLinks, id, "the root is named by %d entries", len(ls))
				}
				continue
			}
			switch {
			case len(ls) == 0:
				r.add(ProblemOrphan, id, "directory named by no entry")
			case len(ls) > 1:
				r.add(ProblemDirLinks, id, "directory named by %d entries", len(ls))
			case ls[0].parent != n.Parent || !bytes.Equal(ls[0].name, n.Name):
				r.add(ProblemParent, id, "record says parent %d name %q, entry is %q in %d", n.Parent, n.Name, ls[0].name, ls[0].parent)
			}
			continue
		}
		if int(n.Nlink) != len(ls) {
			r.add(ProblemNlink, id, "nlink %d, named by %d entries", n.Nlink, len(ls))
		}
		switch {
		case len(ls) == 0 && !deferred[id]:
			r.add(ProblemOrphan, id, "%v named by no entry and not queued for deletion", n.Type)
		case len(ls) > 0 && deferred[id]:
			r.add(ProblemDeferred, id, "queued for deletion but named by %d entries", len(ls))
		}
	}
	for id := range stats {
		if n := inodes[id]; n == nil || n.Type != inode.TypeDir {
			r.add(ProblemStaleStats, id, "counters of a missing directory")
		}
	}
	for id := range handles {
		if inodes[id] == nil {
			r.add(ProblemStaleHandles, id, "%d open handles of a missing inode", handles[id])
		}
	}
	for id := range xattrs {
		if inodes[id] == nil {
			r.add(ProblemStaleXattrs, id, "%d extended attributes of a missing inode", xattrs[id])
		}
	}
	for _, h := range handleRefs {
		switch {
		case inodes[h.ino] == nil: // reported above
		case !sessions[h.session]:
			r.add(ProblemOrphanHandle, h.ino, "handle %d of session %016x, which has no record", h.handle, h.session)
		case !index[owned{session: h.session, kind: "o", ino: h.ino, id: h.handle}]:
			r.add(ProblemUnindexed, h.ino, "handle %d missing from the index of session %016x", h.handle, h.session)
		}
	}
	staleLocks := map[uint64]bool{}
	for _, l := range lockRefs {
		switch {
		case inodes[l.ino] == nil:
			if !staleLocks[l.ino] {
				staleLocks[l.ino] = true
				r.add(ProblemStaleLocks, l.ino, "locks of a missing inode")
			}
		case !sessions[l.session]:
			r.add(ProblemOrphanLock, l.ino, "%s lock of session %016x, which has no record", l.kind, l.session)
		case !index[owned{session: l.session, kind: l.kind, ino: l.ino}]:
			r.add(ProblemUnindexed, l.ino, "%s lock missing from the index of session %016x", l.kind, l.session)
		}
	}
	leftover := map[uint64]int{}
	for o := range index {
		if !sessions[o.session] {
			leftover[o.session]++
		}
	}
	for se, n := range leftover {
		r.add(ProblemSessionLeft, 0, "%d index entries of session %016x, which has no record", n, se)
	}

	// Reachability: every directory must be reachable from the root;
	// directories that are not, yet are named by entries, form cycles.
	seen := map[uint64]bool{inode.RootIno: true}
	queue := []uint64{inode.RootIno}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, c := range children[d] {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	for _, id := range ids {
		n := inodes[id]
		if n.Type != inode.TypeDir || seen[id] || len(links[id]) == 0 {
			continue
		}
		if s.inCycle(inodes, id) {
			r.add(ProblemCycle, id, "directory is its own ancestor")
		} else {
			r.add(ProblemUnreachable, id, "directory not reachable from the root")
		}
	}
	return r, nil
}

// inCycle reports whether following parent pointers from id returns to id.
func (s *Store) inCycle(inodes map[uint64]*inode.Inode, id uint64) bool {
	cur := id
	for i := 0; i <= len(inodes); i++ {
		n := inodes[cur]
		if n == nil || cur == inode.RootIno {
			return false
		}
		cur = n.Parent
		if cur == id {
			return true
		}
	}
	return true
}
