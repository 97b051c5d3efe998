package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func acquire(t *testing.T, e canaryEnv, configType, owner string, timeout time.Duration) bool {
	t.Helper()
	ok, err := e.Store.AcquireConfigLock(t.Context(), configType, owner, timeout)
	require.NoError(t, err)
	return ok
}

func requireOwner(t *testing.T, e canaryEnv, configType, want string) {
	t.Helper()
	owner, err := e.Store.GetConfigLockOwner(t.Context(), configType)
	require.NoError(t, err)
	require.Equal(t, want, owner, "owner of %q", configType)
	locked, err := e.Store.IsConfigLocked(t.Context(), configType)
	require.NoError(t, err)
	require.Equal(t, want != "", locked, "IsConfigLocked(%q) is true exactly when there is an owner", configType)
}

func release(t *testing.T, e canaryEnv, configType, owner string) bool {
	t.Helper()
	ok, err := e.Store.ReleaseConfigLock(t.Context(), configType, owner)
	require.NoError(t, err)
	return ok
}

func forceRelease(t *testing.T, e canaryEnv, configType string) bool {
	t.Helper()
	ok, err := e.Store.ForceReleaseConfigLock(t.Context(), configType)
	require.NoError(t, err)
	return ok
}

func extend(t *testing.T, e canaryEnv, configType, owner string, d time.Duration) bool {
	t.Helper()
	ok, err := e.Store.ExtendConfigLock(t.Context(), configType, owner, d)
	require.NoError(t, err)
	return ok
}

func lockAcquire(t *testing.T, e canaryEnv) {
	requireOwner(t, e, "cfg", "")
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	requireOwner(t, e, "cfg", "r1")
}

func lockNotReentrant(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	require.False(t, acquire(t, e, "cfg", "r1", ttlLong), "the owner acquiring again gets false")
	require.False(t, acquire(t, e, "cfg", "r1", 0), "the owner acquiring again gets false")
	require.False(t, acquire(t, e, "cfg", "r2", ttlLong), "someone else gets false")
	requireOwner(t, e, "cfg", "r1")
}

func lockReleaseOwner(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	require.True(t, release(t, e, "cfg", "r1"))
	requireOwner(t, e, "cfg", "")
	require.False(t, release(t, e, "cfg", "r1"), "releasing twice: the second is false")
	require.True(t, acquire(t, e, "cfg", "r2", ttlLong), "a released lock can be taken")
	requireOwner(t, e, "cfg", "r2")
}

func lockReleaseNonOwner(t *testing.T, e canaryEnv) {
	require.False(t, release(t, e, "cfg", "r1"), "releasing an unlocked type is false")
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	require.False(t, release(t, e, "cfg", "r2"), "release by a non-owner is false")
	require.False(t, release(t, e, "other", "r1"), "release of another type is false")
	requireOwner(t, e, "cfg", "r1")
}

func lockExpires(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	requireOwner(t, e, "cfg", "r1")
	e.Advance(past)
	requireOwner(t, e, "cfg", "")
}

func lockExpiredTaken(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	require.True(t, acquire(t, e, "same", "r1", ttlShort))
	e.Advance(past)
	require.True(t, acquire(t, e, "cfg", "r2", ttlLong), "an expired lock can be taken by someone else")
	requireOwner(t, e, "cfg", "r2")
	require.True(t, acquire(t, e, "same", "r1", ttlLong), "an expired lock can be taken by its former owner")
	requireOwner(t, e, "same", "r1")
}

func lockReleaseExpired(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	e.Advance(past)
	require.False(t, release(t, e, "cfg", "r1"), "releasing an expired lock is false")
	requireOwner(t, e, "cfg", "")
}

func lockForceRelease(t *testing.T, e canaryEnv) {
	require.False(t, forceRelease(t, e, "cfg"), "force release without a lock is false")
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	require.True(t, forceRelease(t, e, "cfg"))
	requireOwner(t, e, "cfg", "")
	require.False(t, forceRelease(t, e, "cfg"), "force release twice: the second is false")
	require.False(t, release(t, e, "cfg", "r1"), "the former owner's release is false")
	require.True(t, acquire(t, e, "cfg", "r2", ttlLong))
	requireOwner(t, e, "cfg", "r2")
}

