package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/progress"
)

// Vocabulary encodes normalised text into label ids; *text.Vocabulary
// implements it.
type Vocabulary interface {
	Encode(normalized string) ([]int, error)
}

// Options are the parts of a training setup that the data path needs
// besides its own Config.
type Options struct {
	// Features is the feature configuration (the YAML section "features:").
	Features features.Config
	// Subsampling is the model's time subsampling factor, for the "too short
	// for CTC" check. Zero means DefaultSubsampling (4).
	Subsampling int
	// Vocabulary encodes targets. Nil means text.DefaultVocabulary().
	Vocabulary Vocabulary
	// Progress, when not nil, receives a progress bar while audio is checked
	// and features are computed (pass os.Stderr when it is a terminal).
	Progress io.Writer
	// Logger receives warnings: each item left out by skip_invalid, a
	// cache entry that had to be recomputed, an unreadable split file. Nil
	// logs nothing (the package never logs through slog's default logger).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Subsampling == 0 {
		o.Subsampling = DefaultSubsampling
	}
	if o.Vocabulary == nil {
		o.Vocabulary = text.DefaultVocabulary()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// BuildStats describes a feature-cache build. Stage times are summed over
// workers: on Linux the CPU time of each worker's thread (so a busy machine
// does not inflate them), elsewhere wall-clock time. Wall is the elapsed
// time of the whole pass.
type BuildStats struct {
	// Utterances is the number of valid utterances with features in the cache.
	Utterances int
	// Computed entries were computed by this build; Reused ones were already
	// there and intact. Stale entries (audio file changed) and Corrupt ones
	// (bad checksum, truncated) were recomputed and are counted in Computed.
	Computed, Reused, Stale, Corrupt int
	// Augmented is the number of perturbed copies (datasets.augment)
	// computed by this build.
	Augmented int
	// AudioSeconds is the duration of the audio decoded by this build.
	AudioSeconds float64
	// Wall is the elapsed time of the check-and-build pass.
	Wall time.Duration
	// Verify, Decode, Resample, LogMel and Write are the time spent checking
	// existing entries, decoding audio, resampling, computing log-mel
	// features, and encoding and writing entries.
	Verify, Decode, Resample, LogMel, Write time.Duration
	// Stats is the time spent computing the normalisation statistics (zero
	// when they were read from the cache).
	Stats time.Duration
}

// Dataset is a checked, split corpus with its features in a cache: what the
// trainer reads batches from (see [Dataset.Loader]).
type Dataset struct {
	// Config is the dataset configuration with defaults filled in.
	Config Config
	// Report is the check report.
	Report *Report
	// Dir is the corpus's folder under the cache root: split.tsv and the
	// features-<hash>/ caches.
	Dir string
	// Normalization is the global per-band mean and standard deviation of
	// the training split's features.
	Normalization features.Normalization
	// Build describes the cache build.
	Build BuildStats

	sets   map[Split][]Utterance
	cache  *Cache
	opts   Options
	logger *slog.Logger
}

// Utterances returns the valid utterances of a set, sorted by id. The
// slice is shared: do not modify it.
func (d *Dataset) Utterances(s Split) []Utterance { return d.sets[s] }

// Cache returns the feature cache.
func (d *Dataset) Cache() *Cache { return d.cache }

// Features returns the cached features of u. A corrupt entry is recomputed
// from the audio (and rewritten) rather than used.
func (d *Dataset) Features(u *Utterance, buf []float32) (*features.LogMel, error) {
	m, err := d.cache.Load(u, buf)
	if err == nil {
		return m, nil
	}
	d.logger.Warn("feature cache entry unusable; recomputing it", "id", u.ID, "err", err)
	st, serr := os.Stat(u.Audio)
	if serr != nil {
		return nil, fmt.Errorf("data: %s: %w (and its audio: %w)", u.ID, err, serr)
	}
	var prof stageTimes
	_, _, cerr := d.cache.compute(u, st, &prof, nil)
	if cerr != nil {
		return nil, fmt.Errorf("data: %s: %w (recomputing: %w)", u.ID, err, cerr)
	}
	// Read it back so the values are the cached (float16) ones, exactly as
	// an intact entry would give.
	if m, err = d.cache.Load(u, buf); err != nil {
		return nil, fmt.Errorf("data: %s: %w", u.ID, err)
	}
	return m, nil
}

// copyFeatures returns the cached features of one copy of u (see
// [Utterance.Copies]), recomputing a corrupt entry like Features does.
func (d *Dataset) copyFeatures(u *Utterance, cp *Copy, buf []float32) (*features.LogMel, error) {
	if cp.Key == u.ID {
		return d.Features(u, buf)
	}
	m, err := d.cache.loadKey(cp.Key, buf)
	if err == nil {
		return m, nil
	}
	d.logger.Warn("feature cache entry unusable; recomputing it", "id", cp.Key, "err", err)
	st, serr := os.Stat(u.Audio)
	if serr != nil {
		return nil, fmt.Errorf("data: %s: %w (and its audio: %w)", cp.Key, err, serr)
	}
	var prof stageTimes
	redo := []Copy{{Key: cp.Key, Perturbation: cp.Perturbation}}
	if _, cerr := d.cache.ensureCopies(u, st, redo, math.Inf(1), 1, &prof, nil); cerr != nil {
		return nil, fmt.Errorf("data: %s: %w (recomputing: %w)", cp.Key, err, cerr)
	}
	if m, err = d.cache.loadKey(cp.Key, buf); err != nil {
		return nil, fmt.Errorf("data: %s: %w", cp.Key, err)
	}
	return m, nil
}

// Check reads and checks a corpus without writing anything: every row,
// transcript and audio file, and the split. Audio files are decoded, unless
// an intact cache entry already records their length. The returned Report
// lists every problem; the error is for failures to run the check (a missing
// metadata.csv, a bad config), not for invalid data: see Report.Err.
func Check(ctx context.Context, cfg Config, opts Options) (*Report, error) {
	d, err := run(ctx, cfg, opts, false)
	if err != nil {
		return nil, err
	}
	return d.Report, nil
}

// Prepare checks a corpus, splits it, records the split beside the cache,
// computes the features of every valid utterance that the cache does not
// hold yet (in parallel, resumable after an interrupt), and computes the
// training split's normalisation statistics. When the corpus has invalid
// utterances and cfg.SkipInvalid is false, it returns the report's error
// (wrapping ErrInvalidData) and a Dataset holding the report.
func Prepare(ctx context.Context, cfg Config, opts Options) (*Dataset, error) {
	d, err := run(ctx, cfg, opts, true)
	if err != nil {
		return d, err
	}
	return d, nil
}

// CacheRoot returns the folder that holds the caches: c.CacheDir, or
// asrkit/data under the user cache directory.
func (c Config) CacheRoot() (string, error) {
	if c.CacheDir != "" {
		return c.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no datasets.cache_dir and no user cache directory: %w", err)
	}
	return filepath.Join(d, "asrkit", "data"), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// corpusDir names the corpus's folder under the cache root: the source's
// name and a hash of the absolute source paths.
func corpusDir(root string, sources []string) string {
	h := fnv.New32a()
	for _, s := range sources {
		if a, err := filepath.Abs(s); err == nil {
			s = a
		}
		h.Write([]byte(s + "\n"))
	}
	name := filepath.Base(sources[0])
	if name == "metadata.csv" {
		name = filepath.Base(filepath.Dir(sources[0]))
	}
	name = strings.TrimSuffix(name, filepath.Ext(name))
	name = strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if name == "" {
		name = "corpus"
	}
	return filepath.Join(root, fmt.Sprintf("%s-%08x", name, h.Sum32()))
}

// readSources reads the configured corpus.
func readSources(cfg Config) (utts []Utterance, probs []Problem, sources []string, explicit bool, err error) {
	if cfg.LJSpeech.Path != "" {
		utts, probs, err = ReadLJSpeech(cfg.LJSpeech.Path)
		return utts, probs, []string{filepath.Join(cfg.LJSpeech.Path, "metadata.csv")}, false, err
	}
	explicit = cfg.Manifests.Val != "" || cfg.Manifests.Test != ""
	seen := map[string]string{}
	for _, m := range []struct {
		path string
		s    Split
	}{{cfg.Manifests.Train, Train}, {cfg.Manifests.Val, Val}, {cfg.Manifests.Test, Test}} {
		if m.path == "" {
			continue
		}
		u, p, err := ReadManifest(m.path)
		if err != nil {
			return nil, nil, nil, false, err
		}
		sources = append(sources, m.path)
		probs = append(probs, p...)
		for _, x := range u {
			if first, dup := seen[x.ID]; dup {
				probs = append(probs, Problem{ID: x.ID, Kind: ProblemDuplicateID, Source: x.Source, Line: x.Line, Detail: "id already used in " + first})
				continue
			}
			seen[x.ID] = x.Source
			if explicit {
				x.Split = m.s
			}
			utts = append(utts, x)
		}
	}
	return utts, probs, sources, explicit, nil
}

// checkText fills Target and Labels, or returns the problem with the text.
func checkText(u *Utterance, vocab Vocabulary) *Problem {
	p := &Problem{ID: u.ID, Source: u.Source, Line: u.Line}
	var oov []string
	seen := map[rune]bool{}
	for _, r := range u.Text {
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !seen[r] {
			seen[r] = true
			if text.Normalize(string(r)) == "" {
				oov = append(oov, fmt.Sprintf("%q", r))
			}
		}
	}
	if len(oov) > 0 {
		p.Kind, p.Detail = ProblemOutOfVocabulary, fmt.Sprintf("%s have no spelling in the vocabulary (text normalisation would drop them)", strings.Join(oov, " "))
		return p
	}
	u.Target = text.Normalize(u.Text)
	if u.Target == "" {
		p.Kind, p.Detail = ProblemEmptyText, fmt.Sprintf("nothing is left of %q after normalisation", u.Text)
		return p
	}
	ids, err := vocab.Encode(u.Target)
	if err != nil {
		p.Kind, p.Detail = ProblemOutOfVocabulary, err.Error()
		return p
	}
	u.Labels = make([]int32, len(ids))
	for i, v := range ids {
		u.Labels[i] = int32(v)
	}
	return nil
}

func run(ctx context.Context, cfg Config, opts Options, build bool) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	opts = opts.withDefaults()
	if opts.Subsampling < 1 {
		return nil, fmt.Errorf("data: subsampling %d must be >= 1", opts.Subsampling)
	}
	if err := opts.Features.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	utts, probs, sources, explicit, err := readSources(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkWeights(cfg.Weights, utts); err != nil {
		return nil, err
	}
	rep := &Report{Sources: sources, Rows: len(utts) + len(probs), Skipped: cfg.SkipInvalid,
		MaxDuration: cfg.MaxDuration, Subsampling: opts.Subsampling}

	kept := utts[:0]
	for i := range utts {
		if p := checkText(&utts[i], opts.Vocabulary); p != nil {
			probs = append(probs, *p)
			continue
		}
		kept = append(kept, utts[i])
	}
	utts = kept

	root, err := cfg.CacheRoot()
	if err != nil {
		if build {
			return nil, err
		}
		// Check only reads the cache: without one, every file is decoded.
		root = filepath.Join(os.TempDir(), "asrkit-no-cache")
	}
	d := &Dataset{Config: cfg, Report: rep, Dir: corpusDir(root, sources), opts: opts, logger: log}

	// The split.
	method := "manifests"
	if !explicit {
		var sp []Problem
		var notes []string
		utts, sp, notes, method, err = assignSplit(utts, cfg.Split)
		if err != nil {
			return nil, err
		}
		probs = append(probs, sp...)
		rep.Notes = append(rep.Notes, notes...)
	}
	splitPath := filepath.Join(d.Dir, "split.tsv")
	oldMethod, old, err := readSplitFile(splitPath)
	if err != nil {
		log.Warn("ignoring unreadable split file", "path", splitPath, "err", err)
	} else if oldMethod != "" && oldMethod == method && !explicit {
		// The recorded split wins over the hash, so that a future change of
		// the hash cannot silently move utterances between sets.
		for i := range utts {
			if s, ok := old[utts[i].ID]; ok {
				utts[i].Split = s
			}
		}
	} else if oldMethod != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the split changed since the last run (was %q, now %q); %s is rewritten", oldMethod, method, splitPath))
	}

	// Audio.
	var cache *Cache
	if build {
		if cache, err = OpenCache(d.Dir, opts.Features); err != nil {
			return nil, err
		}
		cache.removeTemporaries()
	} else {
		key, _, err := cacheKey(opts.Features)
		if err != nil {
			return nil, err
		}
		ext, err := features.NewExtractor(opts.Features)
		if err != nil {
			return nil, err
		}
		cache = &Cache{dir: filepath.Join(d.Dir, "features-"+key), ext: ext, fcfg: opts.Features.WithDefaults()}
	}
	d.cache = cache
	if build {
		if old := otherCaches(d.Dir, cache.dir); len(old) > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d feature caches for other feature configs in %s (%s); delete them to free space", len(old), d.Dir, strings.Join(old, ", ")))
		}
	}
	valid, aprobs, bs, err := checkAudio(ctx, cache, utts, cfg, opts, build)
	if err != nil {
		return d, err
	}
	d.Build = bs
	probs = append(probs, aprobs...)
	sortProblems(probs)
	rep.Problems = probs
	if build && cfg.SkipInvalid {
		// Left out of training: each is said, not just counted.
		for _, p := range probs {
			log.Warn("leaving out an invalid item (datasets.skip_invalid)", "item", p.String())
		}
	}
	rep.summarize(valid)
	d.sets = map[Split][]Utterance{}
	rep.Sets = map[Split]SetSummary{}
	rep.Corpora = map[string]CorpusSummary{}
	speakers := map[string]map[string]bool{}
	for _, u := range valid {
		d.sets[u.Split] = append(d.sets[u.Split], u)
		s := rep.Sets[u.Split]
		s.Utterances++
		s.Seconds += u.Duration
		rep.Sets[u.Split] = s
		c := rep.Corpora[u.Corpus]
		if c.Sets == nil {
			c.Sets = map[Split]SetSummary{}
			speakers[u.Corpus] = map[string]bool{}
		}
		cs := c.Sets[u.Split]
		cs.Utterances++
		cs.Seconds += u.Duration
		c.Sets[u.Split] = cs
		if u.Speaker != "" {
			speakers[u.Corpus][u.Speaker] = true
		}
		c.Speakers = len(speakers[u.Corpus])
		rep.Corpora[u.Corpus] = c
	}
	for _, s := range d.sets {
		sort.Slice(s, func(i, j int) bool { return s[i].ID < s[j].ID })
	}
	if !build {
		return d, nil
	}
	if err := writeSplitFile(splitPath, method, valid); err != nil {
		return d, fmt.Errorf("data: writing the split: %w", err)
	}
	if err := rep.Err(); err != nil {
		return d, err
	}
	if len(d.sets[Train]) == 0 {
		return d, errors.New("data: the training split is empty")
	}
	t := time.Now()
	norm, computed, err := d.normalization(ctx)
	if err != nil {
		return d, err
	}
	if computed {
		d.Build.Stats = time.Since(t)
	}
	d.Normalization = norm
	return d, nil
}

