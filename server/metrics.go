package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics (GET /metrics), in a
// registry of their own.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	audio      *prometheus.CounterVec
	rtf        prometheus.Histogram
	queued     prometheus.Gauge
	inFlight   prometheus.Gauge
	rejected   prometheus.Counter
	streams    prometheus.Gauge
	modelLoads *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asr_http_requests_total",
			Help: "HTTP requests by route (the endpoint's pattern) and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "asr_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route (WebSocket sessions excluded).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"route"}),
		audio: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asr_audio_seconds_transcribed_total",
			Help: "Seconds of audio transcribed, by source (transcribe: POST /v1/transcribe; stream: /v1/stream).",
		}, []string{"source"}),
		rtf: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "asr_transcribe_real_time_factor",
			Help:    "Processing time over audio duration of each POST /v1/transcribe (below 1 is faster than real time).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asr_transcribe_queue_depth",
			Help: "Transcription requests waiting for a worker.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asr_transcribe_in_flight",
			Help: "Transcriptions running now.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "asr_transcribe_rejected_total",
			Help: "Transcription requests refused with 503 because the queue was full.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "asr_stream_sessions",
			Help: "Open /v1/stream sessions.",
		}),
		modelLoads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asr_model_loads_total",
			Help: "Model loads (POST /v1/models/load) by result.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.audio, m.rtf, m.queued, m.inFlight, m.rejected, m.streams, m.modelLoads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Training metrics: the jobs collector (jobs.go) reports them at each
// scrape from the running jobs' logs.
var (
	descTrainRunning = prometheus.NewDesc("asr_train_jobs_running", "Training jobs running now.", nil, nil)
	descTrainStep    = prometheus.NewDesc("asr_train_step", "Optimizer steps done by a running job.", []string{"job"}, nil)
	descTrainTotal   = prometheus.NewDesc("asr_train_total_steps", "Planned optimizer steps of a running job.", []string{"job"}, nil)
	descTrainLoss    = prometheus.NewDesc("asr_train_loss", "Latest training loss (per label token) of a running job.", []string{"job"}, nil)
	descTrainWER     = prometheus.NewDesc("asr_train_wer", "Latest validation WER (a fraction) of a running job.", []string{"job"}, nil)
	descTrainCER     = prometheus.NewDesc("asr_train_cer", "Latest validation CER (a fraction) of a running job.", []string{"job"}, nil)
	descTrainSpeed   = prometheus.NewDesc("asr_train_audio_seconds_per_second", "Latest training throughput of a running job.", []string{"job"}, nil)
)
