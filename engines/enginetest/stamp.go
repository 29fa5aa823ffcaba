package enginetest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var stampTests = []test{
	{"VersionstampSharedByAllOpsInTxn", testStampShared},
	{"VersionstampIsCommittedVersionBigEndian", testStampVersion},
	{"VersionstampsIncreaseAcrossCommits", testStampIncrease},
	{"VersionstampOffsetOutOfBoundsRejected", testStampBounds},
	{"VersionstampBeforeCommitFails", testStampBeforeCommit},
	{"WriteAfterVersionstampedValueWins", testStampOverwritten},
	{"ClearRangeAfterVersionstampedKeyClearsIt", testStampedKeyCleared},
	{"WritesAroundVersionstampedKeyApplyInCallOrder", testStampedKeyOrder},
}

const placeholder = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func testStampShared(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedKey(b("log/"+placeholder+"/a"), 4, b("va")))
	require.NoError(t, tx.SetVersionstampedKey(b("log/"+placeholder+"/b"), 4, b("vb")))
	require.NoError(t, tx.SetVersionstampedValue(b("val1"), b("pre"+placeholder), 3))
	require.NoError(t, tx.SetVersionstampedValue(b("val2"), b(placeholder+"post"), 0))
	tx.Set(b("plain"), b("p"))
	require.NoError(t, tx.Commit(ctxBG))
	st, err := tx.Versionstamp()
	require.NoError(t, err)
	s := string(st[:])
	require.Equal(t, []string{
		"log/" + s + "/a=va",
		"log/" + s + "/b=vb",
		"plain=p",
		"val1=pre" + s,
		"val2=" + s + "post",
	}, dump(t, db))
}

func testStampVersion(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedValue(b("v"), b(placeholder), 0))
	require.NoError(t, tx.Commit(ctxBG))
	st, err := tx.Versionstamp()
	require.NoError(t, err)
	require.Positive(t, tx.CommittedVersion())
	require.Equal(t, uint64(tx.CommittedVersion()), binary.BigEndian.Uint64(st[:8]))
	requireStored(t, db, "v", string(st[:]), true)
}

func testStampIncrease(t *testing.T, c *Config) {
	db := c.Open(t)
	var prev [kv.VersionstampSize]byte
	prevVersion := int64(-1)
	for i := range 20 {
		tx := db.NewReadWrite()
		if i%2 == 0 {
			require.NoError(t, tx.SetVersionstampedKey(b("q/"+placeholder), 2, nil))
		} else {
			tx.Set(b("plain"), b("x")) // stamps exist for every commit with writes
		}
		require.NoError(t, tx.Commit(ctxBG))
		st, err := tx.Versionstamp()
		require.NoError(t, err)
		require.Positive(t, bytes.Compare(st[:], prev[:]), "stamp %x after %x", st, prev)
		require.Greater(t, tx.CommittedVersion(), prevVersion)
		prev, prevVersion = st, tx.CommittedVersion()
	}
	tx := db.NewReadOnly()
	defer tx.Cancel()
	r, err := tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(b("q/")), kv.FirstGreaterOrEqual(b("q0")), 0)
	require.NoError(t, err)
	require.Len(t, r.KVs, 10, "one key per stamped commit")
}

func testStampBounds(t *testing.T, c *Config) {
	db := c.Open(t)
	for _, tc := range []struct {
		name   string
		n, off int
	}{{"negative", 12, -1}, {"past end", 12, 3}, {"too short", 9, 0}, {"empty", 0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			p := bytes.Repeat([]byte("x"), tc.n)
			tx := db.NewReadWrite()
			requireErr(t, tx.SetVersionstampedKey(p, tc.off, b("v")), kv.ErrInvalid)
			tx.Cancel()
			tx = db.NewReadWrite()
			requireErr(t, tx.SetVersionstampedValue(b("k"), p, tc.off), kv.ErrInvalid)
			tx.Cancel()
		})
	}
	// Exactly at the end is in bounds.
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedKey(b("kk"+placeholder), 2, b("v")))
	require.NoError(t, tx.SetVersionstampedValue(b("k"), b("ab"+placeholder), 2))
	require.NoError(t, tx.Commit(ctxBG))
	require.Len(t, dump(t, db), 2)
}

