package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fsmeta/fsmeta/internal/bench"
)

func TestBench_TableOnMemkv(t *testing.T) {
	out := must(t, "bench", "-n", "20", "-c", "2", "--dirs", "unique,shared")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Equal(t, "fsmeta bench: 20 items x 2 clients, unique and shared directories", lines[0])
	require.Regexp(t, `^target\s+mode\s+phase\s+ops\s+seconds\s+ops/s\s+p50\s+p99\s+retries$`, lines[1])
	require.Len(t, lines, 2+12+1, out)
	row := regexp.MustCompile(`^memkv\s+(unique|shared)\s+(mkdir|create|stat|rename|unlink|rmdir)\s+40\s+\d+\.\d{3}\s+\d+\s+\S+\s+\S+\s+\d+$`)
	for _, l := range lines[2:14] {
		require.Regexp(t, row, l)
	}
	require.Regexp(t, `^fsck memkv: \d+ inodes, \d+ directories, \d+ entries: clean$`, lines[14])
}

func TestBench_JSONAcrossTargets(t *testing.T) {
	addr, _ := metaServer(t)
	cfg := customKVConfig(t)
	plot := filepath.Join(t.TempDir(), "bench.png")
	out := must(t, "bench", "-n", "10", "-c", "3", "--phases", "create,stat,unlink", "--shared", "--json", "--plot", plot,
		"--target", "memkv", "--target", "custom=config:"+cfg, "--target", "server:"+addr)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, []string{"create", "stat", "unlink"}, rep.Phases)
	require.Equal(t, []string{"shared"}, rep.Modes)
	require.Len(t, rep.Results, 3*3)
	for i, r := range rep.Results {
		require.Equal(t, []string{"memkv", "custom", "server:" + addr}[i/3], r.Target)
		require.Equal(t, 30, r.Ops)
		require.Greater(t, r.OpsPerSec, 0.0)
		if r.Target == "server:"+addr {
			require.Nil(t, r.Retries, "a remote client does not see the server's retries")
		} else {
			require.NotNil(t, r.Retries)
		}
	}
	require.Len(t, rep.Fsck, 3)
	require.True(t, rep.OK())

	f, err := os.Open(plot)
	require.NoError(t, err)
	defer f.Close()
	_, err = png.Decode(f)
	require.NoError(t, err)
}

func TestBench_BadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--phases", "mkdir,chown"}, `unknown phase "chown"`},
		{[]string{"--phases", "stat"}, "phase stat needs phase create"},
		{[]string{"--dirs", "private"}, `unknown directory mode "private"`},
		{[]string{"--shared", "--dirs", "unique"}, "--shared and --dirs"},
		{[]string{"--target", "redis:x"}, `--target "redis:x": want memkv, config:FILE, server:ADDR`},
		{[]string{"--target", "config:/nonexistent.toml"}, "nonexistent.toml"},
		{[]string{"-n", "0"}, "-n and -c must be at least 1"},
		{[]string{"--target", "memkv", "--target", "memkv"}, `target "memkv" given twice`},
	} {
		code, _, errs := cli(t, append([]string{"bench"}, tc.args...)...)
		require.Equal(t, 2, code, "%v: %s", tc.args, errs)
		require.Contains(t, errs, tc.err, "%v", tc.args)
	}
}
