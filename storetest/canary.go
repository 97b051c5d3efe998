package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

type canaryEnv = Env[baldur.CanaryRolloutStore]

func ptr(v int64) *int64 { return &v }

func canaryCases() []testCase[baldur.CanaryRolloutStore] {
	return []testCase[baldur.CanaryRolloutStore]{
		// Rollout records.
		{"GetRollout_AbsentIsNotFound", canaryGetAbsent},
		{"SaveRollout_RoundTrip", canaryRoundTrip},
		{"SaveRollout_ReplacesWholeRecord", canaryReplacesWhole},
		{"SaveRollout_UnconditionalResetsTTL", canaryUnconditionalResetsTTL},
		{"SaveRollout_Expires", canaryExpires},
		{"SaveRollout_ExpectedVersionMatchWrites", canaryCASMatch},
		{"SaveRollout_ExpectedVersionMismatchWritesNothing", canaryCASMismatch},
		{"SaveRollout_ExpectedVersionOnAbsentIsFalse", canaryCASAbsent},
		{"SaveRollout_ExpectedVersionOnExpiredIsFalse", canaryCASExpired},
		{"SaveRollout_ExpectedVersionResetsTTL", canaryCASResetsTTL},
		{"SaveRollout_MissingVersionCountsAsZero", canaryMissingVersion},
		{"SaveRollout_NullVersionCountsAsZero", canaryNullVersion},
		{"SaveRollout_VersionComparedByValue", canaryVersionByValue},
		{"SaveRollout_NonIntegerVersionMatchesNothing", canaryNonIntegerVersion},
		{"SaveRollout_StoreNeverChangesVersion", canaryStoreKeepsVersion},
		{"SaveRollout_ConcurrentSameVersionOneWins", canaryConcurrentCAS},
		{"SaveRollout_ConcurrentDistinctIDs", canaryConcurrentDistinct},
		{"SaveRollout_InvalidIDWritesNothing", canaryInvalidID},
		{"SaveRollout_InvalidRecordWritesNothing", canaryInvalidRecord},
		{"SaveRollout_NonPositiveTTLWritesNothing", canaryBadTTL},
		{"SaveRollout_MaxLengthIDAccepted", canaryMaxLengthID},
		{"SaveRollout_UnusualValidIDs", canaryUnusualIDs},
		{"GetRollout_ReturnsCopy", canaryReturnsCopy},
		{"SaveRollout_DoesNotKeepCallersRecord", canaryInputNotRetained},
		// Active set.
		{"Active_EmptyInitially", canaryActiveEmpty},
		{"Active_SortedAndIdempotent", canaryActiveSorted},
		{"Active_RemoveKeepsRollout", canaryActiveRemoveKeepsRollout},
		{"Active_NotPrunedOnExpiry", canaryActiveNotPruned},
		{"Active_InvalidIDWritesNothing", canaryActiveInvalid},
		// FindCompleted.
		{"FindCompleted_MatchesGlobSorted", canaryFindGlob},
		{"FindCompleted_AnyState", canaryFindAnyState},
		{"FindCompleted_NeverReturnsLocksOrActive", canaryFindNoLocks},
		{"FindCompleted_SkipsExpired", canaryFindSkipsExpired},
		{"FindCompleted_InvalidPattern", canaryFindBadPattern},
		{"FindCompleted_ReturnsCopies", canaryFindCopies},
		// Config locks.
		{"Lock_AcquireSetsOwner", lockAcquire},
		{"Lock_NotReentrant", lockNotReentrant},
		{"Lock_ReleaseByOwner", lockReleaseOwner},
		{"Lock_ReleaseByNonOwnerIsFalse", lockReleaseNonOwner},
		{"Lock_Expires", lockExpires},
		{"Lock_ExpiredCanBeTakenByAnyone", lockExpiredTaken},
		{"Lock_ReleaseExpiredIsFalse", lockReleaseExpired},
		{"Lock_ForceReleaseLiveLock", lockForceRelease},
		{"Lock_ForceReleaseExpiredIsFalse", lockForceReleaseExpired},
		{"Lock_ExtendResetsNeverAddsUp", lockExtendNoAddUp},
		{"Lock_ExtendProlongs", lockExtendProlongs},
		{"Lock_ExtendMayShorten", lockExtendShortens},
		{"Lock_ExtendByNonOwnerIsFalse", lockExtendNonOwner},
		{"Lock_ExtendWithoutLockIsFalse", lockExtendNoLock},
		{"Lock_ExtendExpiredIsFalse", lockExtendExpired},
		{"Lock_ZeroTimeoutIsDefault", lockZeroTimeout},
		{"Lock_ZeroExtensionIsDefault", lockZeroExtension},
		{"Lock_TypesIndependent", lockTypesIndependent},
		{"Lock_ConcurrentAcquireOneWins", lockConcurrentAcquire},
		{"Lock_InvalidIDsLockNothing", lockInvalidIDs},
		{"Lock_NegativeTimeoutLocksNothing", lockNegativeTimeout},
		{"Lock_NegativeExtensionChangesNothing", lockNegativeExtension},
		{"Canary_CancelledContextIsError", canaryCancelled},
	}
}

