package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

type crossEnv = Env[baldur.CrossClusterStore]

func crossClusterCases() []testCase[baldur.CrossClusterStore] {
	return []testCase[baldur.CrossClusterStore]{
		{"GetRequest_AbsentIsNotFound", crossGetAbsent},
		{"SaveRequest_RoundTrip", crossRequestRoundTrip},
		{"SaveRequest_Overwrites", crossRequestOverwrite},
		{"SaveRequest_ResetsTTL", crossRequestResetsTTL},
		{"SaveRequest_Expires", crossRequestExpires},
		{"SaveRequest_NonPositiveTTLWritesNothing", crossBadTTL},
		{"Pending_SortedAndIdempotent", crossPendingSorted},
		{"Pending_PerClusterIndependent", crossPendingPerCluster},
		{"Pending_UnknownClusterIsEmpty", crossPendingUnknown},
		{"Pending_NoTTL", crossPendingNoTTL},
		{"Pending_RemoveKeepsRequest", crossPendingKeepsRequest},
		{"Pending_ConcurrentAdds", crossPendingConcurrent},
		{"Pending_UnusualValidIDs", crossPendingUnusual},
		{"Policy_SaveGetOverwrite", crossPolicy},
		{"Policy_AbsentIsNotFound", crossPolicyAbsent},
		{"Policy_NoTTL", crossPolicyNoTTL},
		{"ListPolicies_SortedByID", crossListPolicies},
		{"ListPolicies_EmptyStore", crossListEmpty},
		{"RequestsAndPoliciesSeparate", crossSeparate},
		{"ReturnsCopies", crossReturnsCopies},
		{"DoesNotKeepCallersRecord", crossInputNotRetained},
		{"InvalidIDWritesNothing", crossInvalidID},
		{"InvalidRecordWritesNothing", crossInvalidRecord},
		{"MaxLengthIDsAccepted", crossMaxLength},
		{"CancelledContextIsError", crossCancelled},
	}
}

// request is a propagation request as the sync agent writes it.
func request(base, source, target string) (in, out baldur.Record) {
	id := base + "-" + target
	change := func(limit any) map[string]any {
		return map[string]any{
			"config_type":    "rate_limits",
			"previous_value": map[string]any{"limit": 10},
			"new_value":      map[string]any{"limit": limit},
			"changed_by":     "alice",
			"changed_at":     1700000000.25,
			"rollout_id":     "r-1",
			"reason":         "load test",
		}
	}
	in = baldur.Record{
		"request_id": id, "id": id, "source_cluster": source, "target_cluster": target,
		"config_change": change(20), "status": "pending_approval",
		"created_at": 1700000000.25, "expires_at": 1700086400.25,
		"approved_by": nil, "approved_at": nil, "rejected_by": nil, "rejected_at": nil, "reject_reason": nil,
	}
	out = baldur.Record{
		"request_id": id, "id": id, "source_cluster": source, "target_cluster": target,
		"config_change": change(int64(20)), "status": "pending_approval",
		"created_at": 1700000000.25, "expires_at": 1700086400.25,
		"approved_by": nil, "approved_at": nil, "rejected_by": nil, "rejected_at": nil, "reject_reason": nil,
	}
	out["config_change"].(map[string]any)["previous_value"] = map[string]any{"limit": int64(10)}
	return in, out
}

func policy(id string) baldur.Record {
	return baldur.Record{
		"policy_id": id, "id": id, "config_type": "rate_limits",
		"rules":   []any{map[string]any{"field": "limit", "min": int64(1), "max": int64(100)}},
		"version": int64(1), "created_by": "bob", "created_at": 1700000000.25,
	}
}

func saveRequest(t *testing.T, e crossEnv, id string, r baldur.Record, ttl time.Duration) {
	t.Helper()
	require.NoError(t, e.Store.SaveRequest(t.Context(), id, r, ttl), "SaveRequest(%q)", id)
}

func getRequest(t *testing.T, e crossEnv, id string) baldur.Record {
	t.Helper()
	r, err := e.Store.GetRequest(t.Context(), id)
	require.NoError(t, err, "GetRequest(%q)", id)
	return r
}

