package crosscluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// opTimeout bounds one destination read or transaction. The transaction runs
// on a context detached from Run's, so a cancelled Run still finishes it.
const opTimeout = 10 * time.Second

// maxItemsPerTxn keeps a destination transaction under etcd's default
// limit of 128 operations (a record is at most three: record, marker,
// pending entry; plus the checkpoint).
const maxItemsPerTxn = 40

// minLeaseTTL is the shortest lease given to a request copy: etcd refuses
// shorter ones in practice (CONTRACT.md: never less than 2 s, round up).
const minLeaseTTL = 2

// item is one record change from a peer to apply locally.
type item struct {
	kind, id, key string
	value         []byte // nil: a delete
	prev          []byte // a delete: the value deleted at the source (nil: unknown)
	label         string // origin of value (or of prev, for a delete)
	lease         int64  // the source's lease (requests)
	srcRev        int64
	parsed        *parsed // value, already parsed and checked (nil: parse in decide)
}

// destKV is the local state of one record.
type destKV struct {
	exists bool
	value  []byte
	modRev int64
	lease  int64
	label  string // origin of the current value
	peer   string // the peer it was received from, "" when it is not a received copy
	copy   bool   // a received copy (marker written in the same transaction, not a re-assertion)
}

type action int

const (
	actNone     action = iota
	actPut             // write the peer's value
	actDelete          // delete the local copy
	actReassert        // the local value is newer: rewrite it so it travels back
	actCleanup         // a request deleted at the source is already gone here: drop its pending entry
)

func (a action) String() string {
	return [...]string{"none", "put", "delete", "reassert", "cleanup"}[a]
}

// decision is what to do with one item; in is the parsed incoming value
// (puts) and cur the parsed local value (when it parsed).
type decision struct {
	act     action
	in, cur *parsed
	ttl     int64 // lease seconds for a request put
}

// errMalformed marks an incoming record the replicator skips.
var errMalformed = errors.New("malformed record")

// decide applies the merge rule to one item against the local state.
func (r *Replicator) decide(it item, cur destKV) (decision, error) {
	var d decision
	var curP *parsed
	if cur.exists {
		if p, err := parseValue(it.kind, cur.value, cur.label); err == nil {
			curP = &p
		}
	}
	d.cur = curP
	if it.value != nil {
		in := it.parsed
		if in == nil {
			p, err := parseValue(it.kind, it.value, it.label)
			if err != nil {
				return d, fmt.Errorf("%w: %s %q at source revision %d: %w", errMalformed, it.kind, it.id, it.srcRev, err)
			}
			in = &p
		}
		d.in = in
		switch {
		case !cur.exists || curP == nil:
			d.act = actPut
		case bytes.Equal(cur.value, it.value):
			d.act = actNone
		case compareKeys(in.key, curP.key) > 0:
			d.act = actPut
		default:
			d.act = actReassert
		}
		return d, nil
	}
	switch {
	case !cur.exists && it.kind == kindRequest && it.prev != nil:
		// The local copy's own lease ran out first; its pending entry
		// (which has no lease) must still go.
		if prev, err := parseValue(it.kind, it.prev, it.label); err == nil {
			d.act, d.cur = actCleanup, &prev
		}
	case !cur.exists:
		d.act = actNone
	case it.prev == nil || curP == nil || bytes.Equal(cur.value, it.prev):
		d.act = actDelete
	default:
		prev, err := parseValue(it.kind, it.prev, it.label)
		if err != nil || compareKeys(curP.key, prev.key) <= 0 {
			d.act = actDelete
		} else {
			d.act = actReassert
		}
	}
	return d, nil
}

// readDest reads the local record and marker of every item.
func (r *Replicator) readDest(ctx context.Context, items []item) (map[string]destKV, error) {
	out := make(map[string]destKV, len(items))
	for start := 0; start < len(items); start += 60 {
		chunk := items[start:min(start+60, len(items))]
		ops := make([]clientv3.Op, 0, 2*len(chunk))
		for _, it := range chunk {
			ops = append(ops, clientv3.OpGet(it.key), clientv3.OpGet(r.keys.marker(it.kind, it.id)))
		}
		tctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := r.local.Txn(tctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("crosscluster: read local copies: %w", err)
		}
		for i, it := range chunk {
			rec := resp.Responses[2*i].GetResponseRange().Kvs
			mk := resp.Responses[2*i+1].GetResponseRange().Kvs
			d := destKV{label: r.localName}
			if len(rec) == 1 {
				d.exists, d.value, d.modRev, d.lease = true, rec[0].Value, rec[0].ModRevision, rec[0].Lease
				if len(mk) == 1 && mk[0].ModRevision == rec[0].ModRevision {
					if m, ok := decodeMarker(mk[0].Value); ok {
						d.label, d.peer, d.copy = m.Origin, m.Peer, !m.Forward
					}
				}
			}
			out[it.key] = d
			r.cache.store(it.key, d)
		}
	}
	return out, nil
}

