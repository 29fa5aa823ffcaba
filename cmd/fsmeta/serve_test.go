package main

import (
	"context"
	"github.com/fsmeta/fsmeta/internal/syncbuf"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveInProcess runs "fsmeta serve" with args through run and returns the
// address it logged; cancel stops it, and wait returns its exit status.
func serveInProcess(t *testing.T, args ...string) (addr string, logs *syncbuf.Buffer, cancel func(), wait func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncbuf.Buffer{}
	var out syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &out, logs) }()
	re := regexp.MustCompile(`msg=serving addr=(\S+)`)
	deadline := time.Now().Add(15 * time.Second)
	for addr == "" {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before serving:\n%s", code, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve logged no address within 15 s:\n%s", logs.String())
		}
	}
	stopped := false
	wait = func() int {
		select {
		case code := <-done:
			stopped = true
			return code
		case <-time.After(15 * time.Second):
			t.Fatalf("serve did not stop within 15 s:\n%s", logs.String())
			return -1
		}
	}
	t.Cleanup(func() {
		cancel()
		if !stopped {
			wait()
		}
	})
	return addr, logs, cancel, wait
}

func TestServe_ServesAndStopsCleanly(t *testing.T) {
	cfg := customKVConfig(t)
	addr, logs, cancel, wait := serveInProcess(t, "--config", cfg, "--token", "s3cret")
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)

	// Without the token the server refuses.
	code, _, errs := cli(t, "--server", addr, "mkdir", "/x")
	require.Equal(t, 1, code)
	require.NotEmpty(t, errs)

	must(t, "--server", addr, "--token", "s3cret", "mkdir", "-p", "/srv/a")
	require.Equal(t, "a\n", must(t, "--server", addr, "--token", "s3cret", "ls", "/srv"))

	// The namespace is in the custom KV server: the CLI sees it through the
	// config as well.
	require.Equal(t, "a\n", must(t, "--config", cfg, "ls", "/srv"))

	cancel()
	require.Equal(t, 0, wait(), logs.String())
	require.Contains(t, logs.String(), "msg=stopped")
}

func TestServe_BadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"serve", "--log-level", "loud"}, 2, `--log-level "loud"`},
		{[]string{"serve", "--log-format", "xml"}, 2, `--log-format "xml"`},
		{[]string{"serve", "--tls-cert", "c.pem"}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--addr", "256.0.0.1:0"}, 1, "fsmeta: serve:"},
		{[]string{"--config", "/nonexistent.toml", "serve"}, 1, "nonexistent.toml"},
	} {
		code, _, errs := cli(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		require.Contains(t, errs, tc.err, "%v", tc.args)
	}
}
