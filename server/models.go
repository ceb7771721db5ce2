package server

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/bundled"
)

// served is a loaded model. Requests hold it (acquire/release) while they
// use it; when another model replaces it, it is closed after the last.
type served struct {
	base *asr.Recognizer // what was loaded (closed at the end)
	rec  *asr.Recognizer // base, or a variant of it with other LM weights
	info api.ModelInfo
	// lmWeight and wordBonus are the decoder's settings (0: the defaults).
	lmWeight, wordBonus float64

	mu      sync.Mutex
	refs    int
	retired bool
}

func (m *served) acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retired {
		return false
	}
	m.refs++
	return true
}

func (m *served) release() {
	m.mu.Lock()
	m.refs--
	last := m.retired && m.refs == 0
	m.mu.Unlock()
	if last {
		m.base.Close()
	}
}

// retire closes the model once no request holds it.
func (m *served) retire() {
	m.mu.Lock()
	m.retired = true
	idle := m.refs == 0
	m.mu.Unlock()
	if idle {
		m.base.Close()
	}
}

// models holds the served model and switches it.
type models struct {
	s      *Server
	mu     sync.RWMutex
	cur    *served
	loadMu sync.Mutex // one load at a time
}

func newModels(s *Server) (*models, error) {
	ms := &models{s: s}
	m, err := ms.load(api.LoadModelRequest{Path: s.cfg.Model}, true)
	if err != nil {
		return nil, err
	}
	ms.cur = m
	return ms, nil
}

// current returns the served model, for its description only.
func (ms *models) current() *served {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return ms.cur
}

// acquire returns the served model, held until release.
func (ms *models) acquire() *served {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	ms.cur.acquire() // cannot fail: a model is retired only after being replaced
	return ms.cur
}

func (ms *models) close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.cur != nil {
		ms.cur.retire()
	}
}

// resolve turns what a request names into a model path: "" for the
// bundled model, or an absolute directory. The startup model (--model) is
// allowed wherever it is; anything else must be under a root.
func (ms *models) resolve(name string, startup bool) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == api.KindBundled {
		return "", nil
	}
	if startup {
		return filepath.Abs(name)
	}
	if first := ms.s.cfg.Model; first != "" {
		if abs, err := filepath.Abs(first); err == nil && (name == first || filepath.Clean(name) == abs) {
			return abs, nil
		}
	}
	p, err := ms.s.resolveUnder("path", name, ms.s.ckptDir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", errorf(http.StatusNotFound, "model %s: no such directory under the checkpoint root", name)
	}
	return p, nil
}

// load loads a model (not yet served).
func (ms *models) load(req api.LoadModelRequest, startup bool) (*served, error) {
	path, err := ms.resolve(req.Path, startup)
	if err != nil {
		return nil, err
	}
	q := decodeQuery{beam: req.Beam, lmWeight: req.LMWeight, wordBonus: req.WordBonus, noLM: req.NoLM}
	if err := q.validate(); err != nil {
		return nil, err
	}
	rec, err := loadRecognizer(path, ms.s.cfg.Backend, q)
	if err != nil {
		if startup {
			return nil, fmt.Errorf("server: loading the model: %w", err)
		}
		return nil, errorf(http.StatusBadRequest, "loading %s: %v", req.Path, err)
	}
	m := &served{base: rec, rec: rec}
	// The language-model weights in use, so that a request that changes
	// one keeps the other.
	if d := rec.Info().Manifest.Decoding; d != nil && d.LM != "" && !q.noLM {
		m.lmWeight, m.wordBonus = d.LMWeight, d.WordBonus
	}
	if q.lmWeight != nil || q.wordBonus != nil {
		if m.rec, err = withDecoding(m.base, decodeQuery{lmWeight: q.lmWeight, wordBonus: q.wordBonus}, m.lmWeight, m.wordBonus); err != nil {
			rec.Close()
			return nil, errorf(http.StatusBadRequest, "loading %s: %v", req.Path, err)
		}
		m.lmWeight, m.wordBonus = ptrOr(q.lmWeight, m.lmWeight), ptrOr(q.wordBonus, m.wordBonus)
	}
	ri := m.rec.Info()
	m.info = ms.s.describeModel(path, ri.Manifest)
	m.info.Decoder, m.info.Backend, m.info.SampleRate, m.info.LoadedAt = ri.Decoder, ri.Backend, rec.SampleRate(), time.Now().UTC()
	return m, nil
}

