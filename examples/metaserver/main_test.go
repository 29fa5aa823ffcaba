package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/stretchr/testify/require"
)

// The example builds, serves on a free loopback port, answers a client,
// and exits cleanly on SIGTERM.
func TestMetaserver_ServesAndStopsOnSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "metaserver")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-token", "tok", "-session-lease", "5s")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	addrRE := regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)
	var addr string
	var log []string
	timeout := time.After(60 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the server exited before serving: %q", log)
			log = append(log, l)
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case <-timeout:
			t.Fatalf("no serving line: %q", log)
		}
	}

	ctx := context.Background()
	c, err := client.Dial(ctx, addr, client.Options{Token: "tok"})
	require.NoError(t, err)
	_, err = c.MkdirAll(ctx, meta.RootCred(), "/a/b", 0o755)
	require.NoError(t, err)
	f, err := c.Create(ctx, meta.RootCred(), inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	require.NoError(t, c.Rename(ctx, meta.RootCred(), inode.RootIno, "f", inode.RootIno, "g", 0))
	st, err := c.Stat(ctx, meta.RootCred(), "/g")
	require.NoError(t, err)
	require.Equal(t, f.Ino, st.Ino)
	_, err = c.Stat(ctx, meta.RootCred(), "/f")
	require.ErrorIs(t, err, syscall.ENOENT)
	rep, err := c.Check(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK())
	require.NoError(t, c.Shutdown(ctx))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	timeout = time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			done = !ok
			log = append(log, l)
		case <-timeout:
			t.Fatalf("the server did not exit after SIGTERM: %q", log)
		}
	}
	require.NoError(t, <-exited, "clean exit after SIGTERM: %q", log)
	require.Contains(t, strings.Join(log, "\n"), "level=INFO msg=stopped", "graceful stop logged")
}
