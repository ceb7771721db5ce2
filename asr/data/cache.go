package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asrkit/asrkit/asr/features"
)

// ErrCacheIO is wrapped by the errors of writing the feature cache (a full
// disk, a read-only folder, a failing device). They stop a build: they say
// nothing about the audio, so they never make an utterance invalid.
var ErrCacheIO = errors.New("feature cache I/O error")

// writeEntry writes a cache entry (writeCacheEntry; a variable, so that
// tests can make the disk fail).
var writeEntry = writeCacheEntry

// Cache is a folder of log-mel features, one checksummed file per utterance
// (see the package documentation for the format). Its name carries a hash of
// the feature configuration, so a different configuration uses a different
// folder and nothing computed with the old one is ever read. A Cache is safe
// for concurrent use.
type Cache struct {
	dir  string
	ext  *features.Extractor
	fcfg features.Config
}

// cacheKey identifies a feature configuration and the entry format.
func cacheKey(fcfg features.Config) (string, []byte, error) {
	js, err := json.MarshalIndent(fcfg.WithDefaults(), "", "  ")
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "asrkit feature cache entry v%d\n", entryVersion)
	h.Write(js)
	return hex.EncodeToString(h.Sum(nil)[:6]), js, nil
}

// OpenCache opens (creating it when needed) the cache for the feature
// configuration fcfg under root: root/features-<hash of fcfg>/.
func OpenCache(root string, fcfg features.Config) (*Cache, error) {
	if err := fcfg.Validate(); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	ext, err := features.NewExtractor(fcfg)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	key, js, err := cacheKey(fcfg)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c := &Cache{dir: filepath.Join(root, "features-"+key), ext: ext, fcfg: fcfg.WithDefaults()}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	cfgPath := filepath.Join(c.dir, "features.json")
	if old, err := os.ReadFile(cfgPath); err != nil || string(old) != string(js) {
		if err := writeFileAtomic(cfgPath, js); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return c, nil
}

// Dir returns the cache folder.
func (c *Cache) Dir() string { return c.dir }

// Extractor returns the extractor the cache computes features with.
func (c *Cache) Extractor() *features.Extractor { return c.ext }

func (c *Cache) path(id string) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	name := fmt.Sprintf("%016x", h.Sum64())
	return filepath.Join(c.dir, name[:2], name+".lmf")
}

// staleTemporary is the age past which a cache entry's temporary file is
// an interrupted build's leftover: a live writer renames its temporary
// into place within a moment of creating it.
const staleTemporary = 10 * time.Minute

// removeTemporaries deletes the temporary files an interrupted build left.
// Recent ones are left alone: another process (a second training job
// sharing the cache) may be writing them, and deleting one would fail its
// write.
func (c *Cache) removeTemporaries() {
	filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".tmp-") {
			if info, err := d.Info(); err == nil && time.Since(info.ModTime()) > staleTemporary {
				os.Remove(p)
			}
		}
		return nil
	})
}

// ditherSeed is the fixed dither seed of a training utterance (never 0).
func ditherSeed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("asrkit dither\x00"))
	h.Write([]byte(id))
	return h.Sum64() | 1
}

// wantSeed is the dither seed an utterance's features are computed with:
// training features are dithered, evaluation features are not (as at
// inference).
func wantSeed(u *Utterance) uint64 {
	if u.Split == Train {
		return ditherSeed(u.ID)
	}
	return 0
}

// Load reads the cached features of u into a LogMel whose Data reuses buf
// when it is large enough. An entry that is missing, for another id, or
// corrupt gives an error (wrapping ErrCorruptCache when corrupt).
func (c *Cache) Load(u *Utterance, buf []float32) (*features.LogMel, error) {
	return c.loadKey(u.ID, buf)
}

// loadKey reads the entry of a cache key: an utterance id, or a
// perturbed copy's key.
func (c *Cache) loadKey(key string, buf []float32) (*features.LogMel, error) {
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, fmt.Errorf("cache: %s: %w", key, err)
	}
	m, data, err := decodeEntry(b, buf)
	if err != nil {
		return nil, fmt.Errorf("cache: %s (%s): %w", key, c.path(key), err)
	}
	if m.ID != key {
		return nil, fmt.Errorf("cache: %s: %w: entry holds %q", key, ErrCorruptCache, m.ID)
	}
	return &features.LogMel{Data: data, Frames: m.Frames, Bands: m.Bands}, nil
}

