package meta

// TEMPORARY: the API of issue 8 while it is being built. Every method
// returns ENOSYS; the session helper replaces this file.

import (
	"context"
	"syscall"
)

// Session is a client's lease on the filesystem.
type Session struct{ id uint64 }

// ID is the session's id.
func (se *Session) ID() uint64 { return se.id }

// WithSession returns a context whose operations (Open, locks) run in se.
func WithSession(ctx context.Context, se *Session) context.Context { return ctx }

func (s *Store) NewSession(ctx context.Context, o SessionOptions) (*Session, error) {
	return nil, syscall.ENOSYS
}
func (se *Session) Renew(ctx context.Context) error { return syscall.ENOSYS }
func (se *Session) Close(ctx context.Context) error { return syscall.ENOSYS }
func (s *Store) ExpireSessions(ctx context.Context) (int, error) {
	return 0, syscall.ENOSYS
}
func (s *Store) Shutdown(ctx context.Context) error { return nil }
func (s *Store) Flock(ctx context.Context, h Handle, owner uint64, typ LockType, wait bool) error {
	return syscall.ENOSYS
}
func (s *Store) SetLk(ctx context.Context, h Handle, lk Lock, wait bool) error {
	return syscall.ENOSYS
}
func (s *Store) GetLk(ctx context.Context, h Handle, lk Lock) (Lock, error) {
	return Lock{}, syscall.ENOSYS
}
func (s *Store) SetXattr(ctx context.Context, c Cred, ino uint64, name string, value []byte, flags int) error {
	return syscall.ENOSYS
}
func (s *Store) GetXattr(ctx context.Context, c Cred, ino uint64, name string) ([]byte, error) {
	return nil, syscall.ENOSYS
}
func (s *Store) ListXattr(ctx context.Context, c Cred, ino uint64) ([]string, error) {
	return nil, syscall.ENOSYS
}
func (s *Store) RemoveXattr(ctx context.Context, c Cred, ino uint64, name string) error {
	return syscall.ENOSYS
}
