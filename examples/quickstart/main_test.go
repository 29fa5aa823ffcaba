package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	require.Equal(t, `/docs/final.txt (file)
/docs/latest (symlink)
stat /docs/latest: -rw-r--r--, 0 bytes, 1 link
stat /docs: drwxr-xr-x, 2 entries, nlink 2
mkdir /docs again: mkdir #1/docs: file exists
  errors.Is(err, fs.ErrExist) = true, errno EEXIST = true
stat the old name: errors.Is(err, fs.ErrNotExist) = true
fsck: 4 inodes, 2 directories, 3 entries, clean: true
`, out.String())
}
