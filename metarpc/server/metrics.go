package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
)

// metrics are the server's Prometheus series, on a registry of its own so
// that several servers can live in one process (tests).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	conflicts prometheus.Counter
	expired   prometheus.Counter
	reaped    prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fsmeta_meta_requests_total",
			Help: "Requests by operation and result: OK, an errno name (ENOENT, ...) or a gRPC code (InvalidArgument, ...).",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fsmeta_meta_request_seconds", Help: "Request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.00002, 2, 20),
		}, []string{"op"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_meta_conflicts_total",
			Help: "Transaction retries caused by a read conflict (counted when the server opened the store itself).",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_meta_sessions_expired_total", Help: "Sessions of this server's clients that expired: their keepalives stopped for a lease.",
		}),
		reaped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_meta_sessions_reaped_total", Help: "Expired session records (of any client of the store) whose handles and locks this server's expiry passes released.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.conflicts, m.expired, m.reaped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// opMetrics are one operation's series, resolved once: the label lookup
// of WithLabelValues hashes the labels and takes the vector's lock on every
// request otherwise.
type opMetrics struct {
	ok      prometheus.Counter
	latency prometheus.Observer
}

// ops resolves the series of every method of the service descriptors, by
// full method name ("/fsmeta.meta.v1.Meta/Lookup").
func (m *metrics) ops(descs ...*grpc.ServiceDesc) map[string]opMetrics {
	out := map[string]opMetrics{}
	for _, d := range descs {
		for _, md := range d.Methods {
			out["/"+d.ServiceName+"/"+md.MethodName] = opMetrics{
				ok:      m.requests.WithLabelValues(md.MethodName, "OK"),
				latency: m.latency.WithLabelValues(md.MethodName),
			}
		}
	}
	return out
}

// watch registers the series read from the store and the session table.
func (m *metrics) watch(retries func() int64, sessions func() int) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fsmeta_meta_retries_total", Help: "Transaction retries of the store (conflicts and other retryable errors).",
		}, func() float64 { return float64(retries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fsmeta_meta_sessions", Help: "Live sessions of remote clients.",
		}, func() float64 { return float64(sessions()) }),
	)
}
