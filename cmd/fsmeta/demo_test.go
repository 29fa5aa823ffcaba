package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDemo_SmallTreeEndsClean(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"demo", "-dirs", "10", "-files", "20", "-ops", "2000", "-workers", "4"}, &out, &errb)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	require.Contains(t, out.String(), "fsck:")
	require.True(t, strings.HasSuffix(strings.TrimSpace(out.String()), "clean"), out.String())
	require.Contains(t, out.String(), "build:   210 ops")
}

func TestDemo_BadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"demo", "-dirs", "0"}, &out, &errb))
	require.Contains(t, errb.String(), "-dirs")
	require.Equal(t, 2, run(context.Background(), []string{"nope"}, &out, &errb))
	require.Contains(t, errb.String(), `unknown command "nope"`)
}

func TestDemo_ConfigFlagBothPlaces(t *testing.T) {
	cfg := customKVConfig(t)
	for _, args := range [][]string{
		{"demo", "-config", cfg, "-dirs", "4", "-files", "5", "-ops", "100", "-workers", "2"},
		{"--config", cfg, "demo", "-dirs", "4", "-files", "5", "-ops", "100", "-workers", "2"},
	} {
		out := must(t, args...)
		require.Contains(t, out, "fsmeta demo on "+cfg, out)
		require.True(t, strings.HasSuffix(strings.TrimSpace(out), "clean"), out)
	}
	code, out, _ := cli(t, "demo", "-h")
	require.Equal(t, 0, code, out)
}