func testStampBeforeCommit(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedValue(b("k"), b(placeholder), 0))
	_, err := tx.Versionstamp()
	require.Error(t, err, "Versionstamp before Commit")
	tx.Cancel()
	// A commit without writes has no stamp.
	tx = db.NewReadWrite()
	get(t, tx, "k")
	require.NoError(t, tx.Commit(ctxBG))
	_, err = tx.Versionstamp()
	require.Error(t, err, "Versionstamp of a commit without writes")
}

// Mutations apply in call order: a Set, Clear or ClearRange after a
// versionstamped value on the same key replaces it.
func testStampOverwritten(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedValue(b("set"), b(placeholder), 0))
	tx.Set(b("set"), b("plain"))
	require.NoError(t, tx.SetVersionstampedValue(b("clear"), b(placeholder), 0))
	tx.Clear(b("clear"))
	require.NoError(t, tx.SetVersionstampedValue(b("range"), b(placeholder), 0))
	tx.ClearRange(b("r"), b("s"))
	require.NoError(t, tx.Commit(ctxBG))
	require.Equal(t, []string{"set=plain"}, dump(t, db))
}

// Mutations apply in call order for versionstamped keys too, although the
// key is known only at commit.
func testStampedKeyCleared(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.NoError(t, tx.SetVersionstampedKey(b("q/"+placeholder), 2, b("v")))
	tx.ClearRange(b("q/"), b("q0"))
	tx.Set(b("kept"), b("1"))
	require.NoError(t, tx.Commit(ctxBG))
	require.Equal(t, []string{"kept=1"}, dump(t, db))
}

// Writes before and after a versionstamped key apply in call order: a range
// clear after it clears it when the range holds the stamped key, and writes
// after that clear survive it; a range that holds only some of the keys the
// stamp could make clears the stamped key only when it holds the one made.
// Committed versions are below 2^56, so stamps start with a zero byte.
func testStampedKeyOrder(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	tx.Set(b("q/old"), b("1"))
	tx.Set(b("s"), b("1"))
	tx.Set(b("u"), b("\x01"))
	require.NoError(t, tx.SetVersionstampedKey(b("q/"+placeholder), 2, b("v")))
	tx.ClearRange(b("q/"), b("q0")) // holds every key the stamp can make
	tx.Set(b("q/new"), b("2"))
	tx.Atomic(kv.AtomicAdd, b("q/ctr"), b("\x05"))
	tx.Clear(b("s"))
	tx.Atomic(kv.AtomicAdd, b("u"), b("\x02"))
	require.NoError(t, tx.SetVersionstampedKey(b("r/"+placeholder+"/a"), 2, b("cleared")))
	tx.ClearRange(b("r/\x00"), b("r/\x01")) // holds stamps below 2^56 only
	tx.Set(b("r/\x00z"), b("after"))
	require.NoError(t, tx.SetVersionstampedKey(b("w/"+placeholder+"/a"), 2, b("kept")))
	tx.ClearRange(b("w/"), b("w/"+placeholder+"/b")) // below every real stamp
	require.NoError(t, tx.SetVersionstampedKey(b("x/"+placeholder), 2, b("later")))
	tx.ClearRange(b("x/"), b("x/\x00")) // before the key: no effect on it
	requireValue(t, tx, "q/new", "2", true)
	requireValue(t, tx, "q/old", "", false)
	require.NoError(t, tx.Commit(ctxBG))
	st, err := tx.Versionstamp()
	require.NoError(t, err)
	s := string(st[:])
	require.Equal(t, []string{
		"q/ctr=\x05",
		"q/new=2",
		"r/\x00z=after",
		"u=\x03",
		"w/" + s + "/a=kept",
		"x/" + s + "=later",
	}, dump(t, db))
}
