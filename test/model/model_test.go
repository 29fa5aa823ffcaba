// Package model_test is the model-based property test of meta (issue 3,
// item 8): random create, mkdir, mknod, symlink, link, rename (with
// NOREPLACE and EXCHANGE), unlink, rmdir, chmod and stat sequences on a
// tiny namespace (names a, b, c; depth up to 3), with (issue 8) open and
// close of up to three handles, flock and POSIX F_SETLK/F_GETLK on them by
// a few owners, and set/get/list/remove of extended attributes with flags,
// namespaces and permissions, mostly as root and now and
// then as one of two users, run on a meta.Store over memkv (or, with FSMETA_ENGINE=custom, a real KV
// server) and on the
// plain POSIX model of test/internal/fsmodel. After every step the errno
// must be Linux's and the whole tree (names, types, nlinks, modes, owners,
// symlink targets, hard-link identity, "..") must equal the model's, with
// meta.Check clean; so must the locks (ranges merged and split as Linux
// does; the model keeps them byte by byte) and the xattrs of every inode
// that had some.
//
// Sizes: 500 sequences of about 100 steps by default, 100 under -race;
// -rapid.checks and -rapid.steps (or RAPID_CHECKS, RAPID_STEPS) override
// them. -v logs how often each operation met each errno.
//
// A failure prints the minimised sequence and a line such as
//
//	To reproduce, specify -run="TestModel" -rapid.failfile="testdata/rapid/TestModel/TestModel-....fail" (or -rapid.seed=1234)
//
// Replay it with `go test ./test/model -run 'TestModel$' -rapid.seed=1234`,
// or with the -rapid.failfile printed, which replays the minimised case
// exactly; add -rapid.v for the steps as they run. rapid also replays every
// fail file under testdata/rapid at the start of each run until it is
// deleted (-rapid.nofailfile writes none); those files are not for
// committing.
package model_test

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/fsmeta/fsmeta/internal/testenv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/test/internal/fsmodel"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testenv.Custom() {
		testenv.RapidDefaults(20, 50) // every step is round trips to a real server
	} else if testenv.Race {
		testenv.RapidDefaults(100, 100)
	} else {
		testenv.RapidDefaults(500, 100)
	}
	os.Exit(m.Run())
}

func TestModel(t *testing.T) {
	tally := fsmodel.Tally{}
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		db, root := testenv.Engine(t)
		s, err := meta.Open(ctx, db, meta.Options{Root: root})
		require.NoError(rt, err)
		h := fsmodel.NewHarness(ctx, s, s)
		defer tally.Add(h)
		defer func() { require.NoError(rt, s.Shutdown(ctx)) }()
		rt.Repeat(h.Actions())
	})
	t.Logf("outcomes over all sequences (shrinking included):\n%v", tally)
}