// stageTimes accumulates the time spent in each stage of a build, summed
// over workers.
type stageTimes struct {
	verify, decode, resample, logmel, write atomic.Int64
}

// stopwatch measures consecutive stages of one worker: CPU time of its OS
// thread where the system reports it (the worker locks its goroutine to the
// thread), else wall-clock time.
type stopwatch struct {
	cpu  bool
	last time.Duration
	wall time.Time
}

func newStopwatch(lockedThread bool) *stopwatch {
	w := &stopwatch{wall: time.Now()}
	if lockedThread {
		w.last, w.cpu = threadCPU()
	}
	return w
}

// lap adds the time since the previous lap (or the start) to t.
func (w *stopwatch) lap(t *atomic.Int64) {
	if w.cpu {
		now, _ := threadCPU()
		t.Add(int64(now - w.last))
		w.last = now
		return
	}
	now := time.Now()
	t.Add(int64(now.Sub(w.wall)))
	w.wall = now
}

// entryState says whether u's entry can be used as it is.
type entryState int

const (
	entryMissing entryState = iota
	entryValid
	entryStale   // audio file or dither seed changed
	entryCorrupt // unreadable, bad checksum, wrong id
)

// lookup checks u's entry against its audio file (size and modification
// time) and dither seed. With verify it also reads the whole entry and checks
// its checksum; otherwise only the header is read.
func (c *Cache) lookup(u *Utterance, st os.FileInfo, verify bool) (entryMeta, entryState) {
	p := c.path(u.ID)
	var (
		m   entryMeta
		err error
	)
	if verify {
		var b []byte
		b, err = os.ReadFile(p)
		if err == nil {
			m, _, err = decodeEntry(b, nil)
		}
	} else {
		m, err = readEntryMeta(p)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, entryMissing
	case err != nil:
		return m, entryCorrupt
	case m.ID != u.ID:
		return m, entryMissing // another id with the same file name: recompute
	case m.Bands != c.fcfg.NumMels:
		return m, entryCorrupt
	case m.SourceSize != st.Size() || m.SourceMtime != st.ModTime().UnixNano() || m.Seed != wantSeed(u):
		return m, entryStale
	}
	return m, entryValid
}

// scratch is one worker's reusable state: resamplers by input rate (their
// filter tables take longer to build than a short clip takes to resample).
type scratch struct {
	resamplers map[int]*features.Resampler
	clock      *stopwatch
}

func (s *scratch) resample(x []float32, from, to int) ([]float32, error) {
	if s == nil {
		return features.Resample(x, from, to)
	}
	r := s.resamplers[from]
	if r == nil {
		var err error
		if r, err = features.NewResampler(from, to); err != nil {
			return nil, err
		}
		if s.resamplers == nil {
			s.resamplers = map[int]*features.Resampler{}
		}
		s.resamplers[from] = r
	}
	r.Reset()
	out := make([]float32, 0, int(int64(len(x))*int64(to)/int64(from))+2)
	out = r.Process(out, x)
	return r.Flush(out), nil
}

// compute decodes u's audio, resamples it to the feature rate, computes its
// features and writes the entry. It returns the entry metadata and the
// features. ws may be nil.
func (c *Cache) compute(u *Utterance, st os.FileInfo, prof *stageTimes, ws *scratch) (entryMeta, *features.LogMel, error) {
	clock := newStopwatch(false)
	if ws != nil && ws.clock != nil {
		clock = ws.clock
		clock.lap(new(atomic.Int64)) // start here
	}
	x, a, err := c.decode(u, prof, ws, clock)
	if err != nil {
		return entryMeta{}, nil, err
	}
	m := entryMeta{
		ID: u.ID, Samples: int64(len(a.Samples)), SourceRate: a.SampleRate,
		SourceSize: st.Size(), SourceMtime: st.ModTime().UnixNano(), Seed: wantSeed(u),
	}
	return c.store(m, x, prof, clock)
}

