// Package snapshot writes and loads the KV server's snapshots: every live
// key and value at one version, so that recovery replays only the log
// written after it.
//
// File format (snap-%020d.snap, named by version): the magic "FSKVSNP1",
// the version (uint64 LE), the row count (uint64 LE), the rows (uvarint key
// length, key, uvarint value length, value), and a CRC32C of everything
// before it (uint32 LE). A snapshot is written to a temporary file, fsynced
// and renamed into place, so a crash leaves the old one or the new one.
package snapshot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	magic  = "FSKVSNP1"
	prefix = "snap-"
	ext    = ".snap"
	tmpExt = ".tmp"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Write stores the rows (keys[i] = vals[i], in key order) at version v in
// dir, then removes older snapshots.
func Write(dir string, v int64, keys, vals [][]byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("snapshot: create %s: %w", dir, err)
	}
	final := filepath.Join(dir, fmt.Sprintf("%s%020d%s", prefix, v, ext))
	tmp := final + tmpExt
	f, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("snapshot: create: %w", err)
	}
	defer os.Remove(tmp) // no-op after the rename
	h := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	var hdr [24]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(v))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(keys)))
	bw.Write(hdr[:])
	var lb [binary.MaxVarintLen64]byte
	for i := range keys {
		bw.Write(lb[:binary.PutUvarint(lb[:], uint64(len(keys[i])))])
		bw.Write(keys[i])
		bw.Write(lb[:binary.PutUvarint(lb[:], uint64(len(vals[i])))])
		bw.Write(vals[i])
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("snapshot: write %s: %w", tmp, err)
	}
	if _, err := f.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32())); err != nil {
		f.Close()
		return "", fmt.Errorf("snapshot: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("snapshot: fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("snapshot: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("snapshot: rename: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	olds, err := list(dir)
	if err != nil {
		return final, err
	}
	for _, o := range olds {
		if o.v < v {
			if err := os.Remove(o.path); err != nil {
				return final, fmt.Errorf("snapshot: remove old: %w", err)
			}
		}
	}
	return final, nil
}

type file struct {
	v    int64
	path string
}

func list(dir string) ([]file, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: list %s: %w", dir, err)
	}
	var out []file
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, tmpExt) {
			os.Remove(filepath.Join(dir, name)) // an interrupted write
			continue
		}
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, prefix), ext), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshot: unexpected file %s in %s", name, dir)
		}
		out = append(out, file{v, filepath.Join(dir, name)})
	}
	slices.SortFunc(out, func(a, b file) int { return int(a.v - b.v) })
	return out, nil
}

// Load reads the newest snapshot in dir and calls fn for each row in key
// order. It returns the snapshot's version, 0 when there is none. A
// damaged snapshot is an error naming the file.
func Load(dir string, fn func(key, value []byte)) (int64, error) {
	files, err := list(dir)
	if err != nil || len(files) == 0 {
		return 0, err
	}
	path := files[len(files)-1].path
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("snapshot: read %s: %w", path, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("snapshot: %s is damaged (%s); refusing to start", path, fmt.Sprintf(format, args...))
	}
	if len(data) < 28 || !bytes.Equal(data[:8], []byte(magic)) {
		return 0, bad("bad header")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return 0, bad("checksum mismatch")
	}
	v := int64(binary.LittleEndian.Uint64(body[8:]))
	n := binary.LittleEndian.Uint64(body[16:])
	p := body[24:]
	next := func() ([]byte, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, false
		}
		b := bytes.Clone(p[k : k+int(l)])
		p = p[k+int(l):]
		return b, true
	}
	for i := uint64(0); i < n; i++ {
		k, ok1 := next()
		val, ok2 := next()
		if !ok1 || !ok2 {
			return 0, bad("row %d truncated", i)
		}
		fn(k, val)
	}
	if len(p) != 0 {
		return 0, bad("%d trailing bytes", len(p))
	}
	return v, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("snapshot: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("snapshot: fsync dir %s: %w", dir, err)
	}
	return nil
}
