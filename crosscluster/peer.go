package crosscluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// probeInterval is how often a peer's head revision is read: it detects a
// peer that went away (a watch on a dead endpoint just waits) and feeds the
// lag gauge.
const probeInterval = time.Second

// probeTimeout bounds one probe.
const probeTimeout = 2 * time.Second

// resyncWorkers is how many resync transactions are in flight at once: the
// batches touch disjoint keys, and etcd commits concurrent proposals with
// one disk sync.
const resyncWorkers = 4

// maxResyncOps caps the operations of one resync transaction below etcd's
// default --max-txn-ops of 128.
const maxResyncOps = 120

// errCompacted: the peer compacted its history past our checkpoint.
var errCompacted = errors.New("crosscluster: source history compacted past the checkpoint")

// runPeer replicates from one peer until ctx is done, retrying with backoff.
func (r *Replicator) runPeer(ctx context.Context, ps *peerState) {
	delay := r.cfg.backoffMin
	for {
		progressed, err := r.syncPeer(ctx, ps)
		r.setConnected(ps, false)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			delay = r.cfg.backoffMin
		}
		r.streamError(ps, err)
		// ±20 % jitter so that the peers of a failed cluster do not retry in step.
		wait := time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64()))
		r.log.Info("peer stream failed, retrying", zap.String("peer", ps.Name),
			zap.Duration("in", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, r.cfg.backoffMax)
	}
}

func (r *Replicator) streamError(ps *peerState, err error) {
	if err == nil {
		err = errors.New("stream ended")
	}
	r.m.errors.WithLabelValues(ps.Name, "stream").Inc()
	ps.mu.Lock()
	ps.errors++
	ps.lastError = err.Error()
	ps.mu.Unlock()
}

func (r *Replicator) setConnected(ps *peerState, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	r.m.connected.WithLabelValues(ps.Name).Set(v)
	ps.mu.Lock()
	ps.connected = up
	ps.mu.Unlock()
}

// syncPeer runs one stream from the peer: resume from the stored checkpoint
// (or list everything when there is none, or when the peer compacted past
// it), then watch. progressed is true when the watch came up.
func (r *Replicator) syncPeer(ctx context.Context, ps *peerState) (progressed bool, err error) {
	cp, err := r.loadCheckpoint(ctx, ps)
	if err != nil {
		return false, err
	}
	needList := cp == 0
	if cp > 0 {
		// A peer whose etcd was wiped and recreated starts again at low
		// revisions: a checkpoint ahead of its head belongs to the old
		// incarnation, and watching from it would wait for revisions that
		// carry other data. List it again.
		head, err := r.peerHead(ctx, ps)
		if err != nil {
			return false, err
		}
		if cp > head {
			r.log.Warn("checkpoint is ahead of the peer's head revision (peer etcd recreated?), resyncing",
				zap.String("peer", ps.Name), zap.Int64("checkpoint", cp), zap.Int64("head", head))
			r.countResync(ps)
			needList = true
		}
	}
	for {
		if needList {
			if cp, err = r.resync(ctx, ps); err != nil {
				return progressed, err
			}
			needList = false
		}
		up, err := r.watch(ctx, ps, cp)
		progressed = progressed || up
		if !errors.Is(err, errCompacted) {
			return progressed, err
		}
		r.log.Warn("peer history compacted past the checkpoint, resyncing", zap.String("peer", ps.Name), zap.Int64("checkpoint", cp))
		r.countResync(ps)
		needList = true
	}
}

func (r *Replicator) countResync(ps *peerState) {
	r.m.resyncs.WithLabelValues(ps.Name).Inc()
	ps.mu.Lock()
	ps.resyncs++
	ps.mu.Unlock()
}

// peerHead returns the peer's current revision (one count-only read).
func (r *Replicator) peerHead(ctx context.Context, ps *peerState) (int64, error) {
	tctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := ps.Client.Get(tctx, r.keys.checkpoint(ps.Name), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("crosscluster: read head revision of %q: %w", ps.Name, err)
	}
	return resp.Header.Revision, nil
}