func saveRollout(t *testing.T, e canaryEnv, id string, r baldur.Record, ttl time.Duration) {
	t.Helper()
	ok, err := e.Store.SaveRollout(t.Context(), id, r, ttl, nil)
	require.NoError(t, err)
	require.True(t, ok, "an unconditional SaveRollout returns true")
}

func getRollout(t *testing.T, e canaryEnv, id string) baldur.Record {
	t.Helper()
	r, err := e.Store.GetRollout(t.Context(), id)
	require.NoError(t, err, "GetRollout(%q)", id)
	return r
}

func requireNoRollout(t *testing.T, e canaryEnv, id string) {
	t.Helper()
	_, err := e.Store.GetRollout(t.Context(), id)
	requireNotFound(t, err, "GetRollout(%q)", id)
}

func findAll(t *testing.T, e canaryEnv) []baldur.Record {
	t.Helper()
	rs, err := e.Store.FindCompleted(t.Context(), "*")
	require.NoError(t, err)
	return rs
}

func ids(rs []baldur.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s, _ := r["id"].(string)
		out = append(out, s)
	}
	return out
}

func canaryGetAbsent(t *testing.T, e canaryEnv) {
	requireNoRollout(t, e, "never-saved")
}

func canaryRoundTrip(t *testing.T, e canaryEnv) {
	in, want := sample("r1")
	saveRollout(t, e, "r1", in, ttlLong)
	require.Equal(t, want, getRollout(t, e, "r1"))
	saveRollout(t, e, "empty", baldur.Record{}, ttlLong)
	require.Equal(t, baldur.Record{}, getRollout(t, e, "empty"))
}

func canaryReplacesWhole(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 1, "a": 1, "b": 2}, ttlLong)
	saveRollout(t, e, "r1", baldur.Record{"a": 3}, ttlLong)
	require.Equal(t, baldur.Record{"a": int64(3)}, getRollout(t, e, "r1"), "a save replaces the whole record, it does not merge")
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 1, "c": 4}, ttlLong, ptr(0))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, baldur.Record{"version": int64(1), "c": int64(4)}, getRollout(t, e, "r1"))
}

func canaryUnconditionalResetsTTL(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"n": 1}, 3*time.Second) // deadline 3 s
	e.Advance(2 * time.Second)
	saveRollout(t, e, "r1", baldur.Record{"n": 2}, 3*time.Second) // deadline 5 s
	e.Advance(2 * time.Second)                                    // at 4 s: 1 s past the first deadline
	require.Equal(t, baldur.Record{"n": int64(2)}, getRollout(t, e, "r1"), "the second save reset the TTL")
	e.Advance(2 * time.Second) // at 6 s: 1 s past the second deadline
	requireNoRollout(t, e, "r1")
}

func canaryExpires(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "short", baldur.Record{"id": "short"}, ttlShort)
	saveRollout(t, e, "long", baldur.Record{"id": "long"}, ttlLong)
	getRollout(t, e, "short")
	e.Advance(past)
	requireNoRollout(t, e, "short")
	require.Equal(t, []string{"long"}, ids(findAll(t, e)))
}

func canaryCASMatch(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 1, "state": "a"}, ttlLong)
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 2, "state": "b"}, ttlLong, ptr(1))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, baldur.Record{"version": int64(2), "state": "b"}, getRollout(t, e, "r1"))
	ok, err = e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 3, "state": "c"}, ttlLong, ptr(2))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, baldur.Record{"version": int64(3), "state": "c"}, getRollout(t, e, "r1"))
}