func requireNoRequest(t *testing.T, e crossEnv, id string) {
	t.Helper()
	_, err := e.Store.GetRequest(t.Context(), id)
	requireNotFound(t, err, "GetRequest(%q)", id)
}

func pendingIDs(t *testing.T, e crossEnv, cluster string) []string {
	t.Helper()
	got, err := e.Store.GetPendingIDs(t.Context(), cluster)
	require.NoError(t, err)
	return got
}

func savePolicy(t *testing.T, e crossEnv, id string, r baldur.Record) {
	t.Helper()
	require.NoError(t, e.Store.SavePolicy(t.Context(), id, r), "SavePolicy(%q)", id)
}

func getPolicy(t *testing.T, e crossEnv, id string) baldur.Record {
	t.Helper()
	r, err := e.Store.GetPolicy(t.Context(), id)
	require.NoError(t, err, "GetPolicy(%q)", id)
	return r
}

func listPolicies(t *testing.T, e crossEnv) []baldur.Record {
	t.Helper()
	rs, err := e.Store.ListPolicies(t.Context())
	require.NoError(t, err)
	return rs
}

func crossGetAbsent(t *testing.T, e crossEnv) {
	requireNoRequest(t, e, "never-saved")
}

func crossRequestRoundTrip(t *testing.T, e crossEnv) {
	in, want := request("chg1", "eu", "us")
	saveRequest(t, e, "chg1-us", in, ttlLong)
	require.Equal(t, want, getRequest(t, e, "chg1-us"))
}

func crossRequestOverwrite(t *testing.T, e crossEnv) {
	in, _ := request("chg1", "eu", "us")
	saveRequest(t, e, "chg1-us", in, ttlLong)
	saveRequest(t, e, "chg1-us", baldur.Record{"status": "approved"}, ttlLong)
	require.Equal(t, baldur.Record{"status": "approved"}, getRequest(t, e, "chg1-us"))
}

func crossRequestResetsTTL(t *testing.T, e crossEnv) {
	saveRequest(t, e, "q", baldur.Record{"n": 1}, 3*time.Second)
	e.Advance(2 * time.Second)
	saveRequest(t, e, "q", baldur.Record{"n": 2}, 3*time.Second)
	e.Advance(2 * time.Second)
	require.Equal(t, baldur.Record{"n": int64(2)}, getRequest(t, e, "q"))
	e.Advance(2 * time.Second)
	requireNoRequest(t, e, "q")
}

func crossRequestExpires(t *testing.T, e crossEnv) {
	saveRequest(t, e, "short", baldur.Record{"n": 1}, ttlShort)
	saveRequest(t, e, "long", baldur.Record{"n": 2}, ttlLong)
	getRequest(t, e, "short")
	e.Advance(past)
	requireNoRequest(t, e, "short")
	require.Equal(t, baldur.Record{"n": int64(2)}, getRequest(t, e, "long"))
}

func crossBadTTL(t *testing.T, e crossEnv) {
	saveRequest(t, e, "kept", baldur.Record{"v": "original"}, ttlLong)
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		requireInvalid(t, e.Store.SaveRequest(t.Context(), "fresh", baldur.Record{"v": 1}, ttl), "ttl %v", ttl)
		requireInvalid(t, e.Store.SaveRequest(t.Context(), "kept", baldur.Record{"v": "lost"}, ttl), "ttl %v", ttl)
	}
	requireNoRequest(t, e, "fresh")
	require.Equal(t, baldur.Record{"v": "original"}, getRequest(t, e, "kept"))
}

func crossPendingSorted(t *testing.T, e crossEnv) {
	for _, id := range []string{"c-us", "a-us", "b-us", "a-us", "C-us"} {
		require.NoError(t, e.Store.AddPending(t.Context(), "us", id))
	}
	require.Equal(t, []string{"C-us", "a-us", "b-us", "c-us"}, pendingIDs(t, e, "us"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "us", "b-us"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "us", "b-us"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "us", "never"))
	require.Equal(t, []string{"C-us", "a-us", "c-us"}, pendingIDs(t, e, "us"))
	for _, id := range []string{"C-us", "a-us", "c-us"} {
		require.NoError(t, e.Store.RemovePending(t.Context(), "us", id))
	}
	require.Empty(t, pendingIDs(t, e, "us"))
	require.NoError(t, e.Store.AddPending(t.Context(), "us", "again"))
	require.Equal(t, []string{"again"}, pendingIDs(t, e, "us"))
}

