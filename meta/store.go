package meta

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
)

// FormatVersion is the on-disk layout version this code writes and reads.
const FormatVersion = 1

// Options configure a Store. The zero value gives the defaults.
type Options struct {
	// Root is the subspace the filesystem lives under (default ("fsmeta")).
	// Several filesystems may share an engine under different roots.
	Root keys.Subspace
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// AllocShards is the number of inode id counters (default 16) and
	// AllocBlock the ids each counter hands out at a time (default 1024).
	// They are fixed when the filesystem is formatted.
	AllocShards int
	AllocBlock  int
	// RootMode is the permission bits of a newly formatted root (default
	// 0755), owned by uid and gid 0.
	RootMode uint32
	// Retry configures the retry loop of every operation. Idempotent is
	// always set: operations are written to be safe to re-run.
	Retry kv.RetryOptions
	// NoCreate makes Open fail with ErrNotFormatted instead of formatting an
	// empty root.
	NoCreate bool
	// Lease is the lease of the store's sessions (default DefaultLease,
	// 30 s): a session not renewed for that long may be expired by any
	// client. Renewal runs every Lease/3 of real time; expiry is judged by
	// Clock, so all clients' clocks must agree to well within the lease.
	Lease time.Duration
	// RequestTTL is how long the request record of a recorded operation
	// (create, mkdir, link, symlink, rename, setattr, unlink, rmdir, ...)
	// is kept so that a retry after a maybe-committed commit replays its
	// result (default 10 minutes). Each holds about 150 bytes of memkv heap
	// until it expires and is purged (BenchmarkHeapPerFile).
	RequestTTL time.Duration
}

type format struct {
	V       int    `msgpack:"v"`
	RootIno uint64 `msgpack:"root"`
	Created int64  `msgpack:"created"`
	Shards  int    `msgpack:"shards"`
	Block   int    `msgpack:"block"`
}

// Store is a filesystem namespace over a kv.Engine. It is safe for
// concurrent use.
type Store struct {
	db     kv.Engine
	l      keys.Layout
	k      keyspace  // l's hot key prefixes
	opt    kv.Option // kv.WithRetryOptions(retry), built once
	clock  func() time.Time
	retry  kv.RetryOptions
	client uint64 // this store's id in request records and of its default session
	ttl    time.Duration
	fmt    format

	allocMu   sync.Mutex
	allocNext uint64
	allocEnd  uint64

	lease   time.Duration
	sessMu  sync.Mutex
	defSess *Session // the default session, registered on first use
	shut    bool     // Shutdown was called

	retries     atomic.Int64
	recordedOps atomic.Int64
	handleID    atomic.Uint64
}

