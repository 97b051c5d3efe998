package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

type chaosEnv = Env[baldur.ChaosExperimentStore]

func chaosCases() []testCase[baldur.ChaosExperimentStore] {
	return []testCase[baldur.ChaosExperimentStore]{
		{"Get_AbsentIsNotFound", chaosGetAbsent},
		{"Save_RoundTrip", chaosRoundTrip},
		{"Save_OverwritesWholeRecord", chaosOverwrite},
		{"Save_ResetsTTL", chaosResetsTTL},
		{"Save_Expires", chaosExpires},
		{"Delete_RemovesAndIsIdempotent", chaosDelete},
		{"Delete_ThenSaveAgain", chaosDeleteThenSave},
		{"FindActive_StatusExactlyActive", chaosFindActiveExact},
		{"FindActive_SortedByID", chaosFindActiveSorted},
		{"FindActive_SkipsExpired", chaosFindActiveExpired},
		{"FindActive_EmptyStore", chaosFindActiveEmpty},
		{"Get_ReturnsCopy", chaosReturnsCopy},
		{"Save_DoesNotKeepCallersRecord", chaosInputNotRetained},
		{"Save_ConcurrentDistinctIDs", chaosConcurrent},
		{"InvalidIDWritesNothing", chaosInvalidID},
		{"InvalidRecordWritesNothing", chaosInvalidRecord},
		{"NonPositiveTTLWritesNothing", chaosBadTTL},
		{"MaxLengthIDAccepted", chaosMaxLengthID},
		{"CancelledContextIsError", chaosCancelled},
	}
}

func chaosSave(t *testing.T, e chaosEnv, id string, r baldur.Record, ttl time.Duration) {
	t.Helper()
	require.NoError(t, e.Store.Save(t.Context(), id, r, ttl), "Save(%q)", id)
}

func chaosGet(t *testing.T, e chaosEnv, id string) baldur.Record {
	t.Helper()
	r, err := e.Store.Get(t.Context(), id)
	require.NoError(t, err, "Get(%q)", id)
	return r
}

func chaosRequireAbsent(t *testing.T, e chaosEnv, id string) {
	t.Helper()
	_, err := e.Store.Get(t.Context(), id)
	requireNotFound(t, err, "Get(%q)", id)
}

func chaosActive(t *testing.T, e chaosEnv) []baldur.Record {
	t.Helper()
	rs, err := e.Store.FindActive(t.Context())
	require.NoError(t, err)
	return rs
}

func chaosGetAbsent(t *testing.T, e chaosEnv) {
	chaosRequireAbsent(t, e, "never-saved")
}

func chaosRoundTrip(t *testing.T, e chaosEnv) {
	in, want := sample("e1")
	chaosSave(t, e, "e1", in, ttlLong)
	require.Equal(t, want, chaosGet(t, e, "e1"))
}

func chaosOverwrite(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "e1", baldur.Record{"status": "active", "a": 1}, ttlLong)
	chaosSave(t, e, "e1", baldur.Record{"status": "completed"}, ttlLong)
	require.Equal(t, baldur.Record{"status": "completed"}, chaosGet(t, e, "e1"))
	require.Empty(t, chaosActive(t, e))
}

func chaosResetsTTL(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "e1", baldur.Record{"n": 1}, 3*time.Second)
	e.Advance(2 * time.Second)
	chaosSave(t, e, "e1", baldur.Record{"n": 2}, 3*time.Second)
	e.Advance(2 * time.Second) // 1 s past the first deadline, 1 s before the second
	require.Equal(t, baldur.Record{"n": int64(2)}, chaosGet(t, e, "e1"))
	e.Advance(2 * time.Second)
	chaosRequireAbsent(t, e, "e1")
}

func chaosExpires(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "short", baldur.Record{"id": "short", "status": "active"}, ttlShort)
	chaosSave(t, e, "long", baldur.Record{"id": "long", "status": "active"}, ttlLong)
	chaosGet(t, e, "short")
	e.Advance(past)
	chaosRequireAbsent(t, e, "short")
	require.Equal(t, []string{"long"}, ids(chaosActive(t, e)))
}

