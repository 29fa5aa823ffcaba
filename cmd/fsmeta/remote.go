package main

import (
	"context"
	"crypto/tls"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
)

// dial connects to a meta server with the global flags' token and
// timeout; the client is one session.
func (a *app) dial(ctx context.Context, addr string, tc *tls.Config, desc string) (meta.FS, error) {
	return client.Dial(ctx, addr, client.Options{
		Token: a.token, TLS: tc, Description: desc,
		DialTimeout: a.timeout, CallTimeout: a.timeout,
	})
}