// Open opens the filesystem under opts.Root in db, formatting it first if
// the root is empty.
func Open(ctx context.Context, db kv.Engine, opts Options) (*Store, error) {
	if len(opts.Root.Bytes()) == 0 {
		opts.Root = keys.Sub(keys.Tuple{"fsmeta"})
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.AllocShards <= 0 {
		opts.AllocShards = 16
	}
	if opts.AllocBlock <= 0 {
		opts.AllocBlock = 1024
	}
	if opts.RootMode == 0 {
		opts.RootMode = 0o755
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.RequestTTL <= 0 {
		opts.RequestTTL = 10 * time.Minute
	}
	s := &Store{
		db:     db,
		l:      keys.NewLayout(opts.Root),
		clock:  opts.Clock,
		retry:  opts.Retry,
		client: rand.Uint64() | 1, // never 0: it is also the default session's id
		ttl:    opts.RequestTTL,
		lease:  opts.Lease,
	}
	s.retry.Idempotent = true
	user := s.retry.OnRetry
	s.retry.OnRetry = func(n int, err error) {
		s.retries.Add(1)
		if user != nil {
			user(n, err)
		}
	}
	s.k = newKeyspace(s.l)
	s.opt = kv.WithRetryOptions(s.retry)
	s.handleID.Store(rand.Uint64() >> 1)
	f, err := kv.Transact(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) (format, error) {
		b, found, err := tx.Get(ctx, s.l.Format())
		if err != nil {
			return format{}, err
		}
		if found {
			var f format
			if err := msgcodec.Unmarshal(b, &f); err != nil {
				return format{}, fmt.Errorf("%w: %v", ErrFormat, err)
			}
			if f.V != FormatVersion {
				return format{}, fmt.Errorf("%w: version %d, this code reads %d", ErrFormat, f.V, FormatVersion)
			}
			return f, nil
		}
		if opts.NoCreate {
			return format{}, ErrNotFormatted
		}
		now := s.clock().UnixNano()
		f := format{V: FormatVersion, RootIno: inode.RootIno, Created: now, Shards: opts.AllocShards, Block: opts.AllocBlock}
		fb, _ := msgpack.Marshal(&f)
		tx.Set(s.l.Format(), fb)
		inode.Store(tx, s.l, &inode.Inode{
			Ino: inode.RootIno, Type: inode.TypeDir, Mode: opts.RootMode & inode.ModePerm,
			Nlink: 2, Atime: now, Parent: inode.RootIno,
		})
		var a arena
		s.touchDir(tx, &a, inode.RootIno, now)
		return f, nil
	}, s.opt)
	if err != nil {
		return nil, fmt.Errorf("meta: open: %w", err)
	}
	s.fmt = f
	return s, nil
}

// Engine returns the engine the store runs on.
func (s *Store) Engine() kv.Engine { return s.db }

// Layout returns the store's key layout.
func (s *Store) Layout() keys.Layout { return s.l }

// Retries is the number of transaction retries since Open.
func (s *Store) Retries() int64 { return s.retries.Load() }

func (s *Store) now() int64 { return s.clock().UnixNano() }

// update runs fn as one retried, idempotent transaction.
func (s *Store) update(ctx context.Context, fn func(ctx context.Context, tx kv.ReadWriteTxn) error) error {
	return kv.Update(ctx, s.db, fn, s.opt)
}

func transact[T any](ctx context.Context, s *Store, fn func(ctx context.Context, tx kv.ReadWriteTxn) (T, error)) (T, error) {
	return kv.Transact(ctx, s.db, fn, s.opt)
}

func view[T any](ctx context.Context, s *Store, fn func(ctx context.Context, tx kv.ReadOnlyTxn) (T, error)) (T, error) {
	return kv.ReadTransact(ctx, s.db, fn, s.opt)
}

// Stats fields of a directory.
const (
	statEntries = "n" // number of entries
	statSubdirs = "d" // number of subdirectories
	statMtime   = "m"
	statCtime   = "c"
)

func le64(v int64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	return b[:]
}

func parseLE64(b []byte) int64 {
	var buf [8]byte
	copy(buf[:], b)
	return int64(binary.LittleEndian.Uint64(buf[:]))
}

// touchDir raises a directory's mtime and ctime to now without reading them.
func (s *Store) touchDir(tx kv.ReadWriteTxn, a *arena, dir uint64, now int64) {
	v := a.le64(now)
	tx.Atomic(kv.AtomicMax, a.stat(&s.k, dir, statMtime), v)
	tx.Atomic(kv.AtomicMax, a.stat(&s.k, dir, statCtime), v)
}

// countDir adds to a directory's entry and subdirectory counters.
func (s *Store) countDir(tx kv.ReadWriteTxn, a *arena, dir uint64, entries, subdirs int64) {
	if entries != 0 {
		tx.Atomic(kv.AtomicAdd, a.stat(&s.k, dir, statEntries), a.le64(entries))
	}
	if subdirs != 0 {
		tx.Atomic(kv.AtomicAdd, a.stat(&s.k, dir, statSubdirs), a.le64(subdirs))
	}
}

// allocate returns a fresh inode id. Ids come in blocks claimed from a
// random shard counter by a transaction of their own.
func (s *Store) allocate(ctx context.Context) (uint64, error) {
	s.allocMu.Lock()
	defer s.allocMu.Unlock()
	if s.allocNext < s.allocEnd {
		id := s.allocNext
		s.allocNext++
		return id, nil
	}
	shards, block := uint64(s.fmt.Shards), uint64(s.fmt.Block)
	shard := rand.IntN(s.fmt.Shards)
	n, err := kv.Transact(ctx, s.db, func(ctx context.Context, tx kv.ReadWriteTxn) (uint64, error) {
		k := s.l.Alloc(shard)
		b, _, err := tx.Get(ctx, k)
		if err != nil {
			return 0, err
		}
		n := uint64(parseLE64(b))
		tx.Set(k, le64(int64(n+1)))
		return n, nil
	}, s.opt)
	if err != nil {
		return 0, fmt.Errorf("meta: allocate inode id: %w", err)
	}
	// Block n of shard k covers [base, base+block); ids below 16 are
	// reserved (1 is the root).
	base := 16 + (n*shards+uint64(shard))*block
	s.allocNext, s.allocEnd = base+1, base+block
	return base, nil
}