func (r *Replicator) loadCheckpoint(ctx context.Context, ps *peerState) (int64, error) {
	tctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	resp, err := r.local.Get(tctx, r.keys.checkpoint(ps.Name))
	if err != nil {
		return 0, fmt.Errorf("crosscluster: read checkpoint of %q: %w", ps.Name, err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	cp, err := strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
	if err != nil || cp < 0 {
		r.log.Warn("unreadable checkpoint, listing the peer again", zap.String("peer", ps.Name),
			zap.ByteString("value", resp.Kvs[0].Value))
		return 0, nil
	}
	ps.mu.Lock()
	ps.stored, ps.storedAt = cp, time.Now()
	ps.mu.Unlock()
	return cp, nil
}

// advance records that every source revision up to rev was processed.
func (r *Replicator) advance(ps *peerState, rev int64) {
	ps.mu.Lock()
	if rev > ps.checkpoint {
		ps.checkpoint = rev
	}
	if ps.checkpoint >= ps.headRevision {
		ps.behindSince = time.Time{}
	}
	cp := ps.checkpoint
	lag := 0.0
	if !ps.behindSince.IsZero() {
		lag = time.Since(ps.behindSince).Seconds()
	}
	ps.mu.Unlock()
	r.m.checkpoint.WithLabelValues(ps.Name).Set(float64(cp))
	r.m.lag.WithLabelValues(ps.Name).Set(lag)
}

// probe reads the peer's head revision and asks the watch for a progress
// notification, so that revisions outside the watched range also count as
// processed.
func (r *Replicator) probe(ctx context.Context, ps *peerState, w clientv3.Watcher, wctx context.Context) error {
	tctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	resp, err := ps.Client.Get(tctx, r.keys.probe, clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("crosscluster: peer %q unreachable: %w", ps.Name, err)
	}
	ps.mu.Lock()
	ps.headRevision = resp.Header.Revision
	if ps.checkpoint < ps.headRevision && ps.behindSince.IsZero() {
		ps.behindSince = time.Now()
	}
	ps.mu.Unlock()
	r.advance(ps, 0)
	if err := w.RequestProgress(wctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("crosscluster: progress request to %q: %w", ps.Name, err)
	}
	return r.persistCheckpoint(ctx, ps)
}

// checkpointEvery is how often a checkpoint that only advanced through
// skipped events (received copies, other families, progress notifications)
// is written down, so that a restart does not fall behind the peer's
// compaction and need a full re-list.
const checkpointEvery = 5 * time.Second

// persistCheckpoint writes the processed revision when it is ahead of the
// stored one and the last write is older than checkpointEvery. Every
// revision up to it was applied or deliberately skipped, so resuming there
// loses nothing. The key is outside the replicated range.
func (r *Replicator) persistCheckpoint(ctx context.Context, ps *peerState) error {
	ps.mu.Lock()
	cp, due := ps.checkpoint, ps.checkpoint > ps.stored && time.Since(ps.storedAt) >= checkpointEvery
	ps.mu.Unlock()
	if !due {
		return nil
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	if _, err := r.local.Put(tctx, r.keys.checkpoint(ps.Name), strconv.FormatInt(cp, 10)); err != nil {
		return fmt.Errorf("crosscluster: store checkpoint of %q: %w", ps.Name, err)
	}
	ps.mu.Lock()
	if cp > ps.stored {
		ps.stored, ps.storedAt = cp, time.Now()
	}
	ps.mu.Unlock()
	return nil
}

// watch follows the peer from cp+1 until ctx ends (nil), the peer fails or
// compacted past cp (errCompacted). up is true once the peer answered.
func (r *Replicator) watch(ctx context.Context, ps *peerState, cp int64) (up bool, err error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	w := clientv3.NewWatcher(ps.Client)
	defer w.Close()
	wch := w.Watch(wctx, r.keys.watch, clientv3.WithPrefix(), clientv3.WithRev(cp+1), clientv3.WithPrevKV())
	r.advance(ps, cp)
	if err := r.probe(ctx, ps, w, wctx); err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		return false, err
	}
	r.setConnected(ps, true)
	ps.mu.Lock()
	ps.ready = true
	ps.mu.Unlock()
	ticker := time.NewTicker(probeInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-ticker.C:
			if err := r.probe(ctx, ps, w, wctx); err != nil {
				if ctx.Err() != nil {
					return true, nil
				}
				return true, err
			}
		case resp, ok := <-wch:
			if ctx.Err() != nil {
				return true, nil
			}
			if !ok {
				return true, fmt.Errorf("crosscluster: watch of %q closed", ps.Name)
			}
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				return true, errCompacted
			}
			if err := resp.Err(); err != nil {
				return true, fmt.Errorf("crosscluster: watch of %q: %w", ps.Name, err)
			}
			if resp.IsProgressNotify() {
				r.advance(ps, resp.Header.Revision)
				continue
			}
			if err := r.applyEvents(ctx, ps, resp.Events); err != nil {
				return true, err
			}
		}
	}
}

