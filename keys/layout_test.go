package keys_test

import (
	"bytes"
	"testing"

	"github.com/fsmeta/fsmeta/keys"
	"github.com/stretchr/testify/require"
)

func inRange(k, b, e []byte) bool { return bytes.Compare(k, b) >= 0 && bytes.Compare(k, e) < 0 }

// The session and lock keys of issue 8 nest in the ranges that expiry,
// Close and Check clear and scan, and nowhere else.
func TestLayout_SessionAndLockKeysNest(t *testing.T) {
	l := keys.NewLayout(keys.Sub(keys.Tuple{"fs"}))
	const se, ino, h = uint64(7), uint64(42), uint64(1) << 63

	b, e := l.SessionOwnedRange(se)
	for _, k := range [][]byte{l.SessionHandle(se, ino, h), l.SessionLocks(se, "f", ino), l.SessionLocks(se, "p", ino)} {
		require.True(t, inRange(k, b, e), "%x outside the session's index", k)
		ab, ae := l.AllSessionOwnedRange()
		require.True(t, inRange(k, ab, ae))
	}
	require.False(t, inRange(l.SessionHandle(se+1, ino, h), b, e), "another session's index")
	sb, sessEnd := l.SessionRange()
	require.True(t, inRange(l.Session(se), sb, sessEnd))
	require.False(t, inRange(l.SessionHandle(se, ino, h), sb, sessEnd), "index entries are not session records")

	flock := l.Lock(ino, "f", se, h, 3)
	posix := l.Lock(ino, "p", se, 3, 1<<63+5)
	all0, all1 := l.LockRange(ino, "")
	for _, k := range [][]byte{flock, posix} {
		require.True(t, inRange(k, all0, all1), "every lock of the inode")
		ab, ae := l.AllLockRange()
		require.True(t, inRange(k, ab, ae))
	}
	fb, fe := l.LockRange(ino, "f", se, h)
	require.True(t, inRange(flock, fb, fe), "the handle's flocks")
	require.False(t, inRange(l.Lock(ino, "f", se, h+1, 3), fb, fe), "another handle's flocks")
	require.False(t, inRange(posix, fb, fe))
	pb, pe := l.LockRange(ino, "p", se)
	require.True(t, inRange(posix, pb, pe), "the session's POSIX locks")
	require.False(t, inRange(l.Lock(ino+1, "p", se, 3, 0), all0, all1), "another inode's locks")

	// POSIX lock keys of one owner sort by start, over the whole uint64 range.
	starts := []uint64{0, 1, 255, 1 << 32, 1<<63 - 1, 1 << 63, ^uint64(0)}
	for i := 1; i < len(starts); i++ {
		require.Negative(t, bytes.Compare(l.Lock(ino, "p", se, 3, starts[i-1]), l.Lock(ino, "p", se, 3, starts[i])), "start %d before %d", starts[i-1], starts[i])
	}

	xb, xe := l.AllXattrRange()
	require.True(t, inRange(l.Xattr(ino, []byte("user.a")), xb, xe))
	hb, he := l.AllHandleRange()
	require.True(t, inRange(l.Handle(ino, h), hb, he))
	qb, qe := l.RequestClientRange(se)
	require.True(t, inRange(l.Request(se, 9), qb, qe))
	require.False(t, inRange(l.Request(se+1, 9), qb, qe))
}