// switchTo loads a model and serves it; requests in flight finish on the
// previous one, which is closed after them.
func (ms *models) switchTo(req api.LoadModelRequest) (api.ModelInfo, error) {
	ms.loadMu.Lock()
	defer ms.loadMu.Unlock()
	m, err := ms.load(req, false)
	if err != nil {
		ms.s.metrics.modelLoads.WithLabelValues("error").Inc()
		return api.ModelInfo{}, err
	}
	ms.mu.Lock()
	old := ms.cur
	ms.cur = m
	ms.mu.Unlock()
	old.retire()
	ms.s.metrics.modelLoads.WithLabelValues("ok").Inc()
	ms.s.log.Info("model loaded", "model", m.info.Name, "decoder", m.info.Decoder, "previous", old.info.Name)
	return m.info, nil
}

// describeModel describes the model at path ("" for the bundled one)
// whose manifest is m.
func (s *Server) describeModel(path string, m *manifest) api.ModelInfo {
	info := api.ModelInfo{Name: api.KindBundled, Kind: api.KindBundled}
	if path != "" {
		info.Path = path
		info.Name = s.modelName(path)
		info.Kind = api.KindModel
		if isRunDir(path) {
			info.Kind = api.KindRun
		} else if m != nil && isCheckpointKind(m) {
			info.Kind = api.KindCheckpoint
		}
		if rel, err := filepath.Rel(s.ckptDir, path); err == nil && within(path, s.ckptDir) && rel != "." {
			info.Job = strings.Split(rel, string(filepath.Separator))[0]
		}
	}
	if m != nil {
		info.Preset, info.Parameters, info.Step, info.Time = m.Model.Preset, m.Parameters, m.Step, m.Time
		info.Eval = evalMetrics(m.Metrics.Eval)
	}
	return info
}

// modelName is how requests name the model at path: relative to the
// checkpoint root when under it, else absolute.
func (s *Server) modelName(path string) string {
	if within(path, s.ckptDir) {
		if rel, err := filepath.Rel(s.ckptDir, path); err == nil && rel != "." {
			return filepath.ToSlash(rel)
		}
	}
	return path
}

func evalMetrics(e *evalResult) *api.EvalMetrics {
	if e == nil {
		return nil
	}
	return &api.EvalMetrics{Step: e.Step, WER: e.WER, CER: e.CER, Loss: e.Loss, Utterances: e.Utterances, Words: e.Words}
}

// available lists the models POST /v1/models/load accepts: the bundled
// model, the startup model, and the run directories and exported model
// directories (<job>/model) under the checkpoint root, newest first.
func (s *Server) available() []api.ModelInfo {
	var out []api.ModelInfo
	if info, ok := s.bundledInfo(); ok {
		out = append(out, info)
	}
	if p := s.cfg.Model; p != "" {
		if abs, err := filepath.Abs(p); err == nil && !within(abs, s.ckptDir) {
			out = append(out, s.describeDir(abs))
		}
	}
	var found []api.ModelInfo
	entries, _ := os.ReadDir(s.ckptDir)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(s.ckptDir, e.Name())
		if isRunDir(dir) {
			found = append(found, s.describeDir(dir))
		}
		sub, _ := os.ReadDir(dir)
		for _, f := range sub {
			if f.IsDir() && !strings.HasPrefix(f.Name(), ".") && f.Name() != checkpointsDir {
				if _, err := os.Stat(filepath.Join(dir, f.Name(), manifestFile)); err == nil {
					found = append(found, s.describeDir(filepath.Join(dir, f.Name())))
				}
			}
		}
	}
	slices.SortStableFunc(found, func(a, b api.ModelInfo) int { return b.Time.Compare(a.Time) })
	return append(out, found...)
}

// describeDir describes a model, checkpoint or run directory from its
// manifests (a run directory by its newest checkpoint), without reading
// the weights.
func (s *Server) describeDir(dir string) api.ModelInfo {
	if isRunDir(dir) {
		info := s.describeModel(dir, nil)
		list, err := listCheckpoints(dir)
		if err != nil {
			info.Error = err.Error()
			return info
		}
		for i := len(list) - 1; i >= 0; i-- {
			if m := list[i].Manifest; m != nil {
				info = s.describeModel(dir, m)
				break
			}
		}
		if info.Time.IsZero() {
			info.Error = "no usable checkpoint yet"
		}
		return info
	}
	m, err := readManifest(dir)
	info := s.describeModel(dir, m)
	if err != nil {
		info.Error = err.Error()
	}
	return info
}

// bundledInfo describes the bundled model, if this build has one.
func (s *Server) bundledInfo() (api.ModelInfo, bool) {
	s.bundledOnce.Do(func() {
		b, err := fs.ReadFile(bundled.FS(), manifestFile)
		if err != nil {
			return
		}
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
		s.bundled = s.describeModel("", &m)
		s.hasBundled = true
	})
	return s.bundled, s.hasBundled
}