func crossPendingPerCluster(t *testing.T, e crossEnv) {
	require.NoError(t, e.Store.AddPending(t.Context(), "us", "x"))
	require.NoError(t, e.Store.AddPending(t.Context(), "eu", "y"))
	require.NoError(t, e.Store.AddPending(t.Context(), "eu", "x"))
	require.NoError(t, e.Store.AddPending(t.Context(), "us-east", "z"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "eu", "x"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "ap", "x"))
	require.Equal(t, []string{"x"}, pendingIDs(t, e, "us"))
	require.Equal(t, []string{"y"}, pendingIDs(t, e, "eu"))
	require.Equal(t, []string{"z"}, pendingIDs(t, e, "us-east"))
	require.Empty(t, pendingIDs(t, e, "ap"))
	require.Empty(t, pendingIDs(t, e, "u"))
}

func crossPendingUnknown(t *testing.T, e crossEnv) {
	require.Empty(t, pendingIDs(t, e, "nowhere"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "nowhere", "x"))
	require.Empty(t, pendingIDs(t, e, "nowhere"))
}

func crossPendingNoTTL(t *testing.T, e crossEnv) {
	saveRequest(t, e, "q-us", baldur.Record{"n": 1}, ttlShort)
	require.NoError(t, e.Store.AddPending(t.Context(), "us", "q-us"))
	e.Advance(past)
	requireNoRequest(t, e, "q-us")
	require.Equal(t, []string{"q-us"}, pendingIDs(t, e, "us"), "the pending set has no TTL and is not pruned")
}

func crossPendingKeepsRequest(t *testing.T, e crossEnv) {
	saveRequest(t, e, "q-us", baldur.Record{"n": 1}, ttlLong)
	require.NoError(t, e.Store.AddPending(t.Context(), "us", "q-us"))
	require.NoError(t, e.Store.RemovePending(t.Context(), "us", "q-us"))
	require.Empty(t, pendingIDs(t, e, "us"))
	require.Equal(t, baldur.Record{"n": int64(1)}, getRequest(t, e, "q-us"))
}

func crossPendingConcurrent(t *testing.T, e crossEnv) {
	const n = 16
	errs := make([]error, 2*n)
	concurrently(2*n, func(i int) {
		errs[i] = e.Store.AddPending(t.Context(), "us", fmt.Sprintf("q%02d", i%n)) // each id twice
	})
	var want []string
	for i := range 2 * n {
		require.NoError(t, errs[i])
		if i < n {
			want = append(want, fmt.Sprintf("q%02d", i))
		}
	}
	require.Equal(t, want, pendingIDs(t, e, "us"))
}

func crossPendingUnusual(t *testing.T, e crossEnv) {
	want := unusualIDs()
	for _, id := range want {
		require.NoError(t, e.Store.AddPending(t.Context(), id, id))
		require.NoError(t, e.Store.AddPending(t.Context(), "all", id))
		savePolicy(t, e, id, baldur.Record{"id": id})
	}
	for _, id := range want {
		require.Equal(t, []string{id}, pendingIDs(t, e, id), "cluster %q", id)
		require.Equal(t, baldur.Record{"id": id}, getPolicy(t, e, id))
	}
	slices.Sort(want)
	require.Equal(t, want, pendingIDs(t, e, "all"))
	require.Equal(t, want, ids(listPolicies(t, e)))
}

func crossPolicy(t *testing.T, e crossEnv) {
	savePolicy(t, e, "p1", policy("p1"))
	require.Equal(t, policy("p1"), getPolicy(t, e, "p1"))
	savePolicy(t, e, "p1", baldur.Record{"policy_id": "p1", "version": 2})
	require.Equal(t, baldur.Record{"policy_id": "p1", "version": int64(2)}, getPolicy(t, e, "p1"))
}