func chaosDelete(t *testing.T, e chaosEnv) {
	require.NoError(t, e.Store.Delete(t.Context(), "absent"), "deleting an absent experiment is not an error")
	chaosSave(t, e, "e1", baldur.Record{"id": "e1", "status": "active"}, ttlLong)
	chaosSave(t, e, "e2", baldur.Record{"id": "e2", "status": "active"}, ttlLong)
	require.NoError(t, e.Store.Delete(t.Context(), "e1"))
	chaosRequireAbsent(t, e, "e1")
	require.NoError(t, e.Store.Delete(t.Context(), "e1"))
	require.Equal(t, []string{"e2"}, ids(chaosActive(t, e)))
	chaosGet(t, e, "e2")
}

func chaosDeleteThenSave(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "e1", baldur.Record{"n": 1}, ttlShort)
	require.NoError(t, e.Store.Delete(t.Context(), "e1"))
	chaosSave(t, e, "e1", baldur.Record{"n": 2}, ttlLong)
	e.Advance(past) // the first TTL must not take the second record with it
	require.Equal(t, baldur.Record{"n": int64(2)}, chaosGet(t, e, "e1"))
}

func chaosFindActiveExact(t *testing.T, e chaosEnv) {
	statuses := map[string]any{
		"e01": "active",
		"e02": "ACTIVE",
		"e03": "Active",
		"e04": " active",
		"e05": "active ",
		"e06": "completed",
		"e07": "inactive",
		"e08": true,
		"e09": nil,
		"e10": []any{"active"},
		"e11": map[string]any{"status": "active"},
		"e12": "active",
	}
	for id, st := range statuses {
		chaosSave(t, e, id, baldur.Record{"id": id, "status": st}, ttlLong)
	}
	chaosSave(t, e, "e13", baldur.Record{"id": "e13"}, ttlLong)
	chaosSave(t, e, "e14", baldur.Record{"id": "e14", "nested": map[string]any{"status": "active"}}, ttlLong)
	require.Equal(t, []string{"e01", "e12"}, ids(chaosActive(t, e)))
}

func chaosFindActiveSorted(t *testing.T, e chaosEnv) {
	order := []string{"m", "b", "z", "a", "B", "b2"}
	for _, id := range order {
		chaosSave(t, e, id, baldur.Record{"id": id, "status": "active", "tag": id + "!"}, ttlLong)
	}
	rs := chaosActive(t, e)
	require.Equal(t, []string{"B", "a", "b", "b2", "m", "z"}, ids(rs))
	for _, r := range rs {
		require.Equal(t, r["id"].(string)+"!", r["tag"], "each record is whole")
	}
}

func chaosFindActiveExpired(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "a", baldur.Record{"id": "a", "status": "active"}, ttlShort)
	chaosSave(t, e, "b", baldur.Record{"id": "b", "status": "active"}, ttlLong)
	require.Equal(t, []string{"a", "b"}, ids(chaosActive(t, e)))
	e.Advance(past)
	require.Equal(t, []string{"b"}, ids(chaosActive(t, e)), "expiry comes from the TTL alone")
}

func chaosFindActiveEmpty(t *testing.T, e chaosEnv) {
	require.Empty(t, chaosActive(t, e))
	chaosSave(t, e, "done", baldur.Record{"status": "completed"}, ttlLong)
	require.Empty(t, chaosActive(t, e))
}

func chaosReturnsCopy(t *testing.T, e chaosEnv) {
	in, want := sample("e1")
	in["status"] = "active"
	want["status"] = "active"
	chaosSave(t, e, "e1", in, ttlLong)
	mutate(chaosGet(t, e, "e1"))
	require.Equal(t, want, chaosGet(t, e, "e1"))
	rs := chaosActive(t, e)
	require.Len(t, rs, 1)
	mutate(rs[0])
	rs[0]["status"] = "mutated"
	require.Equal(t, []baldur.Record{want}, chaosActive(t, e))
}