// applyEvents applies a watch response revision by revision. etcd never
// splits one revision's events across responses, so a record and its
// marker written in one transaction arrive together.
func (r *Replicator) applyEvents(ctx context.Context, ps *peerState, events []*clientv3.Event) error {
	for start := 0; start < len(events); {
		rev := events[start].Kv.ModRevision
		end := start
		for end < len(events) && events[end].Kv.ModRevision == rev {
			end++
		}
		items := r.classify(ps, rev, events[start:end])
		if len(items) > 0 {
			if err := r.applyItems(ctx, ps, rev, items); err != nil {
				return err
			}
		}
		r.advance(ps, rev)
		start = end
	}
	return nil
}

// classify turns one source revision's events into items. A record whose
// marker was written in the same revision is a received copy (or, for a
// delete, a replicated delete) and is not forwarded, unless the marker is a
// re-assertion. Pending entries and markers are not replicated themselves.
func (r *Replicator) classify(ps *peerState, rev int64, events []*clientv3.Event) []item {
	markers := map[string]*clientv3.Event{}
	for _, ev := range events {
		if _, _, ok := r.keys.markerRecord(string(ev.Kv.Key)); ok {
			markers[string(ev.Kv.Key)] = ev
		}
	}
	var items []item
	for _, ev := range events {
		key := string(ev.Kv.Key)
		kind, id, ok := r.keys.record(key)
		if !ok {
			continue
		}
		it := item{kind: kind, id: id, key: key, label: ps.Name, srcRev: rev}
		mev := markers[r.keys.marker(kind, id)]
		if ev.Type == mvccpb.DELETE {
			if mev != nil && mev.Type == mvccpb.DELETE {
				continue // a replicated delete, or a received copy's lease ran out
			}
			if ev.PrevKv != nil {
				it.prev = ev.PrevKv.Value
			}
		} else {
			if mev != nil && mev.Type == mvccpb.PUT {
				m, ok := decodeMarker(mev.Kv.Value)
				if ok && !m.Forward {
					continue // a received copy: its origin sends it to everyone itself
				}
				if ok {
					it.label = m.Origin
				}
			}
			it.value, it.lease = ev.Kv.Value, ev.Kv.Lease
			p, err := parseValue(kind, it.value, it.label)
			if err != nil {
				r.malformed(ps, fmt.Errorf("%w: %s %q at source revision %d: %w", errMalformed, kind, id, rev, err))
				continue
			}
			it.parsed = &p
		}
		items = append(items, it)
	}
	return items
}