func crossPolicyAbsent(t *testing.T, e crossEnv) {
	_, err := e.Store.GetPolicy(t.Context(), "p1")
	requireNotFound(t, err)
}

func crossPolicyNoTTL(t *testing.T, e crossEnv) {
	savePolicy(t, e, "p1", policy("p1"))
	e.Advance(past)
	require.Equal(t, policy("p1"), getPolicy(t, e, "p1"))
	require.Len(t, listPolicies(t, e), 1)
}

func crossListPolicies(t *testing.T, e crossEnv) {
	for _, id := range []string{"p3", "p1", "P2", "p10", "p2"} {
		savePolicy(t, e, id, policy(id))
	}
	savePolicy(t, e, "p1", policy("p1")) // overwrite: still one entry
	rs := listPolicies(t, e)
	require.Equal(t, []string{"P2", "p1", "p10", "p2", "p3"}, ids(rs))
	for _, r := range rs {
		require.Equal(t, policy(r["id"].(string)), r)
	}
}

func crossListEmpty(t *testing.T, e crossEnv) {
	require.Empty(t, listPolicies(t, e))
	saveRequest(t, e, "q", baldur.Record{"n": 1}, ttlLong)
	require.NoError(t, e.Store.AddPending(t.Context(), "us", "q"))
	require.Empty(t, listPolicies(t, e), "requests and pending ids are not policies")
}

func crossSeparate(t *testing.T, e crossEnv) {
	saveRequest(t, e, "x", baldur.Record{"kind": "request"}, ttlLong)
	savePolicy(t, e, "x", baldur.Record{"kind": "policy"})
	require.Equal(t, baldur.Record{"kind": "request"}, getRequest(t, e, "x"))
	require.Equal(t, baldur.Record{"kind": "policy"}, getPolicy(t, e, "x"))
	require.NoError(t, e.Store.AddPending(t.Context(), "x", "x"))
	require.Equal(t, []baldur.Record{{"kind": "policy"}}, listPolicies(t, e))
	require.Equal(t, baldur.Record{"kind": "request"}, getRequest(t, e, "x"))
}

func crossReturnsCopies(t *testing.T, e crossEnv) {
	in, want := sample("q")
	saveRequest(t, e, "q", in, ttlLong)
	mutate(getRequest(t, e, "q"))
	require.Equal(t, want, getRequest(t, e, "q"))

	in, want = sample("p")
	savePolicy(t, e, "p", in)
	mutate(getPolicy(t, e, "p"))
	require.Equal(t, want, getPolicy(t, e, "p"))
	rs := listPolicies(t, e)
	require.Len(t, rs, 1)
	mutate(rs[0])
	require.Equal(t, []baldur.Record{want}, listPolicies(t, e))

	require.NoError(t, e.Store.AddPending(t.Context(), "us", "q"))
	got := pendingIDs(t, e, "us")
	got[0] = "mutated"
	require.Equal(t, []string{"q"}, pendingIDs(t, e, "us"))
}

func crossInputNotRetained(t *testing.T, e crossEnv) {
	in, want := sample("q")
	saveRequest(t, e, "q", in, ttlLong)
	mutate(in)
	require.Equal(t, want, getRequest(t, e, "q"))
	in, want = sample("p")
	savePolicy(t, e, "p", in)
	mutate(in)
	require.Equal(t, want, getPolicy(t, e, "p"))
}

