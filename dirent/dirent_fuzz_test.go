package dirent

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
)

// FuzzDecode: Decode never panics, fails only with ErrCorrupt, and an entry
// it accepts re-encodes to bytes that decode to an equal entry.
func FuzzDecode(f *testing.F) {
	for _, e := range []*Entry{
		{Ino: 1, Type: inode.TypeDir},
		{Ino: 1 << 63, Type: inode.TypeFile, Request: 42},
		{Ino: 3, Type: inode.TypeSymlink, Request: ^uint64(0)},
		{Ino: 4, Type: inode.TypeSocket},
	} {
		f.Add(Encode(e))
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})
	f.Add([]byte{0x80})
	f.Add(append(Encode(&Entry{Ino: 2, Type: inode.TypeFile}), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		c := *e
		enc := Encode(&c)
		e2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v\n%+v", err, e)
		}
		if *e != *e2 {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, e2)
		}
		if enc2 := Encode(e2); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %x then %x", enc, enc2)
		}
	})
}
