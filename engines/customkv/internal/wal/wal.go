// Package wal is the write-ahead log of the KV server: one record per
// commit (its version and resolved mutations), appended to numbered
// segment files and made durable by a single flusher goroutine, so that
// every commit that arrives while an fsync runs shares the next one (group
// commit).
//
// Record format: a 12-byte header — payload length (uint32 LE), CRC32C of
// the payload, CRC32C of those first 8 header bytes — then the payload.
// Segments are named by the first version they hold (%020d.wal) and hold
// versions in increasing order.
//
// Recovery: a bad record in the last segment with no valid record after it
// is a torn tail and is truncated; any other bad record is corruption, and
// Open refuses with a *CorruptError naming the file and offset.
//
// Why not github.com/tidwall/wal: it has no per-record checksum, fsyncs
// inside each Write under its own lock (so group commit would need a layer
// above it anyway) and cannot tell a torn tail from a corrupt middle.
package wal

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

const (
	headerSize = 12
	// maxPayload bounds a record: a transaction of kv.MaxTxnSize plus
	// encoding overhead.
	maxPayload   = 4 * kv.MaxTxnSize
	segmentExt   = ".wal"
	minPayload   = 9 // version and a mutation count
	defaultBytes = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("wal: closed")

// CorruptError reports a record that cannot be read and is not a torn tail.
type CorruptError struct {
	File   string
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt record in %s at offset %d: %s; refusing to start "+
		"(restore the file from a backup, or move the data directory away to start empty)", e.File, e.Offset, e.Reason)
}

// Options configure a WAL.
type Options struct {
	// Dir holds the segment files; it is created if missing.
	Dir string
	// NoSync skips fsync: commits are acknowledged once written to the
	// operating system, which survives a process crash but not a machine
	// crash.
	NoSync bool
	// SegmentBytes is the size after which a new segment starts
	// (default 64 MiB).
	SegmentBytes int64
	// Logger receives recovery and rotation messages (default slog.Default).
	Logger *slog.Logger
	// OnSync, if set, is called by the flusher after each write with the
	// bytes written and the time the write and fsync took.
	OnSync func(bytes int, d time.Duration)
}

type segment struct {
	first int64
	path  string
}

type batch struct {
	buf  []byte
	done chan struct{}
	err  error
	// first is the first version in buf, 0 while empty.
	first int64
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// WAL is an open log. Append is safe for concurrent use but is meant to be
// called under the store's commit lock, in version order.
type WAL struct {
	opts Options

	mu     sync.Mutex
	cur    *batch
	closed bool
	failed error

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	// Owned by the flusher.
	f       *os.File
	segSize int64

	segMu sync.Mutex
	segs  []segment

	recovered int64
}

// RecoveredBytes is the size of the log Open found.
func (w *WAL) RecoveredBytes() int64 { return w.recovered }

// Open recovers the log in opts.Dir, calling replay for every record with a
// version above after, in order, and returns the log ready for appends
// together with the last version it holds (0 if none).
func Open(opts Options, after int64, replay func(version int64, ms []txnbuf.Mutation) error) (*WAL, int64, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = defaultBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, 0, fmt.Errorf("wal: create %s: %w", opts.Dir, err)
	}
	segs, err := listSegments(opts.Dir)
	if err != nil {
		return nil, 0, err
	}
	last := int64(0)
	var kept []segment
	var size int64
	for i, sg := range segs {
		n, err := recoverSegment(opts.Logger, sg.path, i == len(segs)-1, after, &last, replay)
		if err != nil {
			return nil, 0, err
		}
		if n == 0 {
			if err := os.Remove(sg.path); err != nil {
				return nil, 0, fmt.Errorf("wal: remove empty segment: %w", err)
			}
			continue
		}
		kept = append(kept, sg)
		size += n
	}
	if err := syncDir(opts.Dir); err != nil {
		return nil, 0, err
	}
	w := &WAL{
		opts:      opts,
		cur:       newBatch(),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		segs:      kept,
		recovered: size,
	}
	go w.flusher()
	return w, last, nil
}

func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", dir, err)
	}
	var segs []segment
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segmentExt) {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("wal: unexpected file %s in %s", name, dir)
		}
		segs = append(segs, segment{first: v, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.first, b.first) })
	return segs, nil
}