func crossInvalidID(t *testing.T, e crossEnv) {
	ctx := t.Context()
	require.NoError(t, e.Store.AddPending(ctx, "us", "kept"))
	for _, b := range badIDs() {
		requireInvalid(t, e.Store.SaveRequest(ctx, b.id, baldur.Record{"n": 1}, ttlLong), "SaveRequest with %s id", b.what)
		_, err := e.Store.GetRequest(ctx, b.id)
		requireInvalid(t, err, "GetRequest with %s id", b.what)
		requireInvalid(t, e.Store.AddPending(ctx, b.id, "q"), "AddPending with %s cluster", b.what)
		requireInvalid(t, e.Store.AddPending(ctx, "us", b.id), "AddPending with %s id", b.what)
		requireInvalid(t, e.Store.RemovePending(ctx, b.id, "kept"), "RemovePending with %s cluster", b.what)
		requireInvalid(t, e.Store.RemovePending(ctx, "us", b.id), "RemovePending with %s id", b.what)
		_, err = e.Store.GetPendingIDs(ctx, b.id)
		requireInvalid(t, err, "GetPendingIDs with %s cluster", b.what)
		requireInvalid(t, e.Store.SavePolicy(ctx, b.id, policy("p")), "SavePolicy with %s id", b.what)
		_, err = e.Store.GetPolicy(ctx, b.id)
		requireInvalid(t, err, "GetPolicy with %s id", b.what)
	}
	require.Equal(t, []string{"kept"}, pendingIDs(t, e, "us"))
	require.Empty(t, listPolicies(t, e))
	for _, id := range []string{"a", "b", "x", "y"} {
		requireNoRequest(t, e, id)
		require.Empty(t, pendingIDs(t, e, id))
	}
}

func crossInvalidRecord(t *testing.T, e crossEnv) {
	saveRequest(t, e, "kept", baldur.Record{"v": "original"}, ttlLong)
	savePolicy(t, e, "kept", baldur.Record{"v": "original"})
	for _, b := range badRecords() {
		requireInvalid(t, e.Store.SaveRequest(t.Context(), "fresh", b.rec, ttlLong), "SaveRequest of %s", b.what)
		requireInvalid(t, e.Store.SaveRequest(t.Context(), "kept", b.rec, ttlLong), "SaveRequest of %s", b.what)
		requireInvalid(t, e.Store.SavePolicy(t.Context(), "fresh", b.rec), "SavePolicy of %s", b.what)
		requireInvalid(t, e.Store.SavePolicy(t.Context(), "kept", b.rec), "SavePolicy of %s", b.what)
	}
	requireNoRequest(t, e, "fresh")
	_, err := e.Store.GetPolicy(t.Context(), "fresh")
	requireNotFound(t, err)
	require.Equal(t, baldur.Record{"v": "original"}, getRequest(t, e, "kept"))
	require.Equal(t, []baldur.Record{{"v": "original"}}, listPolicies(t, e))
}

func crossMaxLength(t *testing.T, e crossEnv) {
	id, cluster := longID("q-"), longID("c-")
	saveRequest(t, e, id, baldur.Record{"n": 1}, ttlLong)
	require.Equal(t, baldur.Record{"n": int64(1)}, getRequest(t, e, id))
	require.NoError(t, e.Store.AddPending(t.Context(), cluster, id))
	require.Equal(t, []string{id}, pendingIDs(t, e, cluster))
	savePolicy(t, e, id, policy(id))
	require.Equal(t, policy(id), getPolicy(t, e, id))
}

func crossCancelled(t *testing.T, e crossEnv) {
	ctx := cancelled(t)
	require.Error(t, e.Store.SaveRequest(ctx, "q", baldur.Record{"n": 1}, ttlLong), "SaveRequest")
	_, err := e.Store.GetRequest(ctx, "q")
	require.Error(t, err, "GetRequest")
	require.Error(t, e.Store.AddPending(ctx, "us", "q"), "AddPending")
	require.Error(t, e.Store.RemovePending(ctx, "us", "q"), "RemovePending")
	_, err = e.Store.GetPendingIDs(ctx, "us")
	require.Error(t, err, "GetPendingIDs")
	require.Error(t, e.Store.SavePolicy(ctx, "p", policy("p")), "SavePolicy")
	_, err = e.Store.GetPolicy(ctx, "p")
	require.Error(t, err, "GetPolicy")
	_, err = e.Store.ListPolicies(ctx)
	require.Error(t, err, "ListPolicies")
	requireNoRequest(t, e, "q")
	require.Empty(t, pendingIDs(t, e, "us"))
	require.Empty(t, listPolicies(t, e))
}
