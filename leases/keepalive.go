package leases

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// revokeTimeout bounds the revoke that Close and Held.Release send.
const revokeTimeout = 2 * time.Second

// Held is a lease the Manager keeps alive until Release or Manager.Close,
// like a session in etcd's concurrency package. Use it for things that must
// live exactly as long as the process that holds them (a fenced Lock).
type Held struct {
	m    *Manager
	id   clientv3.LeaseID
	ttl  int64
	stop context.CancelFunc
	done chan struct{} // closed when the keep-alive ends, for whatever reason

	once sync.Once
	err  error
}

// KeepAlive grants a lease of ttl (rounded up to whole seconds, at least
// MinTTL) and keeps it alive in a goroutine the Manager owns. Done is closed
// when the keep-alive stops: Release, Manager.Close, or the lease was lost
// (expired while the client could not reach etcd, or revoked by someone).
func (m *Manager) KeepAlive(ctx context.Context, ttl time.Duration) (*Held, error) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	secs := Seconds(ttl)
	resp, err := m.lease.Grant(ctx, secs)
	if err != nil {
		return nil, fmt.Errorf("leases: grant %d s: %w", secs, err)
	}
	kctx, stop := context.WithCancel(m.ctx)
	ch, err := m.lease.KeepAlive(kctx, resp.ID)
	if err != nil {
		stop()
		rctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
		defer cancel()
		_, _ = m.lease.Revoke(rctx, resp.ID)
		return nil, fmt.Errorf("leases: keep lease %x alive: %w", int64(resp.ID), err)
	}
	h := &Held{m: m, id: resp.ID, ttl: resp.TTL, stop: stop, done: make(chan struct{})}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		stop()
		for range ch {
		}
		close(h.done)
		_ = h.revoke()
		return nil, ErrClosed
	}
	m.held[h.id] = h
	m.wg.Add(1)
	m.mu.Unlock()

	go func() {
		defer m.wg.Done()
		defer close(h.done)
		for range ch { // drained until the client closes it: ctx cancelled or lease lost
		}
		m.log.Debug("keep-alive ended", zap.Int64("lease", int64(h.id)))
	}()
	return h, nil
}

// ID is the lease id.
func (h *Held) ID() clientv3.LeaseID { return h.id }

// TTL is the granted TTL in seconds.
func (h *Held) TTL() int64 { return h.ttl }

// Done is closed when the lease is no longer kept alive.
func (h *Held) Done() <-chan struct{} { return h.done }

// Release stops the keep-alive and revokes the lease, which deletes every key
// attached to it. Idempotent; the first call's error is returned every time.
func (h *Held) Release() error {
	h.stop()
	<-h.done
	return h.revoke()
}

func (h *Held) revoke() error {
	h.once.Do(func() {
		h.stop()
		h.m.mu.Lock()
		delete(h.m.held, h.id)
		h.m.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
		defer cancel()
		if _, err := h.m.lease.Revoke(ctx, h.id); err != nil && !IsLeaseNotFound(err) {
			h.err = fmt.Errorf("leases: revoke %x: %w", int64(h.id), err)
		}
	})
	return h.err
}