func lockForceReleaseExpired(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	e.Advance(past)
	require.False(t, forceRelease(t, e, "cfg"), "force release of an expired lock is false")
}

func lockExtendNoAddUp(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", 3*time.Second))
	require.True(t, extend(t, e, "cfg", "r1", 3*time.Second)) // now + 3 s, not 6 s
	require.True(t, extend(t, e, "cfg", "r1", 3*time.Second))
	e.Advance(4 * time.Second)
	requireOwner(t, e, "cfg", "")
}

func lockExtendProlongs(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort)) // deadline 2 s
	require.True(t, extend(t, e, "cfg", "r1", 5*time.Second))
	e.Advance(past) // 3 s
	requireOwner(t, e, "cfg", "r1")
	e.Advance(past) // 6 s
	requireOwner(t, e, "cfg", "")
}

func lockExtendShortens(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlLong))
	require.True(t, acquire(t, e, "dflt", "r1", 0))
	require.True(t, extend(t, e, "cfg", "r1", ttlShort))
	require.True(t, extend(t, e, "dflt", "r1", ttlShort))
	e.Advance(past)
	requireOwner(t, e, "cfg", "")
	requireOwner(t, e, "dflt", "")
}

func lockExtendNonOwner(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	require.False(t, extend(t, e, "cfg", "r2", ttlLong), "a non-owner cannot extend")
	require.False(t, extend(t, e, "cfg", "r2", 0), "a non-owner cannot extend")
	requireOwner(t, e, "cfg", "r1")
	e.Advance(past)
	requireOwner(t, e, "cfg", "") // the deadline was untouched
}

func lockExtendNoLock(t *testing.T, e canaryEnv) {
	require.False(t, extend(t, e, "cfg", "r1", ttlLong))
	requireOwner(t, e, "cfg", "")
	require.True(t, acquire(t, e, "cfg", "r2", ttlLong), "a failed extend created no lock")
}

func lockExtendExpired(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	e.Advance(past)
	require.False(t, extend(t, e, "cfg", "r1", ttlLong), "an expired lock cannot be extended")
	requireOwner(t, e, "cfg", "")
}

func lockZeroTimeout(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", 0))
	e.Advance(past)
	requireOwner(t, e, "cfg", "r1") // 0 is 30 minutes, not "already expired"
}

func lockZeroExtension(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	require.True(t, extend(t, e, "cfg", "r1", 0))
	e.Advance(past)
	requireOwner(t, e, "cfg", "r1") // extended by 30 minutes
}

func lockTypesIndependent(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "t1", "r1", ttlLong))
	require.True(t, acquire(t, e, "t2", "r2", ttlLong))
	require.True(t, acquire(t, e, "t3", "r1", ttlShort))
	require.False(t, release(t, e, "t1", "r2"))
	require.True(t, release(t, e, "t1", "r1"))
	requireOwner(t, e, "t1", "")
	requireOwner(t, e, "t2", "r2")
	require.True(t, forceRelease(t, e, "t2"))
	requireOwner(t, e, "t3", "r1")
	e.Advance(past)
	requireOwner(t, e, "t3", "")
	require.True(t, acquire(t, e, "t4", "r4", ttlLong))
	requireOwner(t, e, "t4", "r4")
}

func lockConcurrentAcquire(t *testing.T, e canaryEnv) {
	const n = 16
	won := make([]bool, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		won[i], errs[i] = e.Store.AcquireConfigLock(t.Context(), "cfg", fmt.Sprintf("r%d", i), ttlLong)
	})
	winner := -1
	for i := range n {
		require.NoError(t, errs[i])
		if won[i] {
			require.Equal(t, -1, winner, "two acquirers won: r%d and r%d", winner, i)
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "nobody won the lock")
	requireOwner(t, e, "cfg", fmt.Sprintf("r%d", winner))
}

