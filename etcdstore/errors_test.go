package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
	"github.com/baldur-go/baldur/internal/etcdtest"
)

// Records over etcd's request limit come back as ErrTooLarge naming the id
// and the size: between the server's 1.5 MiB and the client's 2 MiB the
// server refuses ("request is too large"); above 2 MiB gRPC does.
func TestTooLargeRecord(t *testing.T) {
	s := newStore(t, nil)
	ctx := t.Context()
	for _, size := range []int{1600 << 10, 3 << 20} {
		rec := baldur.Record{"blob": strings.Repeat("x", size)}
		ok, err := s.Canary().SaveRollout(ctx, "big-rollout", rec, time.Minute, nil)
		require.False(t, ok)
		require.True(t, errors.Is(err, baldur.ErrTooLarge), "size %d: got %v", size, err)
		require.Contains(t, err.Error(), `"big-rollout"`)
		require.Contains(t, err.Error(), fmt.Sprintf("(%d bytes)", size+len(`{"blob":""}`)))

		err = s.Chaos().Save(ctx, "big-exp", rec, time.Minute)
		require.True(t, errors.Is(err, baldur.ErrTooLarge), "got %v", err)
		require.Contains(t, err.Error(), `"big-exp"`)
		err = s.CrossCluster().SavePolicy(ctx, "big-policy", rec)
		require.True(t, errors.Is(err, baldur.ErrTooLarge), "got %v", err)
		require.Contains(t, err.Error(), `"big-policy"`)
	}
	_, err := s.Canary().GetRollout(ctx, "big-rollout")
	require.True(t, errors.Is(err, baldur.ErrNotFound), "nothing was written: %v", err)
}

// A member with a tiny backend quota raises the NOSPACE alarm; writes then
// fail with ErrQuotaExceeded naming the id.
func TestQuotaExceeded(t *testing.T) {
	m := etcdtest.NewMember(t, etcdtest.WithConfig(func(c *embedetcd.Config) {
		c.Configure = func(ec *embed.Config) { ec.QuotaBackendBytes = 2 << 20 }
	}))
	s := newStore(t, m.Client)
	ctx := t.Context()

	blob := strings.Repeat("q", 700<<10)
	var last error
	for i := 0; i < 20; i++ {
		last = s.CrossCluster().SavePolicy(ctx, fmt.Sprintf("p%d", i), baldur.Record{"blob": blob})
		if last != nil {
			break
		}
	}
	require.Error(t, last, "a 2 MiB quota cannot take 20 records of 700 KiB")
	require.True(t, errors.Is(last, baldur.ErrQuotaExceeded), "got %v", last)
	require.Contains(t, last.Error(), `policy "p`)

	ok, err := s.Canary().AcquireConfigLock(ctx, "cfg", "r1", time.Minute)
	require.False(t, ok)
	require.True(t, errors.Is(err, baldur.ErrQuotaExceeded), "every write is refused: %v", err)
	_, err = s.CrossCluster().ListPolicies(ctx)
	require.NoError(t, err, "reads still work")
}

// A write whose outcome is unknown (no answer in time) is an error, never
// false.
func TestUnreachableIsAnErrorNotFalse(t *testing.T) {
	port, err := embedetcd.FreePort()
	require.NoError(t, err)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{fmt.Sprintf("http://127.0.0.1:%d", port)},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	require.NoError(t, err)
	defer cli.Close()
	s := newStore(t, cli)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	ok, err := s.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Minute, nil)
	require.Error(t, err)
	require.False(t, ok)
	ok, err = s.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Minute, ptr(0))
	require.Error(t, err)
	require.False(t, ok)
	ok, err = s.Canary().AcquireConfigLock(ctx, "cfg", "r1", time.Minute)
	require.Error(t, err)
	require.False(t, ok)
	ok, err = s.Canary().ReleaseConfigLock(ctx, "cfg", "r1")
	require.Error(t, err)
	require.False(t, ok)
	ok, err = s.Canary().ExtendConfigLock(ctx, "cfg", "r1", time.Minute)
	require.Error(t, err)
	require.False(t, ok)
	_, err = s.ConfigHistory().NextVersion(ctx, "cfg")
	require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
}

func TestCancelledContext(t *testing.T) {
	s := newStore(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Canary().SaveRollout(ctx, "r1", baldur.Record{}, time.Minute, nil)
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	_, err = s.Canary().GetRollout(ctx, "r1")
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestNewChecksOptions(t *testing.T) {
	cli := newClient(t)
	_, err := etcdstore.New(nil)
	require.True(t, errors.Is(err, baldur.ErrInvalidArgument))
	for _, o := range []etcdstore.Option{
		etcdstore.WithPrefix(""),
		etcdstore.WithPrefix("baldur/"),
		etcdstore.WithLogger(nil),
		etcdstore.WithHealthTimeout(0),
		etcdstore.WithRevisionCache(0),
	} {
		_, err := etcdstore.New(cli, o)
		require.True(t, errors.Is(err, baldur.ErrInvalidArgument), "got %v", err)
	}
	s, err := etcdstore.New(cli, etcdstore.WithPrefix("/app"))
	require.NoError(t, err)
	require.Equal(t, "/app/", s.Keys().Prefix())
	require.NoError(t, s.Close())
	s, err = etcdstore.New(cli)
	require.NoError(t, err)
	require.Equal(t, etcdstore.DefaultPrefix, s.Keys().Prefix())
	require.NoError(t, s.Close())
}

func TestClosed(t *testing.T) {
	cli := newClient(t)
	s, err := etcdstore.New(cli, etcdstore.WithPrefix(etcdtest.Prefix(t)))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	ctx := t.Context()
	_, err = s.Canary().GetRollout(ctx, "r1")
	require.True(t, errors.Is(err, baldur.ErrClosed), "got %v", err)
	err = s.Chaos().Save(ctx, "e1", baldur.Record{}, time.Minute)
	require.True(t, errors.Is(err, baldur.ErrClosed), "got %v", err)
	_, err = s.ConfigHistory().NextVersion(ctx, "cfg")
	require.True(t, errors.Is(err, baldur.ErrClosed), "got %v", err)
	_, err = s.CrossCluster().ListPolicies(ctx)
	require.True(t, errors.Is(err, baldur.ErrClosed), "got %v", err)
	_, err = s.Sessions().GetActiveSessionCount(ctx, "u")
	require.True(t, errors.Is(err, baldur.ErrClosed), "got %v", err)
	info, err := s.Health().CheckConnection(ctx, "default")
	require.NoError(t, err)
	require.False(t, info.IsUsable, "a closed Store is not usable")
	_, err = cli.Get(ctx, "/x")
	require.NoError(t, err, "Close leaves a borrowed client open")
}

// Close does not revoke record leases: records outlive the process.
func TestCloseKeepsRecords(t *testing.T) {
	cli := newClient(t)
	prefix := etcdtest.Prefix(t)
	s, err := etcdstore.New(cli, etcdstore.WithPrefix(prefix))
	require.NoError(t, err)
	require.NoError(t, s.Chaos().Save(t.Context(), "e1", baldur.Record{"status": "active"}, time.Minute))
	require.NoError(t, s.Close())
	s2 := newStoreAt(t, cli, prefix)
	r, err := s2.Chaos().Get(t.Context(), "e1")
	require.NoError(t, err)
	require.Equal(t, "active", r["status"])
}
