package crosscluster

import "github.com/prometheus/client_golang/prometheus"

// metrics are the replicator's Prometheus collectors, labelled by peer.
type metrics struct {
	replicated *prometheus.CounterVec
	errors     *prometheus.CounterVec
	resyncs    *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	lag        *prometheus.GaugeVec
	checkpoint *prometheus.GaugeVec
	connected  *prometheus.GaugeVec
}

func newMetrics() *metrics {
	const ns, sub = "baldur", "sync"
	return &metrics{
		replicated: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_replicated_total", Help: "Record writes and deletes applied to the local cluster from a peer."},
			[]string{"peer"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Replication errors by peer and kind (stream, apply, malformed)."},
			[]string{"peer", "kind"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "resyncs_total", Help: "Full re-lists of a peer after its history was compacted past the checkpoint."},
			[]string{"peer"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "skipped_total", Help: "Malformed records from a peer that were reported and skipped."},
			[]string{"peer"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "lag_seconds", Help: "How long the local cluster has been behind the peer's latest revision (0 when caught up)."},
			[]string{"peer"}),
		checkpoint: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "checkpoint_revision", Help: "Last source revision of the peer processed by the local cluster."},
			[]string{"peer"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "peer_connected", Help: "1 while the peer's watch stream is up."},
			[]string{"peer"}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.replicated, m.errors, m.resyncs, m.skipped, m.lag, m.checkpoint, m.connected}
}

// register registers every collector, or none: on a failure (a second
// replicator on the same registry) the ones already registered are taken
// back.
func (m *metrics) register(r prometheus.Registerer) error {
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := r.Register(c); err != nil {
			for _, d := range done {
				r.Unregister(d)
			}
			return err
		}
		done = append(done, c)
	}
	return nil
}
