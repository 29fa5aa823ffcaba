package client_test

import (
	"testing"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/meta/metatest"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
)

var _ meta.FS = (*client.Client)(nil)

// The client over a real in-process server meets the same contract as the
// store.
func TestConformance(t *testing.T) {
	metatest.Run(t, func(tb testing.TB) meta.FS {
		r := serve(tb, newStore(tb), server.Config{})
		return dial(tb, r.addr, client.Options{})
	})
}
