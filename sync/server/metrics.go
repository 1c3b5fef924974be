package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/coffer-vault/coffer/vault/object"
)

// metrics are the server's Prometheus metrics, in a registry of the
// server's own. Their labels are routes, status codes and object kinds
// only: no device, person, folder or address, which a metrics system
// keeps apart from the trail, for longer and readable by more people.
// (Counts by route still show when the organisation's trail is read:
// GET /v1/audit/org.)
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec   // route, code
	duration    *prometheus.HistogramVec // route
	streams     prometheus.Gauge
	stored      *prometheus.CounterVec // kind
	storedBytes prometheus.Counter
	lost        prometheus.Counter
	blocked     prometheus.Counter
	logEntries  prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cofferd_http_requests_total",
			Help: "API requests answered, by route (the API's pattern) and HTTP status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cofferd_http_request_duration_seconds",
			Help: "Time to answer an API request, by route; feed streams and long polls count their whole wait.",
			// 5 ms to 60 s: a push's p99 budget is 250 ms, a long poll
			// waits up to its limit.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cofferd_feed_streams",
			Help: "Change-feed streams (server-sent events) open now.",
		}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cofferd_objects_stored_total",
			Help: "Objects stored (new ones only), by kind.",
		}, []string{"kind"}),
		storedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cofferd_stored_bytes_total",
			Help: "Bytes of the objects stored.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cofferd_lost_objects_read_total",
			Help: "Reads of an object whose bytes the storage lost (answered 500 lost): restore from a backup, or have the storing device upload it again.",
		}),
		blocked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cofferd_audit_blocked_total",
			Help: "Audit entries devices sent whose outcome is blocked (an export, print or copy refused).",
		}),
		logEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cofferd_org_log_entries",
			Help: "Entries of the organisation's log, as this server last read it.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.streams, m.stored, m.storedBytes, m.lost, m.blocked, m.logEntries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the server's metrics in Prometheus' text format
// (cofferd serve --metrics ADDR: on a listener of its own, never the API's).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// instrument counts and times the requests of one route.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := sw.status
			p := recover()
			if p != nil {
				code = http.StatusInternalServerError // what recover answers
			} else if code == 0 {
				code = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if p != nil {
				panic(p)
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// storedObject counts an object stored.
func (m *metrics) storedObject(kind object.Kind, size int) {
	m.stored.WithLabelValues(kind.String()).Inc()
	m.storedBytes.Add(float64(size))
}

// statusWriter remembers the status code written. Unwrap lets
// http.ResponseController reach the connection (flushes and write
// deadlines of the feed stream).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
