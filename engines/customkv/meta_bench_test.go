package customkv_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// BenchmarkMetaCreate runs meta creates over a real kvserver process (fsync
// on) and reports the round trips each create costs.
func BenchmarkMetaCreate(b *testing.B) {
	db := open(b, customkv.Options{Endpoints: []string{benchServer(b, true)}})
	ctx := context.Background()
	s, err := meta.Open(ctx, db, meta.Options{})
	require.NoError(b, err)
	d, err := s.Mkdir(ctx, meta.RootCred(), 1, "d", 0o755)
	require.NoError(b, err)
	before := db.Calls()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Create(ctx, meta.RootCred(), d.Ino, "f"+strconv.Itoa(i), 0o644, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(db.Calls()-before)/float64(b.N), "roundtrips/create")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// TestMetaCreate_RoundTrips pins the round-trip budget of a create over
// customkv: one batched read (the read version rides on it) and one commit,
// plus the id allocator's own transaction once per block of ids.
func TestMetaCreate_RoundTrips(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	db := open(t, customkv.Options{Endpoints: []string{addr}})
	ctx := context.Background()
	s, err := meta.Open(ctx, db, meta.Options{AllocBlock: 1 << 20})
	require.NoError(t, err)
	d, err := s.Mkdir(ctx, meta.RootCred(), 1, "d", 0o755)
	require.NoError(t, err)
	before := db.Calls()
	const n = 50
	for i := 0; i < n; i++ {
		_, err := s.Create(ctx, meta.RootCred(), d.Ino, "f"+strconv.Itoa(i), 0o644, true)
		require.NoError(t, err)
	}
	require.Equal(t, int64(2*n), db.Calls()-before, "round trips for %d creates", n)
}
