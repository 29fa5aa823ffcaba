// Command fsmeta drives the fsmeta metadata library: a demo of the main
// job, the meta server, coreutils-style file commands against a server or
// an engine config, fsck, and an mdtest-style metadata benchmark.
//
//	fsmeta demo [-dirs N] [-files N] [-workers N] [-ops N] [-config FILE]
//	fsmeta serve [--addr 127.0.0.1:7450] [--config FILE] [--metrics ADDR] [--token T]
//	fsmeta --server ADDR mkdir -p /a/b/c
//	fsmeta --server ADDR ls -l /a
//	fsmeta bench -n 2000 -c 4 --dirs unique,shared --target memkv --target server:ADDR
//
// The CLI is built on github.com/spf13/cobra: its pflag parsing gives the
// combinable short flags people type from coreutils (rm -rf, ls -la), and
// it generates help and shell completion. Long flags are also accepted
// with a single dash (-config F), as the demo always took them.
//
// Exit status: 0 on success, 1 when an operation failed (the error is
// printed as coreutils does, "fsmeta: rm: cannot remove '/x': No such file
// or directory"), 2 on a usage error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
