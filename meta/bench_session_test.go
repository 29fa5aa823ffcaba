package meta_test

import (
	"testing"

	"github.com/fsmeta/fsmeta/meta"
)

// Benchmarks of the session, lock and xattr calls of issue 8 on memkv:
//
//	go test -run '^$' -bench 'OpenClose|Lk|Flock|Xattr' -benchtime 2s ./meta/

func BenchmarkOpenClose(b *testing.B) {
	s, ctx := benchStore(b)
	defer s.Shutdown(ctx)
	f, err := s.Create(ctx, meta.RootCred(), 1, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := s.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, 2*b.N)
}

// BenchmarkSetLk locks and unlocks a range while 16 other ranges are held.
func BenchmarkSetLk(b *testing.B) {
	s, ctx := benchStore(b)
	defer s.Shutdown(ctx)
	f, err := s.Create(ctx, meta.RootCred(), 1, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	h, err := s.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 16 {
		if err := s.SetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: uint64(10 * i), End: uint64(10*i + 5), Owner: uint64(i + 2)}, false); err != nil {
			b.Fatal(err)
		}
	}
	lk := meta.Lock{Type: meta.LockWrite, Start: 1000, End: 1099, Owner: 1}
	un := lk
	un.Type = meta.LockUnlock
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.SetLk(ctx, h, lk, false); err != nil {
			b.Fatal(err)
		}
		if err := s.SetLk(ctx, h, un, false); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, 2*b.N)
}

func BenchmarkFlock(b *testing.B) {
	s, ctx := benchStore(b)
	defer s.Shutdown(ctx)
	f, err := s.Create(ctx, meta.RootCred(), 1, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	h, err := s.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Flock(ctx, h, 1, meta.LockWrite, false); err != nil {
			b.Fatal(err)
		}
		if err := s.Flock(ctx, h, 1, meta.LockUnlock, false); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, 2*b.N)
}

func BenchmarkSetXattr(b *testing.B) {
	s, ctx := benchStore(b)
	f, err := s.Create(ctx, meta.RootCred(), 1, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	v := make([]byte, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.SetXattr(ctx, meta.RootCred(), f.Ino, "user.k", v, 0); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}

func BenchmarkGetXattr(b *testing.B) {
	s, ctx := benchStore(b)
	f, err := s.Create(ctx, meta.RootCred(), 1, "f", 0o644, true)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SetXattr(ctx, meta.RootCred(), f.Ino, "user.k", make([]byte, 64), 0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.GetXattr(ctx, meta.RootCred(), f.Ino, "user.k"); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, b.N)
}
