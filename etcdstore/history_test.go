package etcdstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

func TestNextVersionIsOneRequest(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	for want := int64(1); want <= 3; want++ {
		c.take()
		v, err := s.ConfigHistory().NextVersion(t.Context(), "cfg")
		require.NoError(t, err)
		require.Equal(t, want, v)
		require.Equal(t, map[string]int{"put": 1}, c.take())
	}
}

func TestSaveVersionIsOneRequestForOneWriter(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	h := s.ConfigHistory()
	ctx := t.Context()
	for i := 1; i <= 5; i++ {
		c.take()
		require.NoError(t, h.SaveVersion(ctx, "cfg", baldur.Record{"version": i}, 3))
		require.Equal(t, map[string]int{"txn": 1}, c.take(), "save %d", i)
	}
	hist, err := h.GetHistory(ctx, "cfg", 0)
	require.NoError(t, err)
	require.Equal(t, []baldur.Record{{"version": int64(5)}, {"version": int64(4)}, {"version": int64(3)}}, hist)

	// Another writer's save costs this one a retry, decided from the Else
	// branch: two transactions, no read.
	o := newStoreAt(t, cli, s.Keys().Prefix())
	require.NoError(t, o.ConfigHistory().SaveVersion(ctx, "cfg", baldur.Record{"version": 6}, 3))
	c.take()
	require.NoError(t, h.SaveVersion(ctx, "cfg", baldur.Record{"version": 7}, 3))
	require.Equal(t, map[string]int{"txn": 2}, c.take())
	hist, err = h.GetHistory(ctx, "cfg", 0)
	require.NoError(t, err)
	require.Equal(t, []baldur.Record{{"version": int64(7)}, {"version": int64(6)}, {"version": int64(5)}}, hist)
	cur, err := h.GetCurrent(ctx, "cfg")
	require.NoError(t, err)
	require.Equal(t, hist[0], cur)
}

// A history that outgrows etcd's request limit fails with ErrTooLarge naming
// the type and the size, and the stored history is untouched.
func TestSaveVersionTooLarge(t *testing.T) {
	s := newStore(t, nil)
	h := s.ConfigHistory()
	ctx := t.Context()
	big := strings.Repeat("x", 600<<10) // 600 KiB a version: the third one is over 1.5 MiB
	var err error
	saved := 0
	for i := 0; i < 5 && err == nil; i++ {
		err = h.SaveVersion(ctx, "huge", baldur.Record{"version": i, "blob": big}, 0)
		if err == nil {
			saved++
		}
	}
	require.Error(t, err)
	require.True(t, errors.Is(err, baldur.ErrTooLarge), "got %v", err)
	require.Contains(t, err.Error(), `"huge"`)
	require.Contains(t, err.Error(), "bytes")
	n, err := h.GetVersionCount(ctx, "huge")
	require.NoError(t, err)
	require.Equal(t, saved, n, "the failed save wrote nothing")
	// With a bound on the entries it fits again.
	require.NoError(t, h.SaveVersion(ctx, "huge", baldur.Record{"version": 9, "blob": big}, 1))
	n, err = h.GetVersionCount(ctx, "huge")
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
