package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
)

// exitCode ends a command with a status after it printed its own messages.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// app is one invocation of the CLI: its streams and global flags.
type app struct {
	ctx            context.Context
	stdout, stderr io.Writer

	config   string
	server   string
	token    string
	tlsCA    string
	insecure bool
	uid, gid uint32
	groups   []uint
	timeout  time.Duration
}

const rootLong = `fsmeta drives the fsmeta metadata library: POSIX filesystem metadata as
strictly serializable transactions over a transactional KV store.

The file commands (mkdir, ls, stat, mv, rm, rmdir, ln, touch, tree, getfattr,
setfattr, fsck) work on
a filesystem named by --server (a meta server started with "fsmeta serve") or by
--config (a hybrid TOML file naming the engine). Without either they run on a new
embedded memkv engine, which is empty in every process: useful to try the commands,
not to keep anything. Keep a namespace with --server ADDR, or with --config naming a
custom KV server (kv_engine_type = "custom") or FoundationDB.

Paths are absolute in the filesystem's namespace; a relative path is taken from its
root. Commands act as uid 0 (root, which bypasses permission checks) unless --uid,
--gid and --groups say otherwise: the namespace is the store's, not this host's.

The custom KV server is its own command, kvserver (cmd/kvserver).`

// newRoot builds the command tree for one invocation.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "fsmeta",
		Short:         "Filesystem metadata over a transactional KV store",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(a.stderr)
			cmd.Usage()
			return exitCode(2)
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetContext(a.ctx)
	pf := root.PersistentFlags()
	pf.StringVar(&a.config, "config", "", "hybrid TOML config naming the engine (default: a new embedded memkv, empty in every process)")
	pf.StringVar(&a.server, "server", "", "address of a meta server (fsmeta serve) to work on instead of an engine")
	pf.StringVar(&a.token, "token", os.Getenv("FSMETA_TOKEN"), "shared token the meta server requires (default $FSMETA_TOKEN); for serve, the token to require")
	pf.StringVar(&a.tlsCA, "tls-ca", "", "PEM CA bundle to verify the meta server's TLS certificate (turns TLS on)")
	pf.BoolVar(&a.insecure, "insecure", false, "use TLS to the meta server without verifying its certificate")
	pf.Uint32Var(&a.uid, "uid", 0, "user id the operations run as")
	pf.Uint32Var(&a.gid, "gid", 0, "group id the operations run as")
	pf.UintSliceVar(&a.groups, "groups", nil, "supplementary group ids, comma-separated")
	pf.DurationVar(&a.timeout, "timeout", 0, "bound on connecting to the meta server and on each call (default 5s to connect, 30s a call)")

	root.AddCommand(
		demoCommand(a), serveCommand(a), benchCommand(a),
		mkdirCommand(a), lsCommand(a), statCommand(a), mvCommand(a), rmCommand(a), rmdirCommand(a),
		lnCommand(a), touchCommand(a), treeCommand(a), fsckCommand(a),
		getfattrCommand(a), setfattrCommand(a),
	)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	return root
}

// usageError is a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// run executes one command line and returns the exit status: commands end
// with exitCode after printing their own errors; any other error is cobra's
// (unknown command or flag, wrong argument count) or a usageError, status 2.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdout: stdout, stderr: stderr}
	root := newRoot(a)
	root.SetArgs(singleDashLongFlags(root, args))
	cmd, err := root.ExecuteC()
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	name, help := "fsmeta", "fsmeta"
	if cmd != nil && cmd != root {
		name, help = "fsmeta: "+cmd.Name(), "fsmeta "+cmd.Name()
	}
	fmt.Fprintf(stderr, "%s: %v\nTry '%s --help' for more information.\n", name, err, help)
	return 2
}

