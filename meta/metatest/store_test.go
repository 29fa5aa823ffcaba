package metatest_test

import (
	"context"
	"testing"

	"github.com/fsmeta/fsmeta/internal/testenv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/meta/metatest"
	"github.com/stretchr/testify/require"
)

func TestStore(t *testing.T) {
	metatest.Run(t, func(tb testing.TB) meta.FS {
		db, root := testenv.Engine(tb)
		s, err := meta.Open(context.Background(), db, meta.Options{Root: root})
		require.NoError(tb, err)
		tb.Cleanup(func() { s.Shutdown(context.Background()) })
		return s
	})
}
