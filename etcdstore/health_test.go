package etcdstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

func TestHealthUsable(t *testing.T) {
	s := newStore(t, nil)
	h := s.Health()
	var _ baldur.DatabaseHealthProvider = h
	ctx := t.Context()
	aliases, err := h.ListAliases(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"default"}, aliases)

	info, err := h.CheckConnection(ctx, "default")
	require.NoError(t, err)
	require.Equal(t, "default", info.Alias)
	require.Equal(t, "etcd", info.Vendor)
	require.True(t, info.IsUsable, "metadata: %v", info.Metadata)
	for _, k := range []string{"member_id", "leader", "raft_term", "raft_index", "db_size", "version"} {
		require.Contains(t, info.Metadata, k)
	}
	require.Equal(t, info.Metadata["member_id"], info.Metadata["leader"], "a single member leads itself")
	require.Equal(t, fmt.Sprintf("%x", uint64(member.Etcd().Server.MemberID())), info.Metadata["member_id"])
	require.Positive(t, info.Metadata["raft_index"])
	require.True(t, baldur.HealthCheck(ctx, h))

	_, err = h.CheckConnection(ctx, "replica")
	require.True(t, errors.Is(err, baldur.ErrNotFound), "got %v", err)
}

func TestHealthUnusableEndpoint(t *testing.T) {
	port, err := embedetcd.FreePort() // nobody listens there
	require.NoError(t, err)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{fmt.Sprintf("http://127.0.0.1:%d", port)},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	require.NoError(t, err)
	defer cli.Close()
	s := newStore(t, cli, etcdstore.WithHealthTimeout(500*time.Millisecond))
	start := time.Now()
	info, err := s.Health().CheckConnection(t.Context(), "default")
	require.NoError(t, err, "an unusable connection is a result, not an error")
	require.False(t, info.IsUsable)
	require.Contains(t, info.Metadata, "error")
	require.Less(t, time.Since(start), 5*time.Second, "the check is bounded by the health timeout")
	require.False(t, baldur.HealthCheck(t.Context(), s.Health()))
}

// CloseAll closes the client only when the Store owns it.
func TestHealthCloseAll(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	require.NoError(t, s.Health().CloseAll(t.Context()))
	_, err := cli.Get(t.Context(), "/x")
	require.NoError(t, err, "a borrowed client stays open")

	owned, err := clientv3.New(clientv3.Config{Endpoints: member.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	s2 := newStore(t, owned, etcdstore.WithOwnClient())
	require.NoError(t, s2.Health().CloseAll(t.Context()))
	_, err = owned.Get(t.Context(), "/x")
	require.Error(t, err, "an owned client is closed")
	require.NoError(t, s2.Close(), "closing the Store after CloseAll is fine")
}