// decode decodes u's audio and resamples it to the feature rate. It returns
// the resampled samples and the decoded audio.
func (c *Cache) decode(u *Utterance, prof *stageTimes, ws *scratch, clock *stopwatch) ([]float32, *features.Audio, error) {
	a, err := features.DecodeFile(u.Audio)
	if err != nil {
		return nil, nil, err
	}
	clock.lap(&prof.decode)
	x := a.Samples
	if a.SampleRate != c.fcfg.SampleRate {
		if x, err = ws.resample(x, a.SampleRate, c.fcfg.SampleRate); err != nil {
			return nil, nil, err
		}
	}
	clock.lap(&prof.resample)
	return x, a, nil
}

// store computes the features of x (audio at the feature rate) with m.Seed
// as the dither seed (0: none), and writes them as the entry m describes.
func (c *Cache) store(m entryMeta, x []float32, prof *stageTimes, clock *stopwatch) (entryMeta, *features.LogMel, error) {
	var (
		lm  *features.LogMel
		err error
	)
	if m.Seed != 0 {
		lm, err = c.ext.ComputeDithered(x, m.Seed)
	} else {
		lm, err = c.ext.Compute(x)
	}
	if err != nil {
		return entryMeta{}, nil, err
	}
	clock.lap(&prof.logmel)
	m.Frames, m.Bands = lm.Frames, lm.Bands
	b, err := encodeEntry(m, lm.Data)
	if err != nil {
		return m, nil, err
	}
	if err := writeEntry(c.path(m.ID), b); err != nil {
		return m, nil, fmt.Errorf("%w: writing %s: %w", ErrCacheIO, c.path(m.ID), err)
	}
	clock.lap(&prof.write)
	return m, lm, nil
}

// ensureCopies makes sure the perturbed copies of u (a valid training
// utterance) are in the cache, and fills their frame counts. x, the
// utterance's audio at the feature rate, is decoded only when a copy must
// be computed. A copy that would be longer than maxDuration, or too short
// for CTC, is marked unusable (Frames 0).
func (c *Cache) ensureCopies(u *Utterance, st os.FileInfo, copies []Copy, maxDuration float64, subsampling int, prof *stageTimes, ws *scratch) (computed int, err error) {
	var x []float32
	rate := c.fcfg.SampleRate
	for i := range copies {
		cp := &copies[i]
		if cp.Key == u.ID {
			cp.Frames, cp.Duration = u.Frames, u.Duration
			continue
		}
		pseudo := Utterance{ID: cp.Key, Split: Train}
		m, state := c.lookup(&pseudo, st, false)
		if state != entryValid {
			if x == nil {
				clock := newStopwatch(false)
				if ws != nil && ws.clock != nil {
					clock = ws.clock
					clock.lap(new(atomic.Int64))
				}
				if x, _, err = c.decode(u, prof, ws, clock); err != nil {
					return computed, err
				}
			}
			clock := newStopwatch(false)
			if ws != nil && ws.clock != nil {
				clock = ws.clock
				clock.lap(new(atomic.Int64))
			}
			y, err := Perturb(x, rate, cp.Perturbation)
			if err != nil {
				return computed, fmt.Errorf("%s: %w", cp.Perturbation, err)
			}
			clock.lap(&prof.resample)
			meta := entryMeta{
				ID: cp.Key, Samples: int64(len(y)), SourceRate: rate,
				SourceSize: st.Size(), SourceMtime: st.ModTime().UnixNano(), Seed: wantSeed(&pseudo),
			}
			if m, _, err = c.store(meta, y, prof, clock); err != nil {
				return computed, err
			}
			computed++
		}
		cp.Frames, cp.Duration = m.Frames, m.Duration()
		out := (cp.Frames + subsampling - 1) / subsampling
		if cp.Duration > maxDuration || out < ctcMinFrames(u.Labels) || m.Samples == 0 {
			cp.Frames = 0
		}
	}
	return computed, nil
}
