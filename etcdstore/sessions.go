package etcdstore

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
)

// Sessions keeps user sessions under sessions/{user}/{session}, each under a
// shared lease for its TTL, and invalidates them per user. It implements
// baldur.SessionInvalidationProvider.
type Sessions struct{ s *Store }

var _ baldur.SessionInvalidationProvider = (*Sessions)(nil)

const kindSession = "session"

// Register stores a session of user with its data for ttl (at least 2 s,
// see package leases). Registering an existing session overwrites it and
// resets its TTL.
func (p *Sessions) Register(ctx context.Context, user, session string, data baldur.Record, ttl time.Duration) error {
	s := p.s
	if err := s.check(); err != nil {
		return err
	}
	if err := validateSession(user, session); err != nil {
		return err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return err
	}
	if data == nil {
		data = baldur.Record{}
	}
	val, err := baldur.EncodeRecord(data)
	if err != nil {
		return err
	}
	if _, err := s.putLeased(ctx, s.keys.Session(user, session), val, ttl); err != nil {
		return wrapErr(err, "register", kindSession, user+"/"+session, len(val))
	}
	return nil
}

// Get returns a session's data, or baldur.ErrNotFound when absent or
// expired.
func (p *Sessions) Get(ctx context.Context, user, session string) (baldur.Record, error) {
	s := p.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := validateSession(user, session); err != nil {
		return nil, err
	}
	r, _, err := s.getRecord(ctx, kindSession, user+"/"+session, s.keys.Session(user, session))
	return r, err
}

// Delete removes one session; idempotent.
func (p *Sessions) Delete(ctx context.Context, user, session string) error {
	s := p.s
	if err := s.check(); err != nil {
		return err
	}
	if err := validateSession(user, session); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.keys.Session(user, session)); err != nil {
		return wrapErr(err, "delete", kindSession, user+"/"+session, 0)
	}
	return nil
}

// InvalidateUserSessions removes every session of userID in one transaction
// (a range delete over the user's prefix) and returns
// ["etcd_sessions(N)"], N being the number of sessions removed.
func (p *Sessions) InvalidateUserSessions(ctx context.Context, userID string) ([]string, error) {
	s := p.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID("user id", userID); err != nil {
		return nil, err
	}
	resp, err := s.cli.Txn(ctx).
		Then(clientv3.OpDelete(s.keys.Sessions(userID), clientv3.WithPrefix())).
		Commit()
	if err != nil {
		return nil, wrapErr(err, "invalidate sessions of", "user", userID, 0)
	}
	n := resp.Responses[0].GetResponseDeleteRange().Deleted
	return []string{fmt.Sprintf("etcd_sessions(%d)", n)}, nil
}

// GetActiveSessionCount counts userID's unexpired sessions with a
// count-only range read (no values travel).
func (p *Sessions) GetActiveSessionCount(ctx context.Context, userID string) (int, error) {
	s := p.s
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := baldur.ValidateID("user id", userID); err != nil {
		return 0, err
	}
	resp, err := s.cli.Get(ctx, s.keys.Sessions(userID), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, wrapErr(err, "count sessions of", "user", userID, 0)
	}
	return int(resp.Count), nil
}

func validateSession(user, session string) error {
	if err := baldur.ValidateID("user id", user); err != nil {
		return err
	}
	return baldur.ValidateID("session id", session)
}