// singleDashLongFlags rewrites "-name" and "-name=value" to the long form
// when name is a long flag of the command args select, so that flags given
// Go-style (-config F) keep working next to combined short flags (-rf).
func singleDashLongFlags(root *cobra.Command, args []string) []string {
	// The global flags first, so that Find can skip their values.
	long := map[string]bool{}
	add := func(f *pflag.Flag) {
		if len(f.Name) > 1 {
			long[f.Name] = true
		}
	}
	root.PersistentFlags().VisitAll(add)
	out := rewriteLong(args, long)
	cmd, _, err := root.Find(out)
	if err != nil || cmd == nil || cmd.DisableFlagParsing {
		return out
	}
	cmd.LocalFlags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return rewriteLong(out, long)
}

func rewriteLong(args []string, long map[string]bool) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, s := range out {
		if s == "--" {
			break
		}
		if len(s) < 3 || s[0] != '-' || s[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(s[1:], "=")
		if long[name] {
			out[i] = "-" + s
		}
	}
	return out
}

// cred is the identity the global flags name.
func (a *app) cred() meta.Cred {
	c := meta.Cred{Uid: a.uid, Gid: a.gid}
	for _, g := range a.groups {
		c.Groups = append(c.Groups, uint32(g))
	}
	return c
}

// tlsConfig is the client TLS configuration the flags ask for, or nil.
func (a *app) tlsConfig() (*tls.Config, error) {
	if a.tlsCA == "" && !a.insecure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.insecure}
	if a.tlsCA != "" {
		pem, err := os.ReadFile(a.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificates in it", a.tlsCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// openFS opens the filesystem the global flags name. The caller must
// Shutdown it.
func (a *app) openFS(ctx context.Context) (meta.FS, error) {
	if a.server != "" {
		if a.config != "" {
			return nil, errors.New("--server and --config name two filesystems: give one")
		}
		tc, err := a.tlsConfig()
		if err != nil {
			return nil, err
		}
		return a.dial(ctx, a.server, tc, "fsmeta cli")
	}
	return openStore(ctx, a.config, a.stderr)
}

// engineStore is a store that closes its engine on Shutdown.
type engineStore struct {
	*meta.Store
	db kv.Engine
}

func (s engineStore) Shutdown(ctx context.Context) error {
	return errors.Join(s.Store.Shutdown(ctx), s.db.Close())
}

// openEngine opens the engine of config ("" for a new memkv). The custom
// KV client logs endpoint changes to log, warnings and up only.
func openEngine(ctx context.Context, config string, log io.Writer) (kv.Engine, error) {
	if config == "" {
		return memkv.New(memkv.Options{}), nil
	}
	cfg, err := hybrid.Load(config)
	if err != nil {
		return nil, err
	}
	if cfg.KVEngine.Type != hybrid.TypeCustom {
		return hybrid.Open(ctx, cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := cfg.CustomKVOptions()
	o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return customkv.Open(ctx, o)
}

// openStore opens a store on the engine of config ("" for a new memkv).
func openStore(ctx context.Context, config string, log io.Writer) (engineStore, error) {
	db, err := openEngine(ctx, config, log)
	if err != nil {
		return engineStore{}, err
	}
	s, err := meta.Open(ctx, db, meta.Options{})
	if err != nil {
		db.Close()
		return engineStore{}, err
	}
	return engineStore{s, db}, nil
}

// withFS runs fn on the filesystem the global flags name and turns the
// outcome into the command's error: failures fn reported set status 1.
func (a *app) withFS(cmd *cobra.Command, fn func(ctx context.Context, fsys meta.FS, c meta.Cred) bool) error {
	ctx := cmd.Context()
	fsys, err := a.openFS(ctx)
	if err != nil {
		fmt.Fprintf(a.stderr, "fsmeta: %s: %v\n", cmd.Name(), err)
		return exitCode(1)
	}
	ok := fn(ctx, fsys, a.cred())
	if err := fsys.Shutdown(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(a.stderr, "fsmeta: %s: shutdown: %v\n", cmd.Name(), err)
		ok = false
	}
	if !ok {
		return exitCode(1)
	}
	return nil
}

// failf prints an error of command name in coreutils' shape.
func (a *app) failf(name, format string, args ...any) {
	fmt.Fprintf(a.stderr, "fsmeta: "+name+": "+format+"\n", args...)
}
