package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

type historyEnv = Env[baldur.ConfigHistoryStore]

func historyCases() []testCase[baldur.ConfigHistoryStore] {
	return []testCase[baldur.ConfigHistoryStore]{
		{"NextVersion_StartsAtOneAndIncrements", histNextVersion},
		{"NextVersion_PerTypeIndependent", histNextVersionPerType},
		{"NextVersion_ConcurrentGetsOneToN", histNextVersionConcurrent},
		{"NextVersion_IndependentOfHistory", histNextVersionIndependent},
		{"SaveVersion_CurrentIsHistoryHead", histCurrentIsHead},
		{"SaveVersion_MaxEntriesTrimsOldest", histMaxEntries},
		{"SaveVersion_NonPositiveMaxEntriesKeepsAll", histMaxEntriesNonPositive},
		{"SaveVersion_MaxEntriesShrinksExistingHistory", histMaxEntriesShrinks},
		{"SaveVersion_LastWriteWinsVersionsUnchecked", histLastWriteWins},
		{"SaveVersion_ConcurrentWritersConsistent", histConcurrentConsistent},
		{"GetHistory_Limit", histLimit},
		{"GetHistory_UnknownTypeIsEmpty", histUnknownType},
		{"GetCurrent_AbsentIsNotFound", histCurrentAbsent},
		{"Clear_OnlyThatType", histClearOnlyType},
		{"Clear_NextVersionRestartsAtOne", histClearRestarts},
		{"Clear_UnknownTypeIsNoError", histClearUnknown},
		{"ReturnsCopies", histReturnsCopies},
		{"SaveVersion_DoesNotKeepCallersRecord", histInputNotRetained},
		{"InvalidConfigTypeWritesNothing", histInvalidType},
		{"InvalidRecordWritesNothing", histInvalidRecord},
		{"MaxLengthConfigTypeAccepted", histMaxLengthType},
		{"CancelledContextIsError", histCancelled},
	}
}

func entry(v int64) baldur.Record {
	return baldur.Record{
		"version":     v,
		"timestamp":   1.7e9 + float64(v) + 0.5,
		"config_type": "cfg",
		"values":      map[string]any{"limit": v * 10, "name": fmt.Sprintf("v%d", v)},
		"changed_by":  "tester",
		"reason":      fmt.Sprintf("change %d", v),
		"hash":        fmt.Sprintf("%016x", v),
	}
}

// entryOut is entry(v) as it reads back.
func entryOut(v int64) baldur.Record {
	r := entry(v)
	r["values"] = map[string]any{"limit": v * 10, "name": fmt.Sprintf("v%d", v)}
	return r
}

func nextVersion(t *testing.T, e historyEnv, ct string) int64 {
	t.Helper()
	v, err := e.Store.NextVersion(t.Context(), ct)
	require.NoError(t, err)
	return v
}

func saveVersion(t *testing.T, e historyEnv, ct string, r baldur.Record, maxEntries int) {
	t.Helper()
	require.NoError(t, e.Store.SaveVersion(t.Context(), ct, r, maxEntries))
}

func current(t *testing.T, e historyEnv, ct string) baldur.Record {
	t.Helper()
	r, err := e.Store.GetCurrent(t.Context(), ct)
	require.NoError(t, err)
	return r
}

func history(t *testing.T, e historyEnv, ct string, limit int) []baldur.Record {
	t.Helper()
	rs, err := e.Store.GetHistory(t.Context(), ct, limit)
	require.NoError(t, err)
	return rs
}

func versions(rs []baldur.Record) []int64 {
	out := make([]int64, 0, len(rs))
	for _, r := range rs {
		out = append(out, baldur.VersionOf(r))
	}
	return out
}

func count(t *testing.T, e historyEnv, ct string) int {
	t.Helper()
	n, err := e.Store.GetVersionCount(t.Context(), ct)
	require.NoError(t, err)
	return n
}

// requireEmptyType asserts that configType holds no history and no current.
func requireEmptyType(t *testing.T, e historyEnv, ct string) {
	t.Helper()
	_, err := e.Store.GetCurrent(t.Context(), ct)
	requireNotFound(t, err, "GetCurrent(%q)", ct)
	require.Empty(t, history(t, e, ct, 0))
	require.Zero(t, count(t, e, ct))
}

func histNextVersion(t *testing.T, e historyEnv) {
	for want := int64(1); want <= 5; want++ {
		require.Equal(t, want, nextVersion(t, e, "cfg"))
	}
}