func lockInvalidIDs(t *testing.T, e canaryEnv) {
	ctx := t.Context()
	require.True(t, acquire(t, e, "held", "r1", ttlLong))
	for _, b := range badIDs() {
		_, err := e.Store.AcquireConfigLock(ctx, b.id, "r1", ttlLong)
		requireInvalid(t, err, "AcquireConfigLock with %s config type", b.what)
		_, err = e.Store.AcquireConfigLock(ctx, "cfg", b.id, ttlLong)
		requireInvalid(t, err, "AcquireConfigLock with %s rollout id", b.what)
		_, err = e.Store.ReleaseConfigLock(ctx, b.id, "r1")
		requireInvalid(t, err, "ReleaseConfigLock with %s config type", b.what)
		_, err = e.Store.ReleaseConfigLock(ctx, "held", b.id)
		requireInvalid(t, err, "ReleaseConfigLock with %s rollout id", b.what)
		_, err = e.Store.GetConfigLockOwner(ctx, b.id)
		requireInvalid(t, err, "GetConfigLockOwner with %s config type", b.what)
		_, err = e.Store.IsConfigLocked(ctx, b.id)
		requireInvalid(t, err, "IsConfigLocked with %s config type", b.what)
		_, err = e.Store.ForceReleaseConfigLock(ctx, b.id)
		requireInvalid(t, err, "ForceReleaseConfigLock with %s config type", b.what)
		_, err = e.Store.ExtendConfigLock(ctx, b.id, "r1", ttlLong)
		requireInvalid(t, err, "ExtendConfigLock with %s config type", b.what)
		_, err = e.Store.ExtendConfigLock(ctx, "held", b.id, ttlLong)
		requireInvalid(t, err, "ExtendConfigLock with %s rollout id", b.what)
	}
	requireOwner(t, e, "cfg", "")
	requireOwner(t, e, "held", "r1")
	for _, ct := range []string{"a", "b", "x", "y"} {
		requireOwner(t, e, ct, "")
	}
	require.Empty(t, findAll(t, e))
}

func lockNegativeTimeout(t *testing.T, e canaryEnv) {
	for _, d := range []time.Duration{-time.Nanosecond, -time.Second, -time.Hour} {
		_, err := e.Store.AcquireConfigLock(t.Context(), "cfg", "r1", d)
		requireInvalid(t, err, "timeout %v", d)
	}
	requireOwner(t, e, "cfg", "")
}

func lockNegativeExtension(t *testing.T, e canaryEnv) {
	require.True(t, acquire(t, e, "cfg", "r1", ttlShort))
	_, err := e.Store.ExtendConfigLock(t.Context(), "cfg", "r1", -time.Second)
	requireInvalid(t, err)
	_, err = e.Store.ExtendConfigLock(t.Context(), "free", "r1", -time.Second)
	requireInvalid(t, err)
	requireOwner(t, e, "cfg", "r1")
	requireOwner(t, e, "free", "")
	e.Advance(past)
	requireOwner(t, e, "cfg", "") // the deadline was untouched
}

func canaryCancelled(t *testing.T, e canaryEnv) {
	ctx := cancelled(t)
	s := e.Store
	_, err := s.SaveRollout(ctx, "r1", map[string]any{"version": 1}, ttlLong, nil)
	require.Error(t, err, "SaveRollout")
	_, err = s.GetRollout(ctx, "r1")
	require.Error(t, err, "GetRollout")
	require.Error(t, s.AddActive(ctx, "r1"), "AddActive")
	require.Error(t, s.RemoveActive(ctx, "r1"), "RemoveActive")
	_, err = s.GetActiveIDs(ctx)
	require.Error(t, err, "GetActiveIDs")
	_, err = s.FindCompleted(ctx, "*")
	require.Error(t, err, "FindCompleted")
	_, err = s.AcquireConfigLock(ctx, "cfg", "r1", ttlLong)
	require.Error(t, err, "AcquireConfigLock")
	_, err = s.GetConfigLockOwner(ctx, "cfg")
	require.Error(t, err, "GetConfigLockOwner")
	// Nothing was written.
	requireNoRollout(t, e, "r1")
	require.Empty(t, activeIDs(t, e))
	requireOwner(t, e, "cfg", "")
}