func canaryCASMismatch(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 5, "state": "kept"}, ttlLong)
	for _, exp := range []int64{0, 4, 6, -5, 1 << 40} {
		ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 6, "state": "lost"}, ttlLong, ptr(exp))
		require.NoError(t, err, "a version conflict is not an error")
		require.False(t, ok, "expected version %d against stored 5", exp)
	}
	require.Equal(t, baldur.Record{"version": int64(5), "state": "kept"}, getRollout(t, e, "r1"))
}

func canaryCASAbsent(t *testing.T, e canaryEnv) {
	for _, exp := range []int64{0, 1} {
		ok, err := e.Store.SaveRollout(t.Context(), "absent", baldur.Record{"version": 1}, ttlLong, ptr(exp))
		require.NoError(t, err)
		require.False(t, ok, "a conditional save of an absent record (expected %d) is false", exp)
		requireNoRollout(t, e, "absent")
	}
	require.Empty(t, findAll(t, e))
}

func canaryCASExpired(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 1}, ttlShort)
	e.Advance(past)
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 2}, ttlLong, ptr(1))
	require.NoError(t, err)
	require.False(t, ok, "a conditional save of an expired record is false")
	requireNoRollout(t, e, "r1")
}

func canaryCASResetsTTL(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 1}, ttlShort) // deadline 2 s
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 2}, 5*time.Second, ptr(1))
	require.NoError(t, err)
	require.True(t, ok) // deadline 5 s
	e.Advance(past)     // at 3 s
	require.Equal(t, baldur.Record{"version": int64(2)}, getRollout(t, e, "r1"), "the conditional save reset the TTL")
	e.Advance(past) // at 6 s
	requireNoRollout(t, e, "r1")
}

func canaryMissingVersion(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"state": "no version"}, ttlLong)
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 2}, ttlLong, ptr(1))
	require.NoError(t, err)
	require.False(t, ok, "a record without version is version 0, not 1")
	require.Equal(t, baldur.Record{"state": "no version"}, getRollout(t, e, "r1"))
	ok, err = e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 1}, ttlLong, ptr(0))
	require.NoError(t, err)
	require.True(t, ok, "a record without version matches expected version 0")
	require.Equal(t, baldur.Record{"version": int64(1)}, getRollout(t, e, "r1"))
}

func canaryNullVersion(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": nil}, ttlLong)
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 9}, ttlLong, ptr(1))
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 1}, ttlLong, ptr(0))
	require.NoError(t, err)
	require.True(t, ok, "a null version matches expected version 0")
}

func canaryVersionByValue(t *testing.T, e canaryEnv) {
	forms := []any{3, int64(3), int32(3), uint8(3), float64(3), float32(3), json.Number("3"), json.Number("3.0")}
	for i, v := range forms {
		id := fmt.Sprintf("r%d", i)
		saveRollout(t, e, id, baldur.Record{"version": v}, ttlLong)
		ok, err := e.Store.SaveRollout(t.Context(), id, baldur.Record{"version": 4}, ttlLong, ptr(2))
		require.NoError(t, err)
		require.False(t, ok, "version %T(%v) is not 2", v, v)
		ok, err = e.Store.SaveRollout(t.Context(), id, baldur.Record{"version": v, "round": 2}, ttlLong, ptr(3))
		require.NoError(t, err)
		require.True(t, ok, "version %T(%v) is 3", v, v)
		ok, err = e.Store.SaveRollout(t.Context(), id, baldur.Record{"version": 4}, ttlLong, ptr(3))
		require.NoError(t, err)
		require.True(t, ok, "version %T(%v) written back is still 3", v, v)
		require.Equal(t, baldur.Record{"version": int64(4)}, getRollout(t, e, id))
	}
}

func canaryNonIntegerVersion(t *testing.T, e canaryEnv) {
	for i, v := range []any{3.5, "3", true, map[string]any{"v": 3}, []any{3}} {
		id := fmt.Sprintf("r%d", i)
		saveRollout(t, e, id, baldur.Record{"version": v}, ttlLong)
		for _, exp := range []int64{0, 3, 4} {
			ok, err := e.Store.SaveRollout(t.Context(), id, baldur.Record{"version": 9}, ttlLong, ptr(exp))
			require.NoError(t, err)
			require.False(t, ok, "version %#v must not match %d", v, exp)
		}
	}
}

