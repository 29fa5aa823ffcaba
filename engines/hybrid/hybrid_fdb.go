//go:build fdb

package hybrid

import (
	"fmt"

	"github.com/fsmeta/fsmeta/engines/fdbkv"
	"github.com/fsmeta/fsmeta/kv"
)

func openFDB(clusterFile string) (kv.Engine, error) {
	e, err := fdbkv.Open(clusterFile)
	if err != nil {
		return nil, fmt.Errorf("hybrid: open fdb with cluster file %q: %w", clusterFile, err)
	}
	return e, nil
}
