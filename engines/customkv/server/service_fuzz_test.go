package server

import (
	"errors"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/mvcc"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"google.golang.org/protobuf/proto"
)

// FuzzCommitRequest feeds arbitrary bytes through what the Commit RPC does
// with them: unmarshal, decode, validate; a request that passes validation
// is committed to an in-process MVCC store. Nothing may panic, and a valid
// request fails only with a kv error.
func FuzzCommitRequest(f *testing.F) {
	ph := make([]byte, kv.VersionstampSize)
	for _, req := range []*txnbuf.CommitRequest{
		{Mutations: []txnbuf.Mutation{{Type: txnbuf.MutSet, Key: []byte("a"), Value: []byte("1")}}},
		{Mutations: []txnbuf.Mutation{
			{Type: txnbuf.MutClearRange, Key: []byte("a"), End: []byte("z")},
			{Type: txnbuf.MutClear, Key: []byte("b")},
			{Type: txnbuf.MutAtomic, Op: kv.AtomicAdd, Key: []byte("c"), Value: []byte{1, 0, 0, 0}},
			{Type: txnbuf.MutAtomic, Op: kv.AtomicBitAnd, Key: []byte("c"), Value: []byte{0xff}},
		}},
		{Mutations: []txnbuf.Mutation{
			{Type: txnbuf.MutSetVSKey, Key: append([]byte("q/"), ph...), Offset: 2, Value: []byte("v")},
			{Type: txnbuf.MutSetVSValue, Key: []byte("k"), Value: append([]byte("p"), ph...), Offset: 1},
			{Type: txnbuf.MutClearRange, Key: []byte("q/"), End: []byte("q0")},
		}},
		{ReadVersion: 1, ReadConflicts: []kv.KeyRange{{Begin: []byte("a"), End: []byte("b")}},
			Mutations: []txnbuf.Mutation{{Type: txnbuf.MutSet, Key: []byte("a"), Value: nil}}},
		// Invalid ones: out-of-bounds stamp, inverted range, reserved key.
		{Mutations: []txnbuf.Mutation{{Type: txnbuf.MutSetVSKey, Key: []byte("short"), Offset: -3}}},
		{Mutations: []txnbuf.Mutation{{Type: txnbuf.MutClearRange, Key: []byte("z"), End: []byte("a")}}},
		{Mutations: []txnbuf.Mutation{{Type: txnbuf.MutSet, Key: []byte("\xff\x00sys"), Value: []byte("x")}}},
	} {
		b, err := proto.Marshal(wire.CommitToPB(req))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x02, 0x08, 0x07}) // a mutation of unknown type
	clock := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var pb kvpb.CommitRequest
		if proto.Unmarshal(b, &pb) != nil {
			return
		}
		req, err := wire.CommitFromPB(&pb)
		if err != nil {
			return
		}
		if validateCommit(req) != nil {
			return
		}
		s := mvcc.New(mvcc.Options{Clock: func() time.Time { return clock }})
		defer s.Close()
		if _, err := s.Commit(req); err != nil {
			if ke := (*kv.Error)(nil); !errors.As(err, &ke) {
				t.Fatalf("commit of a valid request failed with a non-kv error %T: %v", err, err)
			}
			return
		}
		rv, err := s.ReadVersion()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Range(rv, []byte{}, []byte{0xff}, 1000, false); err != nil {
			t.Fatalf("read after a commit: %v", err)
		}
	})
}
