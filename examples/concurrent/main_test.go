package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	cfg := config{dirs: 4, files: 16, workers: 8, ops: 2000}
	require.NoError(t, run(context.Background(), &out, cfg))
	m := regexp.MustCompile(`^tree: 4 directories x 16 files; 8 goroutines doing 2000 renames, unlinks and creates
renamed (\d+), unlinked (\d+), created (\d+); lost the race (\d+) times \(ENOENT or EEXIST\)
transaction retries: \d+ \(conflicts the retry loop resolved\)
fsck: (\d+) inodes, 5 directories, (\d+) entries, clean: true
$`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	require.Equal(t, cfg.ops, n(1)+n(2)+n(3)+n(4), "every operation is counted once")
	require.Greater(t, n(1), 0)
	// Each surviving file is one inode and one entry; the directories add
	// five inodes (with the root) and four entries.
	files := n(5) - 5
	require.Equal(t, files+4, n(6))
	require.LessOrEqual(t, files, 4*16+n(3)-n(2), "unlinks removed files, replacing renames removed more")
}
