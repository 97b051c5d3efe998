package consulconfig

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/zap"
)

// listResult is one answer of the recursive KV list.
type listResult struct {
	pairs []pair
	meta  *api.QueryMeta
}

// deadline is the request deadline of a blocking query: the wait, plus the
// jitter Consul adds to it (up to wait/16), plus a second for the network.
// A server that stops answering is noticed that much later, never sooner.
func (o *options) deadline() time.Duration {
	return o.wait + o.wait/16 + time.Second
}

// list sends one recursive KV list; index 0 does not block.
func (p *Provider) list(ctx context.Context, index uint64) (listResult, error) {
	q := &api.QueryOptions{WaitIndex: index, WaitTime: p.opts.wait}
	switch p.opts.consistency {
	case ConsistencyStale:
		q.AllowStale = true
	case ConsistencyConsistent:
		q.RequireConsistent = true
	}
	if index == 0 {
		q.WaitTime = 0
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.deadline())
	defer cancel()
	p.metrics.requests.Inc()
	kvs, meta, err := p.kv.List(p.opts.prefix, q.WithContext(ctx))
	if err != nil {
		return listResult{}, err
	}
	pairs := make([]pair, 0, len(kvs))
	for _, kv := range kvs {
		if kv == nil {
			continue
		}
		pairs = append(pairs, pair{Key: kv.Key, Value: kv.Value})
	}
	p.metrics.lastSuccess.Store(time.Now().UnixNano())
	p.metrics.lastContact.Set(meta.LastContact.Seconds())
	p.metrics.index.Set(float64(meta.LastIndex))
	return listResult{pairs: pairs, meta: meta}, nil
}

// nextIndex applies Consul's index rules to the index an answer carried:
// an index of 0 (a Consul bug, but it has happened) becomes 1, so the next
// query blocks instead of spinning; an index that went backwards resets to
// 0, so the next query does not block and learns the new index.
func nextIndex(prev, got uint64) uint64 {
	switch {
	case got == 0:
		return 1
	case got < prev:
		return 0
	}
	return got
}

// install publishes the answer as a new snapshot when its entries differ
// from the current ones, and reports whether that is a new version. An
// empty answer replaces a non-empty snapshot only when Consul reports a
// known leader; otherwise it returns errNoLeader and keeps the snapshot.
func (p *Provider) install(res listResult) (bool, error) {
	cur := p.cur.Load()
	if cur.source == "consul" && samePairs(cur.pairs, res.pairs) {
		return false, nil
	}
	if len(res.pairs) == 0 && len(cur.pairs) > 0 && !res.meta.KnownLeader {
		return false, errNoLeader
	}
	s, problems := p.build.build(res.pairs, res.meta.LastIndex, cur, "consul")
	changedData := !samePairs(cur.pairs, res.pairs)
	p.cur.Store(s)
	p.report(problems)
	if !changedData {
		// Same data as the snapshot file we started from: now confirmed
		// by Consul, not a new version.
		return false, nil
	}
	p.metrics.reloads.Inc()
	select {
	case p.changed <- struct{}{}:
	default:
	}
	if ce := p.log.Check(zap.DebugLevel, "configuration changed"); ce != nil {
		ce.Write(zap.Uint64("index", s.index), zap.Int("keys", len(s.pairs)))
	}
	return true, nil
}

// report logs data problems and counts them. Values never reach the log.
func (p *Provider) report(problems []problem) {
	for _, pr := range problems {
		switch pr.kind {
		case "document":
			p.metrics.errors.WithLabelValues(errKindDocument).Inc()
			p.log.Warn("document does not parse; keeping its last good version if any",
				zap.String("key", pr.key), zap.Error(pr.err))
		case "oversized":
			p.metrics.errors.WithLabelValues(errKindOversized).Inc()
			p.log.Warn("value over the size limit kept as a raw string",
				zap.String("key", pr.key), zap.Int("limit", p.opts.maxValueSize))
		case "shadowed":
			p.metrics.errors.WithLabelValues(errKindShadowed).Inc()
			p.log.Warn("key hidden by an object at the same path", zap.String("key", pr.key))
		}
	}
}

