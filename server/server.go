package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/asrkit/asrkit/api"
)

// Defaults of the zero Config fields.
const (
	DefaultDataRoot        = "/app/data"
	DefaultCheckpointRoot  = "/app/checkpoints"
	DefaultMaxBodyBytes    = 100 << 20
	DefaultMaxAudio        = time.Hour
	DefaultQueueSize       = 16
	DefaultRequestTimeout  = 10 * time.Minute
	DefaultMaxJobs         = 1
	DefaultMaxStreams      = 64
	DefaultPartialInterval = 500 * time.Millisecond
	DefaultShutdownTimeout = 2 * time.Minute
	// DefaultMaxBeam is the widest beam a request may ask for.
	DefaultMaxBeam = 64
)

// Config configures a Server. Every zero field means the default named on
// it.
type Config struct {
	// DataRoot is where datasets live: relative paths of posted training
	// configs and dataset checks resolve under it. Empty means /app/data.
	DataRoot string
	// CheckpointRoot holds one run directory per training job (the job's
	// only state), the feature cache (.cache) and exported models. It must
	// be writable. Empty means /app/checkpoints.
	CheckpointRoot string
	// Model is the model served at start: a model, checkpoint or run
	// directory. Empty means the model bundled into the binary.
	Model string
	// Backend is the compute backend of recognition ("go", "xla:cuda",
	// ...); empty follows $GOMLX_BACKEND, else auto. Training jobs choose
	// their own (train.backend).
	Backend string
	// Token, when set, is required as "Authorization: Bearer <token>" by
	// every /v1/ endpoint (WebSockets may send ?token= instead).
	Token string
	// MaxBodyBytes limits a transcription upload. Zero means 100 MB.
	MaxBodyBytes int64
	// MaxAudio limits the duration of a transcription upload. Zero means
	// one hour.
	MaxAudio time.Duration
	// Workers is the number of transcriptions that run at once. Zero means
	// one per CPU core, at most 4.
	Workers int
	// QueueSize is the number of transcription requests that may wait for
	// a worker; past it requests get 503 with Retry-After. Zero means 16;
	// a negative value means none wait.
	QueueSize int
	// RequestTimeout bounds a transcription request from its arrival to
	// its answer. Zero means 10 minutes.
	RequestTimeout time.Duration
	// MaxJobs is the number of training jobs that may run at once. Zero
	// means 1.
	MaxJobs int
	// MaxStreams is the number of /v1/stream sessions at once. Zero means 64.
	MaxStreams int
	// PartialInterval is the audio between two partial results of a
	// /v1/stream session; each reruns the model on the audio since the
	// last pause, so a longer interval serves more sessions. Zero means
	// 500 ms.
	PartialInterval time.Duration
	// ResumeJobs resumes the jobs that were interrupted (running when the
	// server last stopped) when the server starts.
	ResumeJobs bool
	// AllowOrigins are host patterns (path.Match syntax, e.g.
	// "localhost:58080" or "*.example.com") of web pages on other origins
	// that may call the API (CORS) and open its WebSockets. Empty means
	// same-origin only.
	AllowOrigins []string
	// ShutdownTimeout bounds the graceful shutdown: requests in flight,
	// and the training job's last step and checkpoint. Zero means 2
	// minutes.
	ShutdownTimeout time.Duration
	// Executable is the asr binary that runs training jobs (as `asr train
	// --config ...`). Empty means this program (os.Executable).
	Executable string
	// ChildEnv are extra environment variables of the training processes.
	ChildEnv []string
	// GUI, when set, serves the web interface at "/" (the API routes take
	// precedence). It is not behind the token: the pages call the API with
	// it.
	GUI http.Handler
	// Version is reported by /healthz.
	Version string
	// Logger receives the access log and the server's events. Nil means
	// none.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.DataRoot == "" {
		c.DataRoot = DefaultDataRoot
	}
	if c.CheckpointRoot == "" {
		c.CheckpointRoot = DefaultCheckpointRoot
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxAudio == 0 {
		c.MaxAudio = DefaultMaxAudio
	}
	if c.Workers == 0 {
		c.Workers = min(runtime.NumCPU(), 4)
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	} else if c.QueueSize < 0 {
		c.QueueSize = 0
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxJobs == 0 {
		c.MaxJobs = DefaultMaxJobs
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.PartialInterval == 0 {
		c.PartialInterval = DefaultPartialInterval
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("server: the body limit %d must be positive", c.MaxBodyBytes))
	}
	if c.MaxAudio < 0 {
		errs = append(errs, fmt.Errorf("server: the audio duration limit %v must be positive", c.MaxAudio))
	}
	if c.Workers < 0 || c.MaxJobs < 0 || c.MaxStreams < 0 {
		errs = append(errs, errors.New("server: workers, jobs and streams must be positive"))
	}
	if c.RequestTimeout < 0 || c.ShutdownTimeout < 0 || c.PartialInterval < 0 {
		errs = append(errs, errors.New("server: timeouts must be positive"))
	}
	return errors.Join(errs...)
}

// Server is the asr service: recognition, training jobs, datasets. Create
// it with [New], serve it with [Server.Serve] (or mount [Server.Handler]),
// and release it with [Server.Close].
type Server struct {
	cfg     Config
	log     *slog.Logger
	started time.Time
	dataDir string // absolute roots
	ckptDir string

	models  *models
	pool    *pool
	jobs    *jobs
	metrics *metrics
	handler http.Handler

	best        bestCache
	exportMu    sync.Mutex
	bundledOnce sync.Once
	bundled     api.ModelInfo
	hasBundled  bool

	streams   chan struct{} // a slot per stream session
	checking  chan struct{} // one dataset check at a time
	closing   chan struct{} // closed when shutdown begins
	closeOnce sync.Once
	sessions  *tracker // WebSocket sessions
}

// New checks the roots (the checkpoint root must be writable), loads the
// model and finds the training jobs of the checkpoint root; with
// cfg.ResumeJobs it resumes the interrupted ones.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), closing: make(chan struct{}), sessions: newTracker()}
	var err error
	if s.dataDir, err = filepath.Abs(cfg.DataRoot); err != nil {
		return nil, fmt.Errorf("server: data root: %w", err)
	}
	if s.ckptDir, err = filepath.Abs(cfg.CheckpointRoot); err != nil {
		return nil, fmt.Errorf("server: checkpoint root: %w", err)
	}
	if err := checkWritable(s.ckptDir); err != nil {
		return nil, err
	}
	if st, err := os.Stat(s.dataDir); err != nil || !st.IsDir() {
		s.log.Warn("the data root is not a folder: training configs and dataset checks will find nothing there", "data_root", s.dataDir)
	}
	if cfg.Executable == "" {
		if s.cfg.Executable, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("server: finding the asr binary for training jobs: %w", err)
		}
	}
	s.metrics = newMetrics()
	s.pool = newPool(cfg.Workers, cfg.QueueSize, s.metrics)
	s.streams = make(chan struct{}, cfg.MaxStreams)
	s.checking = make(chan struct{}, 1)
	if s.models, err = newModels(s); err != nil {
		return nil, err
	}
	s.jobs = newJobs(s)
	s.metrics.reg.MustRegister(s.jobs)
	if err := s.jobs.scan(); err != nil {
		s.models.close()
		return nil, err
	}
	if cfg.ResumeJobs {
		s.jobs.resumeInterrupted()
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections, lets requests in flight finish, closes
// the WebSocket sessions, and stops the training jobs (SIGTERM: each saves
// a checkpoint, and shows as interrupted after a restart), all within
// Config.ShutdownTimeout. It returns nil after a shutdown caused by ctx.
// Serve does not close the Server: call Close after it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "data_root", s.dataDir, "checkpoint_root", s.ckptDir,
		"model", s.models.current().info.Name, "auth", s.cfg.Token != "")
	select {
	case err := <-errc:
		s.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight and stopping the training jobs", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.jobs.stopAll(sctx)
	}()
	s.beginClose()
	err := hs.Shutdown(sctx)
	s.sessions.closeAndWait(sctx)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// beginClose tells WebSocket sessions to end.
func (s *Server) beginClose() { s.closeOnce.Do(func() { close(s.closing) }) }

// Shutdown stops the training jobs (as Serve does on shutdown) and ends
// the WebSocket sessions of a Handler mounted elsewhere, within ctx.
func (s *Server) Shutdown(ctx context.Context) {
	s.beginClose()
	s.jobs.stopAll(ctx)
	s.sessions.closeAndWait(ctx)
}

// Close releases the model. Call it after Serve (or Shutdown) returned.
func (s *Server) Close() error {
	s.beginClose()
	s.models.close()
	return nil
}

// health answers GET /healthz.
func (s *Server) health() api.Health {
	return api.Health{
		Status:     "ok",
		Version:    s.cfg.Version,
		Model:      s.models.current().info.Name,
		Uptime:     time.Since(s.started).Seconds(),
		RunningJob: s.jobs.runningID(),
	}
}