func histNextVersionPerType(t *testing.T, e historyEnv) {
	require.Equal(t, int64(1), nextVersion(t, e, "a"))
	require.Equal(t, int64(2), nextVersion(t, e, "a"))
	require.Equal(t, int64(1), nextVersion(t, e, "b"))
	require.Equal(t, int64(3), nextVersion(t, e, "a"))
	require.Equal(t, int64(2), nextVersion(t, e, "b"))
}

func histNextVersionConcurrent(t *testing.T, e historyEnv) {
	const n = 16
	got := make([]int64, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		got[i], errs[i] = e.Store.NextVersion(t.Context(), "cfg")
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(got)
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	require.Equal(t, want, got, "%d concurrent NextVersion calls get exactly 1..%d", n, n)
	require.Equal(t, int64(n+1), nextVersion(t, e, "cfg"))
}

func histNextVersionIndependent(t *testing.T, e historyEnv) {
	saveVersion(t, e, "cfg", entry(7), 0)
	saveVersion(t, e, "cfg", entry(8), 0)
	require.Equal(t, int64(1), nextVersion(t, e, "cfg"), "the counter does not follow the history")
	require.Equal(t, int64(2), nextVersion(t, e, "cfg"))
	require.Equal(t, 2, count(t, e, "cfg"), "the counter is not the count")
	require.Equal(t, int64(1), nextVersion(t, e, "fresh"))
	requireEmptyType(t, e, "fresh") // NextVersion writes no history
}

func histCurrentIsHead(t *testing.T, e historyEnv) {
	for v := int64(1); v <= 3; v++ {
		saveVersion(t, e, "cfg", entry(v), 10)
		require.Equal(t, entryOut(v), current(t, e, "cfg"))
		h := history(t, e, "cfg", 0)
		require.Equal(t, entryOut(v), h[0])
	}
	require.Equal(t, []baldur.Record{entryOut(3), entryOut(2), entryOut(1)}, history(t, e, "cfg", 0))
	require.Equal(t, 3, count(t, e, "cfg"))
}

func histMaxEntries(t *testing.T, e historyEnv) {
	for v := int64(1); v <= 5; v++ {
		saveVersion(t, e, "cfg", entry(v), 3)
		require.LessOrEqual(t, count(t, e, "cfg"), 3)
	}
	require.Equal(t, []int64{5, 4, 3}, versions(history(t, e, "cfg", 0)))
	require.Equal(t, 3, count(t, e, "cfg"))
	require.Equal(t, entryOut(5), current(t, e, "cfg"))
	saveVersion(t, e, "one", entry(1), 1)
	saveVersion(t, e, "one", entry(2), 1)
	require.Equal(t, []int64{2}, versions(history(t, e, "one", 0)))
	require.Equal(t, entryOut(2), current(t, e, "one"))
}

func histMaxEntriesNonPositive(t *testing.T, e historyEnv) {
	for v := int64(1); v <= 4; v++ {
		saveVersion(t, e, "cfg", entry(v), 0)
	}
	saveVersion(t, e, "cfg", entry(5), -1)
	saveVersion(t, e, "cfg", entry(6), -100)
	require.Equal(t, []int64{6, 5, 4, 3, 2, 1}, versions(history(t, e, "cfg", 0)))
	require.Equal(t, 6, count(t, e, "cfg"))
}

func histMaxEntriesShrinks(t *testing.T, e historyEnv) {
	for v := int64(1); v <= 5; v++ {
		saveVersion(t, e, "cfg", entry(v), 0)
	}
	saveVersion(t, e, "cfg", entry(6), 2)
	require.Equal(t, []int64{6, 5}, versions(history(t, e, "cfg", 0)))
	require.Equal(t, 2, count(t, e, "cfg"))
	saveVersion(t, e, "cfg", entry(7), 10)
	require.Equal(t, []int64{7, 6, 5}, versions(history(t, e, "cfg", 0)), "trimmed entries do not come back")
}

func histLastWriteWins(t *testing.T, e historyEnv) {
	saveVersion(t, e, "cfg", entry(5), 0)
	saveVersion(t, e, "cfg", entry(3), 0)
	saveVersion(t, e, "cfg", entry(3), 0)
	require.Equal(t, entryOut(3), current(t, e, "cfg"))
	require.Equal(t, []int64{3, 3, 5}, versions(history(t, e, "cfg", 0)))
	saveVersion(t, e, "cfg", baldur.Record{"no": "version"}, 0)
	require.Equal(t, baldur.Record{"no": "version"}, current(t, e, "cfg"))
}

func histLimit(t *testing.T, e historyEnv) {
	for v := int64(1); v <= 5; v++ {
		saveVersion(t, e, "cfg", entry(v), 0)
	}
	for _, tc := range []struct {
		limit int
		want  []int64
	}{
		{1, []int64{5}},
		{2, []int64{5, 4}},
		{5, []int64{5, 4, 3, 2, 1}},
		{6, []int64{5, 4, 3, 2, 1}},
		{1000, []int64{5, 4, 3, 2, 1}},
		{0, []int64{5, 4, 3, 2, 1}},
		{-1, []int64{5, 4, 3, 2, 1}},
	} {
		require.Equal(t, tc.want, versions(history(t, e, "cfg", tc.limit)), "limit %d", tc.limit)
	}
	require.Equal(t, []baldur.Record{entryOut(5), entryOut(4)}, history(t, e, "cfg", 2))
}

func histUnknownType(t *testing.T, e historyEnv) {
	requireEmptyType(t, e, "unknown")
	require.Empty(t, history(t, e, "unknown", 5))
	saveVersion(t, e, "known", entry(1), 0)
	requireEmptyType(t, e, "unknown")
	requireEmptyType(t, e, "know") // no prefix leaks
	requireEmptyType(t, e, "known2")
}

func histCurrentAbsent(t *testing.T, e historyEnv) {
	_, err := e.Store.GetCurrent(t.Context(), "cfg")
	requireNotFound(t, err)
	nextVersion(t, e, "cfg")
	_, err = e.Store.GetCurrent(t.Context(), "cfg")
	requireNotFound(t, err, "NextVersion does not create a current version")
}

func histClearOnlyType(t *testing.T, e historyEnv) {
	for _, ct := range []string{"a", "b", "a-b", "ab"} {
		nextVersion(t, e, ct)
		nextVersion(t, e, ct)
		saveVersion(t, e, ct, entry(1), 0)
		saveVersion(t, e, ct, entry(2), 0)
	}
	require.NoError(t, e.Store.Clear(t.Context(), "a"))
	requireEmptyType(t, e, "a")
	for _, ct := range []string{"b", "a-b", "ab"} {
		require.Equal(t, entryOut(2), current(t, e, ct), "type %q", ct)
		require.Equal(t, []int64{2, 1}, versions(history(t, e, ct, 0)), "type %q", ct)
		require.Equal(t, 2, count(t, e, ct))
		require.Equal(t, int64(3), nextVersion(t, e, ct), "type %q keeps its counter", ct)
	}
}

func histClearRestarts(t *testing.T, e historyEnv) {
	for range 3 {
		nextVersion(t, e, "cfg")
	}
	saveVersion(t, e, "cfg", entry(3), 0)
	require.NoError(t, e.Store.Clear(t.Context(), "cfg"))
	require.Equal(t, int64(1), nextVersion(t, e, "cfg"), "after Clear the next version is 1 again")
	require.Equal(t, int64(2), nextVersion(t, e, "cfg"))
	saveVersion(t, e, "cfg", entry(1), 0)
	require.Equal(t, []int64{1}, versions(history(t, e, "cfg", 0)))
	require.NoError(t, e.Store.Clear(t.Context(), "cfg"))
	require.NoError(t, e.Store.Clear(t.Context(), "cfg"), "Clear twice")
	requireEmptyType(t, e, "cfg")
	require.Equal(t, int64(1), nextVersion(t, e, "cfg"))
}

func histClearUnknown(t *testing.T, e historyEnv) {
	require.NoError(t, e.Store.Clear(t.Context(), "unknown"))
	requireEmptyType(t, e, "unknown")
}

func histReturnsCopies(t *testing.T, e historyEnv) {
	in, want := sample("h1")
	saveVersion(t, e, "cfg", in, 0)
	mutate(current(t, e, "cfg"))
	require.Equal(t, want, current(t, e, "cfg"))
	h := history(t, e, "cfg", 0)
	require.Len(t, h, 1)
	mutate(h[0])
	require.Equal(t, []baldur.Record{want}, history(t, e, "cfg", 0))
	require.Equal(t, want, current(t, e, "cfg"))
}

func histInputNotRetained(t *testing.T, e historyEnv) {
	in, want := sample("h1")
	saveVersion(t, e, "cfg", in, 0)
	mutate(in)
	require.Equal(t, want, current(t, e, "cfg"))
	require.Equal(t, []baldur.Record{want}, history(t, e, "cfg", 0))
}

func histInvalidType(t *testing.T, e historyEnv) {
	ctx := t.Context()
	for _, b := range badIDs() {
		_, err := e.Store.NextVersion(ctx, b.id)
		requireInvalid(t, err, "NextVersion with %s config type", b.what)
		requireInvalid(t, e.Store.SaveVersion(ctx, b.id, entry(1), 0), "SaveVersion with %s config type", b.what)
		_, err = e.Store.GetCurrent(ctx, b.id)
		requireInvalid(t, err, "GetCurrent with %s config type", b.what)
		_, err = e.Store.GetHistory(ctx, b.id, 0)
		requireInvalid(t, err, "GetHistory with %s config type", b.what)
		_, err = e.Store.GetVersionCount(ctx, b.id)
		requireInvalid(t, err, "GetVersionCount with %s config type", b.what)
		requireInvalid(t, e.Store.Clear(ctx, b.id), "Clear with %s config type", b.what)
	}
	for _, ct := range []string{"a", "b", "x", "y"} {
		requireEmptyType(t, e, ct)
		require.Equal(t, int64(1), nextVersion(t, e, ct), "no counter of %q was bumped", ct)
	}
}

func histInvalidRecord(t *testing.T, e historyEnv) {
	saveVersion(t, e, "cfg", entry(1), 0)
	for _, b := range badRecords() {
		requireInvalid(t, e.Store.SaveVersion(t.Context(), "cfg", b.rec, 0), "SaveVersion of %s", b.what)
		requireInvalid(t, e.Store.SaveVersion(t.Context(), "fresh", b.rec, 1), "SaveVersion of %s", b.what)
	}
	require.Equal(t, entryOut(1), current(t, e, "cfg"))
	require.Equal(t, []baldur.Record{entryOut(1)}, history(t, e, "cfg", 0))
	requireEmptyType(t, e, "fresh")
}

func histMaxLengthType(t *testing.T, e historyEnv) {
	ct := longID("c-")
	require.Equal(t, int64(1), nextVersion(t, e, ct))
	saveVersion(t, e, ct, entry(1), 0)
	require.Equal(t, entryOut(1), current(t, e, ct))
	require.Equal(t, 1, count(t, e, ct))
	require.NoError(t, e.Store.Clear(t.Context(), ct))
	requireEmptyType(t, e, ct)
}

func histCancelled(t *testing.T, e historyEnv) {
	ctx := cancelled(t)
	_, err := e.Store.NextVersion(ctx, "cfg")
	require.Error(t, err, "NextVersion")
	require.Error(t, e.Store.SaveVersion(ctx, "cfg", entry(1), 0), "SaveVersion")
	_, err = e.Store.GetCurrent(ctx, "cfg")
	require.Error(t, err, "GetCurrent")
	_, err = e.Store.GetHistory(ctx, "cfg", 0)
	require.Error(t, err, "GetHistory")
	_, err = e.Store.GetVersionCount(ctx, "cfg")
	require.Error(t, err, "GetVersionCount")
	require.Error(t, e.Store.Clear(ctx, "cfg"), "Clear")
	requireEmptyType(t, e, "cfg")
	require.Equal(t, int64(1), nextVersion(t, e, "cfg"))
}

// histConcurrentConsistent runs several writers against one config type
// while a reader checks, at every read, what two separate reads can honestly
// be held to. Writer w saves its entries (w, 1), (w, 2), ... one after the
// other, so for each writer the store must show its entries in order; the
// history is the newest maxEntries saves, so a writer's entries in it are a
// contiguous run ending at its newest. A reader that has seen (w, s) must
// never afterwards see a current or a history head of w older than s, nor a
// history that holds some of w's entries but not (w, s): that is how a
// SaveVersion that updates current and history in two steps gets caught,
// whichever it writes first.
func histConcurrentConsistent(t *testing.T, e historyEnv) {
	const (
		writers    = 4
		perWriter  = 25
		maxEntries = 8
		ct         = "cfg"
	)
	mk := func(w, s int) baldur.Record {
		return baldur.Record{"version": w*1000 + s, "writer": w, "seq": s, "check": fmt.Sprintf("%d/%d", w, s)}
	}
	parse := func(r baldur.Record) (w, s int, err error) {
		w64, ok1 := baldur.AsInt64(r["writer"])
		s64, ok2 := baldur.AsInt64(r["seq"])
		w, s = int(w64), int(s64)
		if !ok1 || !ok2 || w < 0 || w >= writers || s < 1 || s > perWriter || r["check"] != fmt.Sprintf("%d/%d", w, s) ||
			baldur.VersionOf(r) != int64(w*1000+s) || len(r) != 4 {
			return 0, 0, fmt.Errorf("entry %v is not one the writers saved", r)
		}
		return w, s, nil
	}

	var completed atomic.Int64
	var wg sync.WaitGroup
	writeErrs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 1; s <= perWriter; s++ {
				if err := e.Store.SaveVersion(t.Context(), ct, mk(w, s), maxEntries); err != nil {
					writeErrs[w] = err
					return
				}
				completed.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := make([]int, writers) // newest seq the reader has seen of each writer
	read := func() error {
		before := int(completed.Load())
		cur, err := e.Store.GetCurrent(t.Context(), ct)
		switch {
		case errors.Is(err, baldur.ErrNotFound):
			if before > 0 {
				return fmt.Errorf("GetCurrent: not found after %d completed saves", before)
			}
		case err != nil:
			return fmt.Errorf("GetCurrent: %w", err)
		default:
			w, s, err := parse(cur)
			if err != nil {
				return fmt.Errorf("GetCurrent: %w", err)
			}
			if s < seen[w] {
				return fmt.Errorf("GetCurrent went back: (%d, %d) after the reader saw (%d, %d)", w, s, w, seen[w])
			}
			seen[w] = s
		}

		before = int(completed.Load())
		hist, err := e.Store.GetHistory(t.Context(), ct, 0)
		if err != nil {
			return fmt.Errorf("GetHistory: %w", err)
		}
		if len(hist) > maxEntries {
			return fmt.Errorf("GetHistory: %d entries, maxEntries is %d", len(hist), maxEntries)
		}
		if len(hist) < min(before, maxEntries) {
			return fmt.Errorf("GetHistory: %d entries after %d completed saves", len(hist), before)
		}
		top := make([]int, writers)  // newest seq of each writer in this history
		last := make([]int, writers) // previous seq of each writer while walking it
		for i, r := range hist {
			w, s, err := parse(r)
			if err != nil {
				return fmt.Errorf("GetHistory[%d]: %w", i, err)
			}
			if last[w] == 0 {
				top[w] = s
			} else if s != last[w]-1 {
				return fmt.Errorf("GetHistory: writer %d's entries are not newest first and contiguous: %d after %d", w, s, last[w])
			}
			last[w] = s
		}
		for w := range writers {
			if top[w] != 0 && top[w] < seen[w] {
				return fmt.Errorf("GetHistory: newest entry of writer %d is %d, but the reader already saw %d (current and history disagree)", w, top[w], seen[w])
			}
			seen[w] = max(seen[w], top[w])
		}

		n, err := e.Store.GetVersionCount(t.Context(), ct)
		if err != nil {
			return fmt.Errorf("GetVersionCount: %w", err)
		}
		if n > maxEntries {
			return fmt.Errorf("GetVersionCount: %d, maxEntries is %d", n, maxEntries)
		}
		return nil
	}

	var violation error
	reads := 0
reading:
	for violation == nil {
		select {
		case <-done:
			break reading
		default:
		}
		violation = read()
		reads++
	}
	<-done
	require.NoError(t, violation, "after %d reads", reads)
	for w, err := range writeErrs {
		require.NoError(t, err, "writer %d", w)
	}
	require.NoError(t, read(), "the final read")
	t.Logf("%d reads while %d writers saved %d entries each", reads, writers, perWriter)

	hist := history(t, e, ct, 0)
	require.Len(t, hist, maxEntries)
	require.Equal(t, hist[0], current(t, e, ct), "at rest, GetCurrent equals GetHistory[0]")
	require.Equal(t, maxEntries, count(t, e, ct))
	for i, r := range hist {
		w, s, err := parse(r)
		require.NoError(t, err)
		first := slices.IndexFunc(hist, func(r baldur.Record) bool { v, _ := baldur.AsInt64(r["writer"]); return int(v) == w })
		if first == i {
			require.Equal(t, perWriter, s, "writer %d's newest kept entry must be its last save", w)
		}
	}
}
