package consulconfig

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
)

// Error kinds, the "kind" label of baldur_consulconfig_errors_total.
const (
	errKindConnection = "connection" // transport error: refused, reset, EOF
	errKindTimeout    = "timeout"    // the request deadline passed
	errKindStatus     = "status"     // Consul answered with an error status
	errKindDecode     = "decode"     // the answer was not the JSON Consul sends
	errKindNoLeader   = "no_leader"  // empty answer without a known leader, not applied
	errKindDocument   = "document"   // a document that does not parse
	errKindOversized  = "oversized"  // a value over the size limit, kept as a string
	errKindShadowed   = "shadowed"   // a scalar key hidden by an object at the same path
	errKindSnapshot   = "snapshot"   // the snapshot file could not be read or written
)

// metrics are the provider's Prometheus collectors. They always exist;
// WithRegisterer registers them.
type metrics struct {
	requests    prometheus.Counter
	errors      *prometheus.CounterVec
	index       prometheus.Gauge
	lastContact prometheus.Gauge
	successAge  prometheus.GaugeFunc
	reloads     prometheus.Counter

	lastSuccess atomic.Int64 // unix nanoseconds of the last successful read; 0: none
}

func newMetrics(prefix string) *metrics {
	labels := prometheus.Labels{"prefix": prefix}
	m := &metrics{}
	m.requests = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "requests_total",
		Help: "KV list requests sent to Consul.", ConstLabels: labels,
	})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "errors_total",
		Help: "Failed requests and data problems, by kind.", ConstLabels: labels,
	}, []string{"kind"})
	m.index = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "index",
		Help: "Consul index of the last answer.", ConstLabels: labels,
	})
	m.lastContact = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "last_contact_seconds",
		Help: "Time since the answering server last heard from the leader (X-Consul-LastContact).", ConstLabels: labels,
	})
	m.successAge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "last_success_age_seconds",
		Help: "Seconds since the last successful read from Consul; -1 before the first.", ConstLabels: labels,
	}, m.age)
	m.reloads = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "baldur", Subsystem: "consulconfig", Name: "reloads_total",
		Help: "New configuration versions installed.", ConstLabels: labels,
	})
	return m
}

func (m *metrics) age() float64 {
	t := m.lastSuccess.Load()
	if t == 0 {
		return -1
	}
	return time.Since(time.Unix(0, t)).Seconds()
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.errors, m.index, m.lastContact, m.successAge, m.reloads}
}

// register registers every collector or none.
func (m *metrics) register(r prometheus.Registerer) error {
	done := make([]prometheus.Collector, 0, 6)
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

func (m *metrics) unregister(r prometheus.Registerer) {
	for _, c := range m.collectors() {
		r.Unregister(c)
	}
}

// errorKind classifies a request error by type, never by text.
func errorKind(err error) string {
	var status api.StatusError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errNoLeader):
		return errKindNoLeader
	case errors.Is(err, context.DeadlineExceeded):
		return errKindTimeout
	case errors.As(err, &status):
		return errKindStatus
	case errors.As(err, &syntax), errors.As(err, &typ):
		return errKindDecode
	}
	return errKindConnection
}