// recoverSegment replays one segment and returns the size it keeps.
func recoverSegment(log *slog.Logger, path string, isLast bool, after int64, last *int64, replay func(int64, []txnbuf.Mutation) error) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("wal: read %s: %w", path, err)
	}
	off := 0
	for off < len(data) {
		n, reason := checkRecord(data, off)
		if reason != "" {
			return badRecord(log, path, data, off, isLast, reason)
		}
		payload := data[off+headerSize : off+headerSize+n]
		v, ms, err := decodePayload(payload)
		if err != nil {
			return 0, &CorruptError{File: path, Offset: int64(off), Reason: err.Error()}
		}
		if v <= *last {
			return 0, &CorruptError{File: path, Offset: int64(off), Reason: fmt.Sprintf("version %d does not follow %d", v, *last)}
		}
		*last = v
		if v > after {
			if err := replay(v, ms); err != nil {
				return 0, fmt.Errorf("wal: replay %s at offset %d: %w", path, off, err)
			}
		}
		off += headerSize + n
	}
	return int64(len(data)), nil
}

// checkRecord validates the record at off and returns its payload length,
// or a reason why it is bad.
func checkRecord(data []byte, off int) (int, string) {
	if len(data)-off < headerSize {
		return 0, "truncated record header"
	}
	h := data[off : off+headerSize]
	if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return 0, "header checksum mismatch"
	}
	n := int(binary.LittleEndian.Uint32(h[:4]))
	if n < minPayload || n > maxPayload {
		return 0, fmt.Sprintf("implausible record length %d", n)
	}
	if len(data)-off-headerSize < n {
		return 0, fmt.Sprintf("record of %d bytes extends past the end of the file", n)
	}
	if crc32.Checksum(data[off+headerSize:off+headerSize+n], castagnoli) != binary.LittleEndian.Uint32(h[4:8]) {
		return 0, "payload checksum mismatch"
	}
	return n, ""
}

// badRecord decides between a torn tail (truncate) and corruption (refuse).
func badRecord(log *slog.Logger, path string, data []byte, off int, isLast bool, reason string) (int64, error) {
	if !isLast {
		return 0, &CorruptError{File: path, Offset: int64(off), Reason: reason + " in a sealed segment"}
	}
	for o := off + 1; o+headerSize <= len(data); o++ {
		if _, r := checkRecord(data, o); r == "" {
			return 0, &CorruptError{File: path, Offset: int64(off), Reason: fmt.Sprintf("%s, but a valid record follows at offset %d", reason, o)}
		}
	}
	log.Warn("wal: truncating torn tail", "file", path, "offset", off, "dropped_bytes", len(data)-off, "reason", reason)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("wal: open %s to truncate: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(off)); err != nil {
		return 0, fmt.Errorf("wal: truncate %s at %d: %w", path, off, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("wal: sync %s: %w", path, err)
	}
	return int64(off), nil
}

// Append adds the record of commit version to the next group and returns a
// function that waits until it is durable. It implements mvcc.Logger.
func (w *WAL) Append(version int64, ms []txnbuf.Mutation) (wait func() error) {
	w.mu.Lock()
	if w.closed || w.failed != nil {
		err := w.failed
		if err == nil {
			err = ErrClosed
		}
		w.mu.Unlock()
		return func() error { return err }
	}
	b := w.cur
	if b.first == 0 {
		b.first = version
	}
	b.buf = appendRecord(b.buf, version, ms)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return func() error {
		<-b.done
		return b.err
	}
}

func (w *WAL) flusher() {
	defer close(w.done)
	for {
		stopping := false
		select {
		case <-w.kick:
		case <-w.stop:
			stopping = true
		}
		w.mu.Lock()
		b := w.cur
		w.cur = newBatch()
		w.mu.Unlock()
		if len(b.buf) > 0 {
			b.err = w.write(b)
			if b.err != nil {
				w.opts.Logger.Error("wal: write failed; no further commits are accepted", "err", b.err)
				w.mu.Lock()
				w.failed = b.err
				w.mu.Unlock()
			}
		}
		close(b.done)
		if stopping {
			return
		}
	}
}

func (w *WAL) write(b *batch) error {
	if w.f == nil || w.segSize >= w.opts.SegmentBytes {
		if err := w.rotate(b.first); err != nil {
			return err
		}
	}
	start := time.Now()
	if _, err := w.f.Write(b.buf); err != nil {
		return fmt.Errorf("wal: write %s: %w", w.f.Name(), err)
	}
	if !w.opts.NoSync {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("wal: fsync %s: %w", w.f.Name(), err)
		}
	}
	w.segSize += int64(len(b.buf))
	if w.opts.OnSync != nil {
		w.opts.OnSync(len(b.buf), time.Since(start))
	}
	return nil
}