func canaryStoreKeepsVersion(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"version": 7}, ttlLong)
	ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": 7, "x": 1}, ttlLong, ptr(7))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, baldur.Record{"version": int64(7), "x": int64(1)}, getRollout(t, e, "r1"), "the store does not bump the version")
	ok, err = e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"x": 2}, ttlLong, ptr(7))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, baldur.Record{"x": int64(2)}, getRollout(t, e, "r1"), "the store does not add a version")
}

func canaryConcurrentCAS(t *testing.T, e canaryEnv) {
	const writers, rounds = 16, 4
	saveRollout(t, e, "r1", baldur.Record{"version": 1}, ttlLong)
	for round := int64(1); round <= rounds; round++ {
		var wins atomic.Int32
		winner := make([]bool, writers)
		errs := make([]error, writers)
		concurrently(writers, func(i int) {
			ok, err := e.Store.SaveRollout(t.Context(), "r1", baldur.Record{"version": round + 1, "writer": i}, ttlLong, ptr(round))
			errs[i] = err
			if ok {
				winner[i] = true
				wins.Add(1)
			}
		})
		for i, err := range errs {
			require.NoError(t, err, "writer %d", i)
		}
		require.EqualValues(t, 1, wins.Load(), "round %d: exactly one of %d saves with the same expected version wins", round, writers)
		got := getRollout(t, e, "r1")
		require.Equal(t, round+1, got["version"])
		w, _ := baldur.AsInt64(got["writer"])
		require.True(t, winner[w], "the stored record is the winner's (writer %d)", w)
	}
}

func canaryConcurrentDistinct(t *testing.T, e canaryEnv) {
	const n = 16
	errs := make([]error, n)
	concurrently(n, func(i int) {
		_, errs[i] = e.Store.SaveRollout(t.Context(), fmt.Sprintf("r%02d", i), baldur.Record{"id": fmt.Sprintf("r%02d", i)}, ttlLong, nil)
	})
	var want []string
	for i, err := range errs {
		require.NoError(t, err)
		want = append(want, fmt.Sprintf("r%02d", i))
	}
	require.Equal(t, want, ids(findAll(t, e)))
}

func canaryInvalidID(t *testing.T, e canaryEnv) {
	for _, b := range badIDs() {
		ok, err := e.Store.SaveRollout(t.Context(), b.id, baldur.Record{"version": 1}, ttlLong, nil)
		requireInvalid(t, err, "SaveRollout with %s id", b.what)
		require.False(t, ok)
		_, err = e.Store.SaveRollout(t.Context(), b.id, baldur.Record{"version": 1}, ttlLong, ptr(0))
		requireInvalid(t, err, "conditional SaveRollout with %s id", b.what)
		_, err = e.Store.GetRollout(t.Context(), b.id)
		requireInvalid(t, err, "GetRollout with %s id", b.what)
	}
	require.Empty(t, findAll(t, e), "nothing was written")
	for _, id := range []string{"a", "b", "x", "y"} {
		requireNoRollout(t, e, id)
	}
}

func canaryInvalidRecord(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "kept", baldur.Record{"version": 1, "v": "original"}, ttlLong)
	for _, b := range badRecords() {
		ok, err := e.Store.SaveRollout(t.Context(), "fresh", b.rec, ttlLong, nil)
		requireInvalid(t, err, "SaveRollout of %s", b.what)
		require.False(t, ok)
		_, err = e.Store.SaveRollout(t.Context(), "kept", b.rec, ttlLong, nil)
		requireInvalid(t, err, "SaveRollout of %s over a record", b.what)
		_, err = e.Store.SaveRollout(t.Context(), "kept", b.rec, ttlLong, ptr(1))
		requireInvalid(t, err, "conditional SaveRollout of %s", b.what)
	}
	requireNoRollout(t, e, "fresh")
	require.Equal(t, baldur.Record{"version": int64(1), "v": "original"}, getRollout(t, e, "kept"))
}

func canaryBadTTL(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "kept", baldur.Record{"v": "original"}, ttlLong)
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		_, err := e.Store.SaveRollout(t.Context(), "fresh", baldur.Record{"v": 1}, ttl, nil)
		requireInvalid(t, err, "ttl %v", ttl)
		_, err = e.Store.SaveRollout(t.Context(), "kept", baldur.Record{"v": "lost"}, ttl, nil)
		requireInvalid(t, err, "ttl %v", ttl)
		_, err = e.Store.SaveRollout(t.Context(), "kept", baldur.Record{"v": "lost"}, ttl, ptr(0))
		requireInvalid(t, err, "ttl %v", ttl)
	}
	requireNoRollout(t, e, "fresh")
	require.Equal(t, baldur.Record{"v": "original"}, getRollout(t, e, "kept"))
}