// checkWeights returns an error naming every corpus in weights that no
// utterance comes from (a misspelt name would silently weigh nothing).
func checkWeights(weights map[string]float64, utts []Utterance) error {
	if len(weights) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, u := range utts {
		have[u.Corpus] = true
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(weights)) {
		if !have[name] {
			errs = append(errs, fmt.Errorf("datasets.weights.%s: no utterance comes from a corpus of that name (corpora: %s)",
				name, strings.Join(slices.Sorted(maps.Keys(have)), ", ")))
		}
	}
	return errors.Join(errs...)
}

// otherCaches lists the features-* folders in dir other than current.
func otherCaches(dir, current string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "features-") && filepath.Join(dir, e.Name()) != current {
			out = append(out, e.Name())
		}
	}
	return out
}

// checkAudio checks every utterance's audio in parallel and, with build,
// makes sure its features are in the cache. It returns the valid
// utterances (in input order) and the problems.
func checkAudio(ctx context.Context, c *Cache, utts []Utterance, cfg Config, opts Options, build bool) ([]Utterance, []Problem, BuildStats, error) {
	start := time.Now()
	var (
		prof      stageTimes
		next      atomic.Int64
		wg        sync.WaitGroup
		probs     = make([]*Problem, len(utts))
		computed  atomic.Int64
		reused    atomic.Int64
		stale     atomic.Int64
		corrupt   atomic.Int64
		decoded   atomic.Int64 // microseconds of audio
		augmented atomic.Int64
	)
	var bar *progress.Bar // nil: no bar
	if opts.Progress != nil && len(utts) > 0 {
		desc := "checking audio"
		if build {
			desc = "features"
		}
		bar = progress.New(opts.Progress, int64(len(utts)), progress.Options{Description: desc, Unit: "utt", PredictTime: true})
	}
	rate := float64(c.fcfg.SampleRate)
	// An I/O error of the cache stops every worker: it is the disk's
	// fault, not the audio's, and the build cannot go on.
	var (
		failed  atomic.Bool
		fatal   error
		fatalMu sync.Mutex
		stop    = func(err error) {
			fatalMu.Lock()
			if fatal == nil {
				fatal = err
			}
			fatalMu.Unlock()
			failed.Store(true)
		}
	)
	workers := max(1, min(cfg.Workers, len(utts)))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Locked to its thread, the worker's stage times are the
			// thread's CPU time, not inflated by other processes.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ws := scratch{clock: newStopwatch(true)}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(utts) || ctx.Err() != nil || failed.Load() {
					return
				}
				u := &utts[i]
				fail := func(k ProblemKind, detail string) {
					probs[i] = &Problem{ID: u.ID, Kind: k, Detail: detail, Source: u.Source, Line: u.Line}
				}
				bar.Add(1)
				st, err := os.Stat(u.Audio)
				if err != nil {
					if errors.Is(err, os.ErrNotExist) {
						fail(ProblemMissingAudio, u.Audio+" does not exist")
					} else {
						fail(ProblemUnreadableAudio, err.Error())
					}
					continue
				}
				if !st.Mode().IsRegular() {
					fail(ProblemUnreadableAudio, u.Audio+" is not a regular file")
					continue
				}
				ws.clock.lap(new(atomic.Int64))
				m, state := c.lookup(u, st, build)
				ws.clock.lap(&prof.verify)
				var samples int64
				switch {
				case state == entryValid:
					reused.Add(1)
					u.Duration, u.Frames, samples = m.Duration(), m.Frames, m.Samples
				case build:
					switch state {
					case entryStale:
						stale.Add(1)
					case entryCorrupt:
						corrupt.Add(1)
					}
					m, _, err := c.compute(u, st, &prof, &ws)
					if errors.Is(err, ErrCacheIO) {
						stop(err)
						return
					}
					if err != nil {
						fail(ProblemUnreadableAudio, err.Error())
						continue
					}
					computed.Add(1)
					decoded.Add(int64(m.Duration() * 1e6))
					u.Duration, u.Frames, samples = m.Duration(), m.Frames, m.Samples
				default:
					a, err := features.DecodeFile(u.Audio)
					ws.clock.lap(&prof.decode)
					if err != nil {
						fail(ProblemUnreadableAudio, err.Error())
						continue
					}
					samples = int64(len(a.Samples))
					u.Duration = float64(len(a.Samples)) / float64(a.SampleRate)
					decoded.Add(int64(u.Duration * 1e6))
					u.Frames = c.ext.NumFrames(int(math.Ceil(u.Duration * rate)))
				}
				switch {
				case samples == 0:
					fail(ProblemUnreadableAudio, u.Audio+" holds no samples")
				case u.Duration > cfg.MaxDuration:
					fail(ProblemTooLong, fmt.Sprintf("%.2f s > %.2f s", u.Duration, cfg.MaxDuration))
				default:
					out := (u.Frames + opts.Subsampling - 1) / opts.Subsampling
					if need := ctcMinFrames(u.Labels); out < need {
						fail(ProblemTooShortForCTC, fmt.Sprintf("%.2f s gives %d frames after x%d subsampling; %d labels need at least %d",
							u.Duration, out, opts.Subsampling, len(u.Labels), need))
					}
				}
				if probs[i] == nil && build && u.Split == Train && cfg.Augment.Enabled() {
					u.Copies = cfg.Augment.copies(u.ID)
					n, err := c.ensureCopies(u, st, u.Copies, cfg.MaxDuration, opts.Subsampling, &prof, &ws)
					if errors.Is(err, ErrCacheIO) {
						stop(err)
						return
					}
					if err != nil {
						fail(ProblemUnreadableAudio, "augmented copy: "+err.Error())
						continue
					}
					augmented.Add(int64(n))
				}
			}
		}()
	}
	wg.Wait()
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return nil, nil, BuildStats{}, err
	}
	if err := fatal; err != nil {
		return nil, nil, BuildStats{}, fmt.Errorf("data: %w", err)
	}
	var valid []Utterance
	var out []Problem
	for i := range utts {
		if probs[i] != nil {
			out = append(out, *probs[i])
		} else {
			valid = append(valid, utts[i])
		}
	}
	bs := BuildStats{
		Utterances: len(valid), Computed: int(computed.Load()), Reused: int(reused.Load()),
		Stale: int(stale.Load()), Corrupt: int(corrupt.Load()), Augmented: int(augmented.Load()),
		AudioSeconds: float64(decoded.Load()) / 1e6, Wall: time.Since(start),
		Verify: time.Duration(prof.verify.Load()), Decode: time.Duration(prof.decode.Load()),
		Resample: time.Duration(prof.resample.Load()), LogMel: time.Duration(prof.logmel.Load()),
		Write: time.Duration(prof.write.Load()),
	}
	return valid, out, bs, nil
}

