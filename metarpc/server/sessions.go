package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
)

// sessions is the table of remote clients' sessions. The store keeps the
// session records; the table maps a client's id to its *meta.Session and
// remembers the last keepalive, so that a client that stops renewing is
// dropped when its lease runs out.
type sessions struct {
	store *meta.Store
	lease time.Duration
	log   *slog.Logger
	m     *metrics

	mu   sync.Mutex
	byID map[uint64]*remote
}

type remote struct {
	se      *meta.Session
	renewed time.Time
}

func newSessions(store *meta.Store, lease time.Duration, log *slog.Logger, m *metrics) *sessions {
	return &sessions{store: store, lease: lease, log: log, m: m, byID: map[uint64]*remote{}}
}

func (t *sessions) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// open registers a new session.
func (t *sessions) open(ctx context.Context, desc string) (uint64, error) {
	se, err := t.store.NewSession(ctx, meta.SessionOptions{NoRenew: true, Lease: t.lease, Description: desc})
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	t.byID[se.ID()] = &remote{se: se, renewed: time.Now()}
	t.mu.Unlock()
	return se.ID(), nil
}

// get returns the session id names; ok is false for an unknown one.
func (t *sessions) get(id uint64) (*meta.Session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byID[id]
	if !ok {
		return nil, false
	}
	return r.se, true
}

// context runs ctx in session id; ok is false for an unknown session.
func (t *sessions) context(ctx context.Context, id uint64) (context.Context, bool) {
	se, ok := t.get(id)
	if !ok {
		return ctx, false
	}
	return meta.WithSession(ctx, se), true
}

// renew extends session id's lease.
func (t *sessions) renew(ctx context.Context, id uint64) (bool, error) {
	se, ok := t.get(id)
	if !ok {
		return false, nil
	}
	if err := se.Renew(ctx); err != nil {
		if errors.Is(err, wire.ErrSessionExpired) {
			if t.drop(id) != nil {
				t.m.expired.Inc()
			}
			return false, nil
		}
		return true, err
	}
	t.mu.Lock()
	if r, ok := t.byID[id]; ok {
		r.renewed = time.Now()
	}
	t.mu.Unlock()
	return true, nil
}

func (t *sessions) drop(id uint64) *meta.Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byID[id]
	if !ok {
		return nil
	}
	delete(t.byID, id)
	return r.se
}

// end closes session id, releasing its handles and locks.
func (t *sessions) end(ctx context.Context, id uint64) (bool, error) {
	se := t.drop(id)
	if se == nil {
		return false, nil
	}
	return true, se.Close(ctx)
}

// sweep drops sessions whose lease ran out without a keepalive and lets
// the store expire the session records whose lease passed (its own and
// other servers' clients alike).
func (t *sessions) sweep(ctx context.Context) {
	now := time.Now()
	t.mu.Lock()
	dropped := 0
	for id, r := range t.byID {
		if now.Sub(r.renewed) > t.lease {
			delete(t.byID, id)
			dropped++
			t.log.Info("session expired", "session", id)
		}
	}
	t.mu.Unlock()
	t.m.expired.Add(float64(dropped))
	n, err := t.store.ExpireSessions(ctx)
	switch {
	case err != nil:
		t.log.Warn("expire sessions", "err", err)
	case n > 0:
		t.log.Info("expired store sessions", "count", n)
		t.m.reaped.Add(float64(n))
	}
}

// run sweeps every lease/3 until ctx is done.
func (t *sessions) run(ctx context.Context) {
	tick := time.NewTicker(max(t.lease/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.sweep(ctx)
		}
	}
}

// closeAll ends every session: nobody can renew them once the server is
// gone.
func (t *sessions) closeAll(ctx context.Context) {
	t.mu.Lock()
	all := t.byID
	t.byID = map[uint64]*remote{}
	t.mu.Unlock()
	for id, r := range all {
		if err := r.se.Close(ctx); err != nil {
			t.log.Warn("close session", "session", id, "err", err)
		}
	}
}