// listAll reads every key under prefix at one revision (0: the latest),
// page by page.
func listAll(ctx context.Context, c *clientv3.Client, prefix string, rev int64) ([]*mvccpb.KeyValue, int64, error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	var out []*mvccpb.KeyValue
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(1000)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		tctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := c.Get(tctx, key, opts...)
		cancel()
		if err != nil {
			return nil, 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		out = append(out, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// snapshot classifies a listing: records by key, and which of them are
// received copies (with their marker).
type snapshot struct {
	records map[string]*mvccpb.KeyValue
	markers map[string]*mvccpb.KeyValue
}

func (r *Replicator) newSnapshot(kvs []*mvccpb.KeyValue) snapshot {
	s := snapshot{records: map[string]*mvccpb.KeyValue{}, markers: map[string]*mvccpb.KeyValue{}}
	for _, kv := range kvs {
		k := string(kv.Key)
		if _, _, ok := r.keys.record(k); ok {
			s.records[k] = kv
		} else if _, _, ok := r.keys.markerRecord(k); ok {
			s.markers[k] = kv
		}
	}
	return s
}

// markerOf returns the marker written with the record, if any.
func (s snapshot) markerOf(ks keyspace, kind, id string, kv *mvccpb.KeyValue) (marker, bool) {
	mk, ok := s.markers[ks.marker(kind, id)]
	if !ok || mk.ModRevision != kv.ModRevision {
		return marker{}, false
	}
	return decodeMarker(mk.Value)
}

// resync lists the peer at its current revision R, applies every record
// that originated there (batched, guarded like the watch path), deletes
// local copies received from the peer that it no longer has, and stores R
// as the checkpoint. It returns R.
func (r *Replicator) resync(ctx context.Context, ps *peerState) (int64, error) {
	srcKVs, rev, err := listAll(ctx, ps.Client, r.keys.watch, 0)
	if err != nil {
		return 0, fmt.Errorf("crosscluster: list peer %q: %w", ps.Name, err)
	}
	cur, err := r.listLocal(ctx)
	if err != nil {
		return 0, err
	}
	r.cache.fill(cur)
	src := r.newSnapshot(srcKVs)

	var cands []item
	for key, kv := range src.records {
		kind, id, _ := r.keys.record(key)
		it := item{kind: kind, id: id, key: key, label: ps.Name, srcRev: kv.ModRevision, value: kv.Value, lease: kv.Lease}
		if m, ok := src.markerOf(r.keys, kind, id, kv); ok {
			if !m.Forward {
				continue
			}
			it.label = m.Origin
		}
		cands = append(cands, it)
	}
	// Parsing and validating every record is most of the replicator's own
	// CPU in a resync: spread it over the cores.
	errs := parseAll(cands)
	var items []item
	for i, it := range cands {
		if errs[i] != nil {
			r.malformed(ps, fmt.Errorf("%w: %s %q at source revision %d: %w", errMalformed, it.kind, it.id, it.srcRev, errs[i]))
			continue
		}
		items = append(items, it)
	}
	for key, d := range cur {
		if _, there := src.records[key]; !there && d.copy && d.peer == ps.Name {
			// Deleted at the source while we were not watching.
			kind, id, _ := r.keys.record(key)
			items = append(items, item{kind: kind, id: id, key: key, prev: d.value, label: d.label, srcRev: rev})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	var batches [][]item
	for start := 0; start < len(items); {
		// Up to batchSize records and maxResyncOps operations per
		// transaction (a policy is two puts, a request three operations).
		end, ops := start, 0
		for end < len(items) && end-start < r.cfg.batchSize {
			n := 2
			if items[end].kind == kindRequest {
				n = 3
			}
			if ops+n > maxResyncOps {
				break
			}
			ops += n
			end++
		}
		batches = append(batches, items[start:end])
		start = end
	}
	if err := r.commitBatches(ctx, ps, batches, cur); err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	_, err = r.local.Put(tctx, r.keys.checkpoint(ps.Name), strconv.FormatInt(rev, 10))
	cancel()
	if err != nil {
		return 0, fmt.Errorf("crosscluster: store checkpoint of %q: %w", ps.Name, err)
	}
	r.log.Info("peer listed", zap.String("peer", ps.Name), zap.Int64("revision", rev), zap.Int("changes", len(items)))
	r.advance(ps, rev)
	ps.mu.Lock()
	ps.ready = true
	ps.stored, ps.storedAt = rev, time.Now()
	ps.mu.Unlock()
	return rev, nil
}

// parseAll parses every item's value in place (it.parsed) on GOMAXPROCS
// goroutines, which it waits for, and returns each item's parse error.
func parseAll(items []item) []error {
	errs := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), (len(items)+255)/256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				p, err := parseValue(items[i].kind, items[i].value, items[i].label)
				if err != nil {
					errs[i] = err
					continue
				}
				items[i].parsed = &p
			}
		})
	}
	wg.Wait()
	return errs
}

// commitBatches applies resync batches with up to resyncWorkers
// transactions in flight, and stops at the first error. A batch whose guard
// failed (a local write raced it) is applied again one record at a time
// with fresh reads.
func (r *Replicator) commitBatches(ctx context.Context, ps *peerState, batches [][]item, cur map[string]destKV) error {
	work := make(chan []item)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for range min(resyncWorkers, len(batches)) {
		wg.Go(func() {
			for batch := range work {
				ok, err := r.commit(ctx, ps, batch, cur, 0, true)
				for i := 0; err == nil && !ok && i < len(batch); i++ {
					err = r.applyChunk(ctx, ps, batch[i:i+1], 0)
				}
				if err != nil {
					fail(err)
				}
			}
		})
	}
	for _, b := range batches {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- b
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