// watch is the one blocking query loop of the provider. A real change is
// installed as soon as its answer arrives and the next query goes out at
// once; the rate limiter only paces answers that brought no change, and
// errors wait out an exponential backoff with jitter (and the limiter).
func (p *Provider) watch(index uint64) {
	defer p.wg.Done()
	failures := 0
	for {
		if p.ctx.Err() != nil {
			return
		}
		res, err := p.list(p.ctx, index)
		if err == nil {
			var changed bool
			changed, err = p.install(res)
			if err == nil {
				if failures > 0 {
					p.log.Info("consul reachable again", zap.Uint64("index", res.meta.LastIndex))
				}
				failures = 0
				index = nextIndex(index, res.meta.LastIndex)
				if !changed && !p.pace() {
					return
				}
				continue
			}
		}
		if p.ctx.Err() != nil {
			return
		}
		// After any error the index starts over: a restarted server would
		// otherwise block for the whole wait on an index it never reached.
		index = 0
		failures++
		kind := errorKind(err)
		p.metrics.errors.WithLabelValues(kind).Inc()
		delay := backoff(failures, p.opts.minBackoff, p.opts.maxBackoff)
		p.log.Warn("consul read failed; serving the last known good configuration",
			zap.String("kind", kind), zap.Int("failures", failures),
			zap.Duration("retry_in", delay), zap.Error(err))
		if !p.sleep(delay) || !p.pace() {
			return
		}
	}
}

// pace waits for the rate limiter; false when the provider is closing.
func (p *Provider) pace() bool {
	return p.limiter.Wait(p.ctx) == nil
}

// sleep waits d; false when the provider is closing.
func (p *Provider) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff is the delay before retry number n (from 1): min*2^(n-1) capped at
// max, of which the upper half is random ("equal jitter"), so clients that
// failed together do not retry together, yet never wait under half the step.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// notify delivers change sets to OnChange callbacks, debounced, and writes
// the snapshot file. It runs apart from the watch, so neither a slow
// callback nor the disk delays the next query.
func (p *Provider) notify() {
	defer p.wg.Done()
	delivered := p.cur.Load()
	saved := p.save(nil) // the first answer, if it came from Consul
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending := false
	var first time.Time
	for {
		select {
		case <-p.ctx.Done():
			p.save(saved)
			return
		case <-p.changed:
			now := time.Now()
			if !pending {
				pending, first = true, now
			}
			d := p.opts.minQuiet
			if latest := first.Add(p.opts.maxQuiet); now.Add(d).After(latest) {
				d = latest.Sub(now)
			}
			timer.Reset(d)
		case <-timer.C:
			pending = false
			cur := p.cur.Load()
			saved = p.save(saved)
			ch := diff(delivered, cur)
			delivered = cur
			if ch.Empty() {
				continue
			}
			p.deliver(ch)
		}
	}
}

// save writes the current snapshot to the snapshot file when it came from
// Consul and differs from the one saved last; it returns the one on disk.
func (p *Provider) save(saved *snapshot) *snapshot {
	cur := p.cur.Load()
	if p.opts.snapshotFile == "" || cur == saved || cur.source != "consul" {
		return saved
	}
	if saved != nil && saved.index == cur.index && samePairs(saved.pairs, cur.pairs) {
		return cur
	}
	if err := writeSnapshotFile(p.opts.snapshotFile, p.opts.prefix, cur); err != nil {
		p.metrics.errors.WithLabelValues(errKindSnapshot).Inc()
		p.log.Warn("could not write the snapshot file", zap.Error(err))
		return saved
	}
	return cur
}

func (p *Provider) deliver(ch Change) {
	p.mu.Lock()
	fns := make([]callback, len(p.callbacks))
	copy(fns, p.callbacks)
	p.mu.Unlock()
	for _, cb := range fns {
		p.call(cb.fn, ch)
	}
}

// call runs one callback; a panic in it is logged and does not stop the
// watch.
func (p *Provider) call(fn func(Change), ch Change) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("OnChange callback panicked", zap.Any("panic", r))
		}
	}()
	fn(ch)
}
