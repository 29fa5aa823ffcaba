package meta

import (
	"context"
	"errors"
	"syscall"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
)

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Ino  uint64
	Type inode.Type
}

// ReadDir returns up to limit entries (limit <= 0: a default page of 1024)
// of directory ino in name order, starting after the name cursor ("" for
// the start), and the cursor of the next page, "" at the end. "." and ".."
// are not listed. Each page is one snapshot.
func (s *Store) ReadDir(ctx context.Context, c Cred, ino uint64, cursor string, limit int) ([]DirEntry, string, error) {
	if limit <= 0 {
		limit = 1024
	}
	type page struct {
		ents []DirEntry
		next string
	}
	p, err := view(ctx, s, func(ctx context.Context, tx kv.ReadOnlyTxn) (page, error) {
		var a arena
		if _, err := s.loadDir(ctx, tx, &a, c, ino, accessR, true); err != nil {
			return page{}, err
		}
		var after []byte
		if cursor != "" {
			after = []byte(cursor)
		}
		ns, more, err := dirent.List(ctx, tx, s.l, ino, after, limit, true)
		if err != nil {
			return page{}, err
		}
		out := page{ents: make([]DirEntry, len(ns))}
		for i, n := range ns {
			out.ents[i] = DirEntry{Name: string(n.Name), Ino: n.Ino, Type: n.Type}
		}
		if more && len(ns) > 0 {
			out.next = out.ents[len(ns)-1].Name
		}
		return out, nil
	})
	return p.ents, p.next, inoErr("readdir", ino, err)
}

// ReadDirAll lists every entry of directory ino, page by page.
func (s *Store) ReadDirAll(ctx context.Context, c Cred, ino uint64) ([]DirEntry, error) {
	return ReadDirAllFS(ctx, s, c, ino)
}

// ReadDirAllFS is ReadDirAll over any FS, built from its ReadDir: every
// entry of directory ino, page by page, each page its own snapshot.
func ReadDirAllFS(ctx context.Context, fsys FS, c Cred, ino uint64) ([]DirEntry, error) {
	var all []DirEntry
	cursor := ""
	for {
		ents, next, err := fsys.ReadDir(ctx, c, ino, cursor, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, ents...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}

// Handle is an open file.
type Handle struct {
	Ino     uint64
	ID      uint64
	Session uint64 // the session the handle belongs to
}

// Open flags, as in open(2): the access mode bits.
const (
	ORdOnly = syscall.O_RDONLY
	OWrOnly = syscall.O_WRONLY
	ORdWr   = syscall.O_RDWR
)

// Open records an open handle of ino after checking access for flags' mode.
// While a handle is open the inode outlives its last link. The handle
// belongs to the session of ctx (WithSession, else the store's default
// session, registered on the first call); in the same transaction Open
// checks that the session is live, else it fails with ErrSessionExpired.
func (s *Store) Open(ctx context.Context, c Cred, ino uint64, flags int) (Handle, error) {
	var mask uint32
	switch flags & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		mask = accessR
	case syscall.O_WRONLY:
		mask = accessW
	default:
		mask = accessR | accessW
	}
	_, explicit := ctx.Value(sessionKey{}).(*Session)
	h, se, err := s.open(ctx, c, ino, flags, mask)
	if errors.Is(err, ErrSessionExpired) && se != nil {
		se.lost.Store(true)
		if !explicit { // the default session expired: open in a new one
			h, _, err = s.open(ctx, c, ino, flags, mask)
		}
	}
	if err != nil {
		return Handle{}, inoErr("open", ino, err)
	}
	return h, nil
}

func (s *Store) open(ctx context.Context, c Cred, ino uint64, flags int, mask uint32) (Handle, *Session, error) {
	se, err := s.session(ctx)
	if err != nil {
		return Handle{}, nil, err
	}
	h := Handle{Ino: ino, ID: s.handleID.Add(1), Session: se.id}
	err = s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		ls, err := kv.GetMany(ctx, tx, false, s.l.Session(se.id), s.l.Inode(ino), s.l.Handle(ino, h.ID))
		if err != nil {
			return err
		}
		if sid, _, ok := parseHandle(ls[2].Value); ls[2].Found && ok && sid == se.id {
			// An earlier attempt committed (its reply was lost): the
			// handle id is this call's own. Checking again could fail on
			// a change made since, leaving the handle open.
			return nil
		}
		if _, err := s.liveSession(ls[0], se.id); err != nil {
			return err
		}
		n, err := inodeFrom(ls[1], ino)
		if err != nil {
			return err
		}
		if n.Type == inode.TypeDir && mask&accessW != 0 {
			return syscall.EISDIR
		}
		if n.Nlink == 0 {
			return syscall.ENOENT
		}
		if err := access(c, n, mask); err != nil {
			return err
		}
		tx.Set(s.l.Handle(ino, h.ID), handleValue(se.id, flags))
		tx.Set(s.l.SessionHandle(se.id, ino, h.ID), nil)
		return nil
	})
	if err != nil {
		return Handle{}, se, err
	}
	return h, se, nil
}