func canaryMaxLengthID(t *testing.T, e canaryEnv) {
	id := longID("r-")
	require.Len(t, id, baldur.MaxIDLength)
	saveRollout(t, e, id, baldur.Record{"id": id}, ttlLong)
	require.Equal(t, baldur.Record{"id": id}, getRollout(t, e, id))
	require.Equal(t, []string{id}, ids(findAll(t, e)))
	rs, err := e.Store.FindCompleted(t.Context(), "r-*")
	require.NoError(t, err)
	require.Equal(t, []string{id}, ids(rs))
}

// unusualIDs are valid ids that a backend mapping ids to keys, paths or
// URLs might mangle.
func unusualIDs() []string {
	return []string{"a b", ".", "..", "*", "[x]", "?", "a\\b", "%2F", "a:b", "日本", "e\u0301", "-", "_", "~", "a%", "a+b", "#"}
}

func canaryUnusualIDs(t *testing.T, e canaryEnv) {
	want := unusualIDs()
	for _, id := range want {
		saveRollout(t, e, id, baldur.Record{"id": id}, ttlLong)
		require.NoError(t, e.Store.AddActive(t.Context(), id))
	}
	for _, id := range want {
		require.Equal(t, baldur.Record{"id": id}, getRollout(t, e, id), "id %q", id)
	}
	slices.Sort(want)
	require.Equal(t, want, ids(findAll(t, e)), "ids sort by bytes")
	require.Equal(t, want, activeIDs(t, e))
	rs, err := e.Store.FindCompleted(t.Context(), "\\*")
	require.NoError(t, err)
	require.Equal(t, []string{"*"}, ids(rs), "an escaped '*' matches only itself")
}

func canaryReturnsCopy(t *testing.T, e canaryEnv) {
	in, want := sample("r1")
	saveRollout(t, e, "r1", in, ttlLong)
	mutate(getRollout(t, e, "r1"))
	require.Equal(t, want, getRollout(t, e, "r1"), "mutating a returned record changed the store")
}

func canaryInputNotRetained(t *testing.T, e canaryEnv) {
	in, want := sample("r1")
	saveRollout(t, e, "r1", in, ttlLong)
	mutate(in)
	require.Equal(t, want, getRollout(t, e, "r1"), "mutating the saved record after SaveRollout changed the store")
}

func activeIDs(t *testing.T, e canaryEnv) []string {
	t.Helper()
	got, err := e.Store.GetActiveIDs(t.Context())
	require.NoError(t, err)
	return got
}

func canaryActiveEmpty(t *testing.T, e canaryEnv) {
	require.Empty(t, activeIDs(t, e))
	require.NoError(t, e.Store.RemoveActive(t.Context(), "absent"), "removing an absent id is not an error")
	require.Empty(t, activeIDs(t, e))
}

func canaryActiveSorted(t *testing.T, e canaryEnv) {
	for _, id := range []string{"c", "a", "b", "a", "c", "B"} {
		require.NoError(t, e.Store.AddActive(t.Context(), id))
	}
	require.Equal(t, []string{"B", "a", "b", "c"}, activeIDs(t, e))
	require.NoError(t, e.Store.RemoveActive(t.Context(), "b"))
	require.NoError(t, e.Store.RemoveActive(t.Context(), "b"))
	require.NoError(t, e.Store.RemoveActive(t.Context(), "zzz"))
	require.Equal(t, []string{"B", "a", "c"}, activeIDs(t, e))
	require.Empty(t, findAll(t, e), "the active set holds ids, not rollouts")
}

func canaryActiveRemoveKeepsRollout(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"id": "r1"}, ttlLong)
	require.NoError(t, e.Store.AddActive(t.Context(), "r1"))
	require.Equal(t, []string{"r1"}, activeIDs(t, e))
	require.NoError(t, e.Store.RemoveActive(t.Context(), "r1"))
	require.Empty(t, activeIDs(t, e))
	require.Equal(t, baldur.Record{"id": "r1"}, getRollout(t, e, "r1"))
}