// normFile is the JSON form of the saved normalisation statistics.
type normFile struct {
	Fingerprint string    `json:"train_fingerprint"`
	Utterances  int       `json:"utterances"`
	Mean        []float32 `json:"mean"`
	Std         []float32 `json:"std"`
}

// normalization returns the training split's statistics, from the cache
// folder when they were computed for the same training utterances, else by
// reading their cached features (in a fixed order, so the result does not
// depend on the number of workers).
func (d *Dataset) normalization(ctx context.Context) (features.Normalization, bool, error) {
	train := d.sets[Train]
	h := fnv.New64a()
	for _, u := range train {
		fmt.Fprintf(h, "%s\t%d\n", u.ID, u.Frames)
	}
	fp := fmt.Sprintf("%016x", h.Sum64())
	path := filepath.Join(d.cache.dir, "normalization.json")
	if b, err := os.ReadFile(path); err == nil {
		var nf normFile
		if json.Unmarshal(b, &nf) == nil && nf.Fingerprint == fp && len(nf.Mean) == d.cache.fcfg.NumMels && len(nf.Std) == len(nf.Mean) {
			return features.Normalization{Mean: nf.Mean, Std: nf.Std}, false, nil
		}
	}
	// Fixed chunks of 64 utterances, merged in order: the result does not
	// depend on the number of workers.
	const chunk = 64
	bands := d.cache.fcfg.NumMels
	parts := make([]*features.Stats, (len(train)+chunk-1)/chunk)
	errs := make([]error, len(parts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(d.Config.Workers, len(parts))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []float32
			for {
				c := int(next.Add(1) - 1)
				if c >= len(parts) {
					return
				}
				st := features.NewStats(bands)
				parts[c] = st
				for i := c * chunk; i < min(len(train), (c+1)*chunk); i++ {
					if err := ctx.Err(); err != nil {
						errs[c] = err
						return
					}
					m, err := d.Features(&train[i], buf)
					if err != nil {
						errs[c] = err
						return
					}
					buf = m.Data
					if err := st.Add(m); err != nil {
						errs[c] = fmt.Errorf("data: %s: %w", train[i].ID, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return features.Normalization{}, false, err
	}
	total := features.NewStats(bands)
	for _, p := range parts {
		if err := total.Merge(p); err != nil {
			return features.Normalization{}, false, err
		}
	}
	norm, err := total.Normalization()
	if err != nil {
		return features.Normalization{}, false, fmt.Errorf("data: normalisation statistics: %w", err)
	}
	b, _ := json.MarshalIndent(normFile{Fingerprint: fp, Utterances: len(train), Mean: norm.Mean, Std: norm.Std}, "", " ")
	if err := writeFileAtomic(path, b); err != nil {
		return norm, true, fmt.Errorf("data: %w", err)
	}
	return norm, true, nil
}
