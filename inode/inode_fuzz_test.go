package inode

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode: Decode never panics, fails only with ErrCorrupt, and a record
// it accepts re-encodes to bytes that decode to an equal record.
func FuzzDecode(f *testing.F) {
	for _, n := range []*Inode{
		{Ino: RootIno, Type: TypeDir, Mode: 0o755, Nlink: 2, Atime: 1, Mtime: 2, Ctime: 3},
		{Ino: 7, Type: TypeFile, Mode: 0o644, Uid: 1000, Gid: 1000, Nlink: 1, Size: 1 << 40, Atime: -1, Mtime: 1 << 62, Ctime: 5},
		{Ino: 8, Type: TypeSymlink, Mode: 0o777, Nlink: 1, Target: []byte("../target")},
		{Ino: 9, Type: TypeDir, Mode: 0o700, Nlink: 3, Parent: 1, Name: []byte("sub")},
		{Ino: 10, Type: TypeBlock, Rdev: 0x0801, Nlink: 1},
	} {
		f.Add(Encode(n))
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})
	f.Add([]byte{0x80})
	f.Add(append(Encode(&Inode{Ino: 2, Type: TypeFile}), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc := Encode(clone(n))
		n2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%+v", err, n)
		}
		if !reflect.DeepEqual(normalize(n), normalize(n2)) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", n, n2)
		}
		if enc2 := Encode(n2); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
	})
}

func clone(n *Inode) *Inode {
	c := *n
	return &c
}

// normalize maps empty byte fields to nil: omitempty does not write them,
// so an explicit empty field decodes back as absent.
func normalize(n *Inode) Inode {
	c := *n
	if len(c.Target) == 0 {
		c.Target = nil
	}
	if len(c.Name) == 0 {
		c.Name = nil
	}
	return c
}