// Close releases h and the flock locks held through it. If the inode lost
// its last link while open and h was its last handle, the inode is deleted
// now. Closing a handle that is already closed (or was closed by the
// expiry of its session) does nothing, except that a handle dropped by the
// rmdir of its directory loses its session index entries. Close works in
// an expired session.
func (s *Store) Close(ctx context.Context, h Handle) error {
	err := s.update(ctx, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		hk := s.l.Handle(h.Ino, h.ID)
		ls, err := kv.GetMany(ctx, tx, false, hk, s.l.SessionLocks(h.Session, lockFlock, h.Ino),
			s.l.SessionHandle(h.Session, h.Ino, h.ID))
		if err != nil {
			return err
		}
		if !ls[0].Found {
			if ls[2].Found {
				// Dropped with its directory by rmdir, which leaves the
				// session's index entries: remove them now rather than
				// at the end of the session.
				tx.Clear(s.l.SessionHandle(h.Session, h.Ino, h.ID))
				if ls[1].Found {
					return s.clearFlockIndex(ctx, tx, h.Ino, h.Session)
				}
			}
			return nil
		}
		sid, _, _ := parseHandle(ls[0].Value)
		flocks := ls[1].Found
		if sid != h.Session {
			// A handle value made by hand: look the index up under the
			// session the handle record names.
			_, flocks, err = tx.SnapshotGet(ctx, s.l.SessionLocks(sid, lockFlock, h.Ino))
			if err != nil {
				return err
			}
		}
		if err := s.closeHandleTx(ctx, tx, h.Ino, h.ID, sid); err != nil {
			return err
		}
		if flocks {
			return s.clearFlockIndex(ctx, tx, h.Ino, sid)
		}
		return nil
	})
	return inoErr("close", h.Ino, err)
}

// clearFlockIndex removes session sid's flock index entry of ino unless
// the session still holds a flock lock there. The read takes a conflict:
// an unlock of the session's last other flock committing meanwhile must
// make the caller retry, or the entry would outlive every lock it stands
// for.
func (s *Store) clearFlockIndex(ctx context.Context, tx kv.ReadWriteTxn, ino, sid uint64) error {
	b, e := s.l.LockRange(ino, lockFlock, sid)
	res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), 1)
	if err != nil {
		return err
	}
	if len(res.KVs) == 0 {
		tx.Clear(s.l.SessionLocks(sid, lockFlock, ino))
	}
	return nil
}

// closeHandleTx removes handle hid of ino, owned by session sid, with its
// index entry and flock locks; if the inode lost its last link while open
// and this was its last handle, the inode goes too.
func (s *Store) closeHandleTx(ctx context.Context, tx kv.ReadWriteTxn, ino, hid, sid uint64) error {
	tx.Clear(s.l.Handle(ino, hid))
	tx.Clear(s.l.SessionHandle(sid, ino, hid))
	b, e := s.l.LockRange(ino, lockFlock, sid, hid)
	tx.ClearRange(b, e)
	n, ok, err := inode.Load(ctx, tx, s.l, ino, false)
	if err != nil || !ok || n.Nlink > 0 || n.Type == inode.TypeDir {
		return err
	}
	var a arena
	open, err := s.isOpen(ctx, tx, &a, ino)
	if err != nil || open {
		return err
	}
	s.deleteInode(tx, &a, ino)
	return nil
}
