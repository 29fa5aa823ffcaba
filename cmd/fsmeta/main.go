// Command fsmeta drives the fsmeta metadata library. Subcommands:
//
//	fsmeta demo [-dirs N] [-files N] [-workers N] [-ops N] [-config FILE]
//
// demo builds a tree on the embedded memkv engine (or the engine named by a
// hybrid TOML config), runs concurrent renames and unlinks over it, checks
// the result with fsck and prints a summary.
package main

import (
	"context"
	"fmt"
	"io"
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

const usage = `usage: fsmeta <command> [flags]

commands:
  demo    build a tree on the embedded engine, run concurrent renames and
          unlinks, run fsck, print a summary
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		return demoCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "fsmeta: unknown command %q\n%s", args[0], usage)
	return 2
}
