package baldur_test

import (
	"context"
	"errors"
	"testing"

	"github.com/baldur-go/baldur"
)

// staticHealth answers CheckConnection from a fixed table; enough to test
// the HealthCheck helper, which only reads the default alias.
type staticHealth struct {
	info map[string]baldur.DatabaseConnectionInfo
	err  error
}

func (s staticHealth) CheckConnection(_ context.Context, alias string) (baldur.DatabaseConnectionInfo, error) {
	if s.err != nil {
		return baldur.DatabaseConnectionInfo{}, s.err
	}
	i, ok := s.info[alias]
	if !ok {
		return baldur.DatabaseConnectionInfo{}, baldur.ErrNotFound
	}
	return i, nil
}
func (staticHealth) ListAliases(context.Context) ([]string, error) { return nil, nil }
func (staticHealth) CloseAll(context.Context) error                { return nil }

func TestHealthCheck(t *testing.T) {
	ctx := context.Background()
	usable := staticHealth{info: map[string]baldur.DatabaseConnectionInfo{"default": {Alias: "default", IsUsable: true}}}
	unusable := staticHealth{info: map[string]baldur.DatabaseConnectionInfo{"default": {Alias: "default"}, "other": {IsUsable: true}}}
	if !baldur.HealthCheck(ctx, usable) {
		t.Error("usable default connection reported unhealthy")
	}
	if baldur.HealthCheck(ctx, unusable) {
		t.Error("unusable default connection reported healthy")
	}
	if baldur.HealthCheck(ctx, staticHealth{}) {
		t.Error("missing default alias reported healthy")
	}
	if baldur.HealthCheck(ctx, staticHealth{err: errors.New("unreachable")}) {
		t.Error("failing check reported healthy")
	}
}