func canaryActiveNotPruned(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "r1", baldur.Record{"id": "r1"}, ttlShort)
	require.NoError(t, e.Store.AddActive(t.Context(), "r1"))
	require.NoError(t, e.Store.AddActive(t.Context(), "no-record"))
	e.Advance(past)
	requireNoRollout(t, e, "r1")
	require.Equal(t, []string{"no-record", "r1"}, activeIDs(t, e), "the active set has no TTL and is not pruned")
}

func canaryActiveInvalid(t *testing.T, e canaryEnv) {
	require.NoError(t, e.Store.AddActive(t.Context(), "kept"))
	for _, b := range badIDs() {
		requireInvalid(t, e.Store.AddActive(t.Context(), b.id), "AddActive with %s id", b.what)
		requireInvalid(t, e.Store.RemoveActive(t.Context(), b.id), "RemoveActive with %s id", b.what)
	}
	require.Equal(t, []string{"kept"}, activeIDs(t, e))
}

func canaryFindGlob(t *testing.T, e canaryEnv) {
	for _, id := range []string{"b-2", "a-1", "b-1", "c", "b-10", "ab"} {
		saveRollout(t, e, id, baldur.Record{"id": id}, ttlLong)
	}
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"a-1", "ab", "b-1", "b-10", "b-2", "c"}},
		{"b-*", []string{"b-1", "b-10", "b-2"}},
		{"b-?", []string{"b-1", "b-2"}},
		{"?", []string{"c"}},
		{"[ab]-1", []string{"a-1", "b-1"}},
		{"[^b]*", []string{"a-1", "ab", "c"}},
		{"a*", []string{"a-1", "ab"}},
		{"c", []string{"c"}},
		{"zzz*", []string{}},
		{"b", []string{}},
	} {
		rs, err := e.Store.FindCompleted(t.Context(), tc.pattern)
		require.NoError(t, err, "pattern %q", tc.pattern)
		require.Equal(t, tc.want, ids(rs), "pattern %q", tc.pattern)
	}
}

func canaryFindAnyState(t *testing.T, e canaryEnv) {
	states := map[string]any{"r1": "running", "r2": "completed", "r3": "failed", "r4": "rolled_back", "r5": nil}
	for id, st := range states {
		saveRollout(t, e, id, baldur.Record{"id": id, "state": st}, ttlLong)
	}
	rs := findAll(t, e)
	require.Equal(t, []string{"r1", "r2", "r3", "r4", "r5"}, ids(rs))
	for _, r := range rs {
		require.Equal(t, states[r["id"].(string)], r["state"])
	}
}

func canaryFindNoLocks(t *testing.T, e canaryEnv) {
	ok, err := e.Store.AcquireConfigLock(t.Context(), "alpha", "gamma", ttlLong)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, e.Store.AddActive(t.Context(), "beta"))
	require.NoError(t, e.Store.AddActive(t.Context(), "gamma"))
	require.Empty(t, findAll(t, e), "locks and the active set are not rollouts")
	saveRollout(t, e, "gamma", baldur.Record{"id": "gamma"}, ttlLong)
	require.Equal(t, []string{"gamma"}, ids(findAll(t, e)))
	rs, err := e.Store.FindCompleted(t.Context(), "alpha")
	require.NoError(t, err)
	require.Empty(t, rs)
}

func canaryFindSkipsExpired(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "a", baldur.Record{"id": "a"}, ttlShort)
	saveRollout(t, e, "b", baldur.Record{"id": "b"}, ttlLong)
	saveRollout(t, e, "c", baldur.Record{"id": "c"}, ttlShort)
	require.Equal(t, []string{"a", "b", "c"}, ids(findAll(t, e)))
	e.Advance(past)
	require.Equal(t, []string{"b"}, ids(findAll(t, e)))
}

func canaryFindBadPattern(t *testing.T, e canaryEnv) {
	saveRollout(t, e, "a", baldur.Record{"id": "a"}, ttlLong)
	for _, p := range []string{"", "[", "a[", "[a-", "\\"} {
		_, err := e.Store.FindCompleted(t.Context(), p)
		requireInvalid(t, err, "pattern %q", p)
	}
}

func canaryFindCopies(t *testing.T, e canaryEnv) {
	in, want := sample("r1")
	saveRollout(t, e, "r1", in, ttlLong)
	rs := findAll(t, e)
	require.Len(t, rs, 1)
	mutate(rs[0])
	require.Equal(t, []baldur.Record{want}, findAll(t, e))
	require.Equal(t, want, getRollout(t, e, "r1"))
}
