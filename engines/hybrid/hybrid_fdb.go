//go:build fdb

package hybrid

import (
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/engines/fdbkv"
	"github.com/fsmeta/fsmeta/kv"
)

// ErrFDBNotBuilt is what binaries built without the fdb build tag return
// for kv_engine_type = "fdb". This binary has the tag and never returns it;
// it is declared in both builds so that code naming it compiles in both.
var ErrFDBNotBuilt = errors.New(`hybrid: kv_engine_type "fdb" needs a binary built with ` +
	"`go build -tags fdb` (cgo, libfdb_c and its headers installed); this one was built without it")

func openFDB(clusterFile string) (kv.Engine, error) {
	e, err := fdbkv.Open(clusterFile)
	if err != nil {
		return nil, fmt.Errorf("hybrid: open fdb with cluster file %q: %w", clusterFile, err)
	}
	return e, nil
}
