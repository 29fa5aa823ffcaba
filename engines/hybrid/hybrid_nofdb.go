//go:build !fdb

package hybrid

import (
	"errors"

	"github.com/fsmeta/fsmeta/kv"
)

// ErrFDBNotBuilt is returned for kv_engine_type = "fdb" by a binary built
// without the fdb build tag.
var ErrFDBNotBuilt = errors.New(`hybrid: kv_engine_type "fdb" needs a binary built with ` +
	"`go build -tags fdb` (cgo, libfdb_c and its headers installed); this one was built without it")

func openFDB(string) (kv.Engine, error) { return nil, ErrFDBNotBuilt }