func chaosInputNotRetained(t *testing.T, e chaosEnv) {
	in, want := sample("e1")
	chaosSave(t, e, "e1", in, ttlLong)
	mutate(in)
	require.Equal(t, want, chaosGet(t, e, "e1"))
}

func chaosConcurrent(t *testing.T, e chaosEnv) {
	const n = 16
	errs := make([]error, n)
	concurrently(n, func(i int) {
		id := fmt.Sprintf("e%02d", i)
		errs[i] = e.Store.Save(t.Context(), id, baldur.Record{"id": id, "status": "active"}, ttlLong)
	})
	var want []string
	for i, err := range errs {
		require.NoError(t, err)
		want = append(want, fmt.Sprintf("e%02d", i))
	}
	require.Equal(t, want, ids(chaosActive(t, e)))
}

func chaosInvalidID(t *testing.T, e chaosEnv) {
	for _, b := range badIDs() {
		requireInvalid(t, e.Store.Save(t.Context(), b.id, baldur.Record{"status": "active"}, ttlLong), "Save with %s id", b.what)
		_, err := e.Store.Get(t.Context(), b.id)
		requireInvalid(t, err, "Get with %s id", b.what)
		requireInvalid(t, e.Store.Delete(t.Context(), b.id), "Delete with %s id", b.what)
	}
	require.Empty(t, chaosActive(t, e), "nothing was written")
	for _, id := range []string{"a", "b", "x", "y"} {
		chaosRequireAbsent(t, e, id)
	}
}

func chaosInvalidRecord(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "kept", baldur.Record{"status": "active", "v": "original"}, ttlLong)
	for _, b := range badRecords() {
		requireInvalid(t, e.Store.Save(t.Context(), "fresh", b.rec, ttlLong), "Save of %s", b.what)
		requireInvalid(t, e.Store.Save(t.Context(), "kept", b.rec, ttlLong), "Save of %s over a record", b.what)
	}
	chaosRequireAbsent(t, e, "fresh")
	require.Equal(t, baldur.Record{"status": "active", "v": "original"}, chaosGet(t, e, "kept"))
}

func chaosBadTTL(t *testing.T, e chaosEnv) {
	chaosSave(t, e, "kept", baldur.Record{"v": "original"}, ttlLong)
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		requireInvalid(t, e.Store.Save(t.Context(), "fresh", baldur.Record{"v": 1}, ttl), "ttl %v", ttl)
		requireInvalid(t, e.Store.Save(t.Context(), "kept", baldur.Record{"v": "lost"}, ttl), "ttl %v", ttl)
	}
	chaosRequireAbsent(t, e, "fresh")
	require.Equal(t, baldur.Record{"v": "original"}, chaosGet(t, e, "kept"))
}

func chaosMaxLengthID(t *testing.T, e chaosEnv) {
	id := longID("e-")
	chaosSave(t, e, id, baldur.Record{"id": id, "status": "active"}, ttlLong)
	require.Equal(t, baldur.Record{"id": id, "status": "active"}, chaosGet(t, e, id))
	require.Equal(t, []string{id}, ids(chaosActive(t, e)))
}

func chaosCancelled(t *testing.T, e chaosEnv) {
	ctx := cancelled(t)
	require.Error(t, e.Store.Save(ctx, "e1", baldur.Record{"status": "active"}, ttlLong), "Save")
	_, err := e.Store.Get(ctx, "e1")
	require.Error(t, err, "Get")
	require.Error(t, e.Store.Delete(ctx, "e1"), "Delete")
	_, err = e.Store.FindActive(ctx)
	require.Error(t, err, "FindActive")
	chaosRequireAbsent(t, e, "e1")
	require.Empty(t, chaosActive(t, e))
}