// requestTTL is the lease a request copy gets: the remaining TTL of the
// source's lease, else what is left of 7 days from created_at, at least
// minLeaseTTL seconds. ok is false when the request has already expired.
func (r *Replicator) requestTTL(ctx context.Context, ps *peerState, it item, in *parsed) (int64, bool) {
	if it.lease != 0 {
		tctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := ps.Client.TimeToLive(tctx, clientv3.LeaseID(it.lease))
		cancel()
		if err == nil && resp.TTL > 0 {
			return max(resp.TTL, minLeaseTTL), true
		}
	}
	if created, ok := asFloat(in.rec["created_at"]); ok {
		left := time.Until(fromEpoch(created).Add(RequestTTL))
		if left <= 0 {
			return 0, false
		}
		return max(int64(math.Ceil(left.Seconds())), minLeaseTTL), true
	}
	return int64(RequestTTL / time.Second), true
}

// commit applies items against the local state cur in one transaction,
// guarded by the ModRevision of every record it touches, and writes the
// checkpoint ckpt (when > 0) in the same transaction. It returns false when
// a guard failed (a local write raced it): the caller re-reads and retries.
// Malformed items are reported and skipped.
//
// verified says whether cur was read from etcd (or a listing) rather than
// guessed from the cache. A guess is safe for every write, since the guard
// checks it, but not for deciding to do nothing: an unverified "nothing to
// do" returns false so that the caller reads and decides again.
func (r *Replicator) commit(ctx context.Context, ps *peerState, items []item, cur map[string]destKV, ckpt int64, verified bool) (bool, error) {
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	var granted []clientv3.LeaseID
	var oldLeases []int64
	// after is the local state of each written record once the transaction
	// committed (its ModRevision is the transaction's revision).
	after := map[string]destKV{}
	writes := 0
	for _, it := range items {
		c := cur[it.key]
		d, err := r.decide(it, c)
		if err != nil {
			r.malformed(ps, err)
			continue
		}
		mkey := r.keys.marker(it.kind, it.id)
		switch d.act {
		case actNone:
			if !verified {
				r.revoke(granted)
				return false, nil
			}
			continue
		case actPut:
			var leaseOpt []clientv3.OpOption
			if it.kind == kindRequest {
				ttl, ok := r.requestTTL(ctx, ps, it, d.in)
				if !ok {
					continue // expired on the way: nothing to copy
				}
				lctx, cancel := context.WithTimeout(ctx, opTimeout)
				l, err := r.local.Grant(lctx, ttl)
				cancel()
				if err != nil {
					r.revoke(granted)
					return false, fmt.Errorf("crosscluster: grant lease for request %q: %w", it.id, err)
				}
				granted = append(granted, l.ID)
				leaseOpt = append(leaseOpt, clientv3.WithLease(l.ID))
				after[it.key] = destKV{exists: true, value: it.value, lease: int64(l.ID), label: it.label, peer: ps.Name, copy: true}
				if c.lease != 0 {
					oldLeases = append(oldLeases, c.lease)
				}
			}
			if _, ok := after[it.key]; !ok {
				after[it.key] = destKV{exists: true, value: it.value, label: it.label, peer: ps.Name, copy: true}
			}
			m := marker{Origin: it.label, Peer: ps.Name, SrcRev: it.srcRev}
			ops = append(ops, clientv3.OpPut(it.key, string(it.value), leaseOpt...),
				clientv3.OpPut(mkey, m.encode(), leaseOpt...))
			if it.kind == kindRequest {
				pk := r.keys.pendingKey(d.in.target, it.id)
				if d.in.status == StatusPendingApproval {
					ops = append(ops, clientv3.OpPut(pk, ""))
				} else {
					ops = append(ops, clientv3.OpDelete(pk))
				}
			}
		case actDelete:
			after[it.key] = destKV{label: r.localName}
			ops = append(ops, clientv3.OpDelete(it.key), clientv3.OpDelete(mkey))
			if it.kind == kindRequest && d.cur != nil {
				ops = append(ops, clientv3.OpDelete(r.keys.pendingKey(d.cur.target, it.id)))
			}
		case actCleanup:
			ops = append(ops, clientv3.OpDelete(r.keys.pendingKey(d.cur.target, it.id)))
		case actReassert:
			var leaseOpt []clientv3.OpOption
			if c.lease != 0 {
				leaseOpt = append(leaseOpt, clientv3.WithLease(clientv3.LeaseID(c.lease)))
			}
			after[it.key] = destKV{exists: true, value: c.value, lease: c.lease, label: c.label}
			m := marker{Origin: c.label, Forward: true}
			ops = append(ops, clientv3.OpPut(it.key, string(c.value), leaseOpt...),
				clientv3.OpPut(mkey, m.encode(), leaseOpt...))
		}
		writes++
		r.log.Debug("replicate", zap.String("peer", ps.Name), zap.String("key", it.key),
			zap.Stringer("action", d.act), zap.Int64("src_rev", it.srcRev))
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(it.key), "=", c.modRev))
	}
	if len(ops) == 0 {
		return true, nil
	}
	if ckpt > 0 {
		ops = append(ops, clientv3.OpPut(r.keys.checkpoint(ps.Name), strconv.FormatInt(ckpt, 10)))
	}
	// Detached from Run's context: a cancelled Run finishes this transaction.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	resp, err := r.local.Txn(tctx).If(cmps...).Then(ops...).Commit()
	cancel()
	if err != nil {
		r.revoke(granted)
		for _, it := range items {
			r.cache.forget(it.key)
		}
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return false, nil // a local lease we re-used expired meanwhile: re-read
		}
		return false, fmt.Errorf("crosscluster: apply source revision %d from %q: %w", items[0].srcRev, ps.Name, err)
	}
	if !resp.Succeeded {
		// The local state was not what we decided on: forget the guesses.
		r.revoke(granted)
		for _, it := range items {
			r.cache.forget(it.key)
		}
		return false, nil
	}
	for key, kv := range after {
		if kv.exists {
			kv.modRev = resp.Header.Revision
		}
		r.cache.store(key, kv)
	}
	r.releaseLeases(oldLeases)
	r.m.replicated.WithLabelValues(ps.Name).Add(float64(writes))
	ps.mu.Lock()
	ps.replicated += uint64(writes)
	ps.lastApplied = time.Now()
	if ckpt > ps.stored {
		ps.stored, ps.storedAt = ckpt, ps.lastApplied
	}
	ps.mu.Unlock()
	return true, nil
}

