package main

import (
	"context"
	"crypto/tls"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
)

// dialServer connects to a meta server; the client is one session.
func dialServer(ctx context.Context, addr, token string, tc *tls.Config, desc string) (meta.FS, error) {
	return client.Dial(ctx, addr, client.Options{Token: token, TLS: tc, Description: desc})
}
