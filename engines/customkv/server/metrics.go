package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own so
// that several servers can live in one process (tests).
type metrics struct {
	reg       *prometheus.Registry
	commits   prometheus.Counter
	conflicts prometheus.Counter
	fsync     prometheus.Histogram
	walBytes  prometheus.Counter
	requests  *prometheus.HistogramVec
	errors    *prometheus.CounterVec
	snapshots prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_kv_commits_total", Help: "Commits applied and acknowledged.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_kv_conflicts_total", Help: "Commits rejected with a read conflict.",
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fsmeta_kv_wal_fsync_seconds", Help: "Time of one WAL group write and fsync.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		walBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_kv_wal_bytes_total", Help: "Bytes appended to the write-ahead log.",
		}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fsmeta_kv_request_seconds", Help: "Request latency by call.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, []string{"call"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fsmeta_kv_request_errors_total", Help: "Failed requests by call and gRPC code.",
		}, []string{"call", "code"}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fsmeta_kv_snapshots_total", Help: "Snapshots written.",
		}),
	}
	m.reg.MustRegister(m.commits, m.conflicts, m.fsync, m.walBytes, m.requests, m.errors, m.snapshots,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