// revoke drops leases granted for a transaction that did not commit.
func (r *Replicator) revoke(ids []clientv3.LeaseID) {
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, _ = r.local.Revoke(ctx, id) // best effort: an orphan lease expires on its own
		cancel()
	}
}

// releaseLeases revokes the leases of replaced request copies once no key
// is attached to them any more (a lease shared with other keys is kept).
func (r *Replicator) releaseLeases(ids []int64) {
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		resp, err := r.local.TimeToLive(ctx, clientv3.LeaseID(id), clientv3.WithAttachedKeys())
		if err == nil && resp.TTL > 0 && len(resp.Keys) == 0 {
			_, _ = r.local.Revoke(ctx, clientv3.LeaseID(id))
		}
		cancel()
	}
}

// malformed reports a record that cannot be replicated; the stream goes on.
func (r *Replicator) malformed(ps *peerState, err error) {
	r.log.Warn("skipping malformed record", zap.String("peer", ps.Name), zap.Error(err))
	r.m.skipped.WithLabelValues(ps.Name).Inc()
	r.m.errors.WithLabelValues(ps.Name, "malformed").Inc()
	ps.mu.Lock()
	ps.skipped++
	ps.errors++
	ps.lastError = err.Error()
	ps.mu.Unlock()
}

// applyItems applies the changes of one source revision: read, decide,
// commit, and on a lost race read again. The last chunk carries the
// checkpoint rev; earlier chunks (only for source transactions with more
// than maxItemsPerTxn records) carry rev-1, which is safe to resume from
// because re-applying a value that is already there is a no-op.
func (r *Replicator) applyItems(ctx context.Context, ps *peerState, rev int64, items []item) error {
	for start := 0; start < len(items); start += maxItemsPerTxn {
		end := min(start+maxItemsPerTxn, len(items))
		ckpt := rev
		if end < len(items) {
			ckpt = rev - 1
		}
		if err := r.applyChunk(ctx, ps, items[start:end], ckpt); err != nil {
			return err
		}
	}
	return nil
}

func (r *Replicator) applyChunk(ctx context.Context, ps *peerState, items []item, ckpt int64) error {
	for attempt := 0; ; attempt++ {
		// First from the cache; after a lost race, from etcd.
		read := r.cachedDest
		if attempt > 0 {
			read = r.readDest
		}
		cur, err := read(context.WithoutCancel(ctx), items)
		if err != nil {
			return err
		}
		ok, err := r.commit(ctx, ps, items, cur, ckpt, attempt > 0)
		if err != nil || ok {
			return err
		}
		if attempt >= 20 {
			return fmt.Errorf("crosscluster: source revision %d from %q: local copies kept changing, gave up after %d attempts", ckpt, ps.Name, attempt+1)
		}
	}
}
