//go:build !fdb

package hybrid_test

import (
	"context"
	"testing"

	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/stretchr/testify/require"
)

func TestOpen_FDBWithoutTagSaysHowToBuild(t *testing.T) {
	_, err := hybrid.OpenFile(context.Background(), configs("fdb_example.toml"))
	require.ErrorIs(t, err, hybrid.ErrFDBNotBuilt)
	require.Contains(t, err.Error(), "-tags fdb")
}
