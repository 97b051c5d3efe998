package crosscluster

import (
	"context"
	"testing"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func etcdService(t *testing.T, c *testCluster) *Service {
	t.Helper()
	st, err := etcdstore.New(c.Client, etcdstore.WithPrefix(testPrefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	s, err := NewService(st.CrossCluster(), c.name)
	require.NoError(t, err)
	return s
}

// The whole path over the etcd stores: a policy saved in east governs west;
// a request created in east is approved and applied in west, and east sees
// the outcome.
func TestEndToEnd_ServiceOverEtcdStores(t *testing.T) {
	cs := clusters(t, "east", "west", "central")
	mesh(t, cs)
	east, west, central := etcdService(t, cs[0]), etcdService(t, cs[1]), etcdService(t, cs[2])
	ctx := context.Background()

	require.NoError(t, east.SavePolicy(ctx, Policy{ID: "retry-limits", ConfigType: "retry", Version: 1,
		Rules: []Rule{{Field: "max_attempts", Max: ptr(10.0)}}}))
	for _, s := range []*Service{west, central} {
		waitFor(t, wait, "policy at "+s.LocalCluster(), func() bool {
			ok, _, err := s.ValidateConfig(ctx, "retry", map[string]any{"max_attempts": 11})
			return err == nil && !ok
		})
	}

	_, err := east.CreateRequests(ctx, "chg", []string{"west", "central"}, change)
	require.NoError(t, err)
	waitFor(t, wait, "pending in west", func() bool {
		ids, err := west.PendingIDs(ctx, "west")
		return err == nil && len(ids) == 1 && ids[0] == "chg-west"
	})
	applied := false
	rec, err := west.Approve(ctx, "chg-west", "bob", func(context.Context, baldur.Record) error {
		applied = true
		return nil
	})
	require.NoError(t, err)
	assert.True(t, applied)
	assert.Equal(t, StatusApplied, rec["status"])
	for _, s := range []*Service{east, central} {
		waitFor(t, wait, "applied at "+s.LocalCluster(), func() bool {
			r, err := s.GetRequest(ctx, "chg-west")
			return err == nil && r["status"] == StatusApplied
		})
		waitFor(t, wait, "west's pending set empty at "+s.LocalCluster(), func() bool {
			ids, err := s.PendingIDs(ctx, "west")
			return err == nil && len(ids) == 0
		})
	}

	_, err = central.Reject(ctx, "chg-central", "carol", "not now")
	require.NoError(t, err)
	waitFor(t, wait, "rejection at east", func() bool {
		r, err := east.GetRequest(ctx, "chg-central")
		return err == nil && r["status"] == StatusRejected && r["reject_reason"] == "not now"
	})
	_, err = east.Approve(ctx, "chg-central", "mallory", nil)
	require.ErrorIs(t, err, ErrNotPending)
}
