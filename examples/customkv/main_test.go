package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, dir))
	require.Regexp(t, regexp.MustCompile(`^kv server on 127\.0\.0\.1:\d+, data in `+regexp.QuoteMeta(dir)+`
/docs/final.txt \(file\)
/docs/latest \(symlink\)
stat /docs/latest: -rw-r--r--, 0 bytes, 1 link
mkdir /docs again: errors.Is\(err, fs.ErrExist\) = true, errno EEXIST = true
fsck: 4 inodes, 2 directories, 3 entries, clean: true
restarted the kv server
/docs is still there
$`), out.String())
}