// rotate seals the current segment and starts one whose first version is
// first.
func (w *WAL) rotate(first int64) error {
	if w.f != nil {
		if err := w.closeFile(); err != nil {
			return err
		}
	}
	path := filepath.Join(w.opts.Dir, fmt.Sprintf("%020d%s", first, segmentExt))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create segment: %w", err)
	}
	if err := syncDir(w.opts.Dir); err != nil {
		f.Close()
		return err
	}
	w.f, w.segSize = f, 0
	w.segMu.Lock()
	w.segs = append(w.segs, segment{first: first, path: path})
	w.segMu.Unlock()
	return nil
}

func (w *WAL) closeFile() error {
	f := w.f
	w.f = nil
	if !w.opts.NoSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("wal: fsync %s: %w", f.Name(), err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: close %s: %w", f.Name(), err)
	}
	return nil
}

// RemoveThrough deletes the sealed segments whose records all have versions
// at or below v (a durable snapshot holds them) and returns how many went.
func (w *WAL) RemoveThrough(v int64) (int, error) {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	n := 0
	for n+1 < len(w.segs) && w.segs[n+1].first <= v+1 {
		if err := os.Remove(w.segs[n].path); err != nil {
			return n, fmt.Errorf("wal: remove old segment: %w", err)
		}
		n++
	}
	w.segs = slices.Delete(w.segs, 0, n)
	if n > 0 {
		return n, syncDir(w.opts.Dir)
	}
	return 0, nil
}

// Segments is the number of segment files.
func (w *WAL) Segments() int {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	return len(w.segs)
}

// Close writes and syncs what was appended, then closes the log. Later
// appends fail with ErrClosed.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	if w.f != nil {
		return w.closeFile()
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wal: fsync dir %s: %w", dir, err)
	}
	return nil
}

// SyncDir fsyncs a directory so that file creations and renames in it are
// durable.
func SyncDir(dir string) error { return syncDir(dir) }

func appendRecord(buf []byte, version int64, ms []txnbuf.Mutation) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, headerSize)...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(version))
	buf = binary.AppendUvarint(buf, uint64(len(ms)))
	for i := range ms {
		m := &ms[i]
		buf = append(buf, byte(m.Type), byte(m.Op))
		buf = appendBytes(buf, m.Key)
		buf = appendBytes(buf, m.End)
		buf = appendBytes(buf, m.Value)
		buf = binary.AppendUvarint(buf, uint64(m.Offset))
	}
	h := buf[start : start+headerSize]
	payload := buf[start+headerSize:]
	binary.LittleEndian.PutUint32(h[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	return buf
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

func decodePayload(p []byte) (int64, []txnbuf.Mutation, error) {
	v := int64(binary.LittleEndian.Uint64(p))
	p = p[8:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)) {
		return 0, nil, errors.New("bad mutation count")
	}
	p = p[k:]
	ms := make([]txnbuf.Mutation, n)
	for i := range ms {
		if len(p) < 2 {
			return 0, nil, fmt.Errorf("mutation %d truncated", i)
		}
		m := &ms[i]
		m.Type, m.Op = txnbuf.MutationType(p[0]), kv.AtomicOp(p[1])
		p = p[2:]
		var err error
		if m.Key, p, err = readBytes(p); err != nil {
			return 0, nil, fmt.Errorf("mutation %d key: %w", i, err)
		}
		if m.End, p, err = readBytes(p); err != nil {
			return 0, nil, fmt.Errorf("mutation %d end: %w", i, err)
		}
		if m.Value, p, err = readBytes(p); err != nil {
			return 0, nil, fmt.Errorf("mutation %d value: %w", i, err)
		}
		off, k := binary.Uvarint(p)
		if k <= 0 {
			return 0, nil, fmt.Errorf("mutation %d offset truncated", i)
		}
		m.Offset, p = int(off), p[k:]
	}
	if len(p) != 0 {
		return 0, nil, fmt.Errorf("%d trailing bytes after the mutations", len(p))
	}
	return v, ms, nil
}

func readBytes(p []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, errors.New("length out of bounds")
	}
	// A copy: the store keeps values, and must not pin the segment buffer.
	return bytes.Clone(p[k : k+int(n)]), p[k+int(n):], nil
}
