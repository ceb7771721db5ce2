package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/atomicfile"
	"github.com/asrkit/asrkit/internal/progress"
)

// Rate is the sample rate of synthesised corpora (LJSpeech's).
const Rate = 22050

// The speech synthesisers [Synthesize] drives.
const (
	EngineEspeak   = "espeak-ng"
	EngineFlite    = "flite"
	EngineFestival = "festival"
)

// engineCommands are the programs each engine needs, and the Debian package.
var engineCommands = map[string]struct{ cmd, pkg string }{
	EngineEspeak:   {"espeak-ng", "espeak-ng"},
	EngineFlite:    {"flite", "flite"},
	EngineFestival: {"text2wave", "festival"},
}

// Voice is one synthesiser voice.
type Voice struct {
	// Engine is EngineEspeak, EngineFlite or EngineFestival.
	Engine string
	// Name is the engine's voice name: for espeak-ng a language voice with
	// an optional variant ("en-us", "en-gb-scotland+f3"), for flite a voice
	// of `flite -lv` ("slt"), for festival a voice of (voice.list)
	// ("kal_diphone").
	Name string
}

func (v Voice) String() string { return v.Engine + ":" + v.Name }

// ParseVoice parses "engine:name" ("espeak-ng:en-us+f3", "flite:slt",
// "festival:cmu_us_slt_arctic_hts"); "espeak" is accepted for espeak-ng.
func ParseVoice(s string) (Voice, error) {
	e, n, ok := strings.Cut(strings.TrimSpace(s), ":")
	if e == "espeak" {
		e = EngineEspeak
	}
	if _, known := engineCommands[e]; !known {
		return Voice{}, fmt.Errorf("voice %q: unknown engine %q (want espeak-ng, flite or festival)", s, e)
	}
	if !ok || n == "" {
		return Voice{}, fmt.Errorf("voice %q: want engine:name, e.g. espeak-ng:en-us+f3, flite:slt, festival:kal_diphone (or just %q for all of its voices)", s, e)
	}
	return Voice{Engine: e, Name: n}, nil
}

// Default espeak-ng selection: English accents crossed with voice variants.
var (
	espeakAccents  = []string{"en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"}
	espeakVariants = []string{"", "f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7"}
)

// InstalledVoices returns the voices of engine that are installed, in the
// default selection [Synthesize] uses: for espeak-ng its English accents
// (American, British, Scottish, RP, Lancaster, West Midlands, Caribbean, New
// York) crossed with the female and male variants f1-f5 and m1-m7; for flite
// every voice but the talking clock awb_time; for festival every voice. It
// fails with a clear message when the engine is not installed.
func InstalledVoices(ctx context.Context, engine string) ([]Voice, error) {
	if engine == "espeak" {
		engine = EngineEspeak
	}
	tool, ok := engineCommands[engine]
	if !ok {
		return nil, fmt.Errorf("unknown engine %q (want espeak-ng, flite or festival)", engine)
	}
	if _, err := exec.LookPath(tool.cmd); err != nil {
		return nil, fmt.Errorf("%w: %s is not installed (%s not found; on Debian: apt-get install %s)", ErrSynthesizerMissing, engine, tool.cmd, tool.pkg)
	}
	var out []Voice
	switch engine {
	case EngineEspeak:
		langs, variants, err := espeakVoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range espeakAccents {
			if !langs[a] {
				continue
			}
			for _, v := range espeakVariants {
				if v == "" {
					out = append(out, Voice{engine, a})
				} else if variants[v] {
					out = append(out, Voice{engine, a + "+" + v})
				}
			}
		}
	case EngineFlite:
		names, err := fliteVoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if n != "awb_time" {
				out = append(out, Voice{engine, n})
			}
		}
	case EngineFestival:
		names, err := festivalVoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out = append(out, Voice{engine, n})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s is installed but has no usable English voice", ErrSynthesizerMissing, engine)
	}
	return out, nil
}

// ErrSynthesizerMissing is wrapped by errors for a synthesiser or voice
// that is not installed.
var ErrSynthesizerMissing = errors.New("speech synthesiser not available")

func espeakVoices(ctx context.Context) (langs, variants map[string]bool, err error) {
	langs, variants = map[string]bool{}, map[string]bool{}
	out, err := exec.CommandContext(ctx, "espeak-ng", "--voices").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("espeak-ng --voices: %w", err)
	}
	for _, l := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 5 {
			langs[f[1]] = true
			langs[f[3]] = true
			langs[f[4]] = true
		}
	}
	out, err = exec.CommandContext(ctx, "espeak-ng", "--voices=variant").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("espeak-ng --voices=variant: %w", err)
	}
	for _, l := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 5 {
			variants[strings.TrimPrefix(f[4], "!v/")] = true
		}
	}
	return langs, variants, nil
}

func fliteVoices(ctx context.Context) ([]string, error) {
	out, err := exec.CommandContext(ctx, "flite", "-lv").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("flite -lv: %w", err)
	}
	s := string(out)
	if i := strings.Index(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s), nil
}

var festivalListRE = regexp.MustCompile(`\(([a-z0-9_ ]+)\)`)

func festivalVoices(ctx context.Context) ([]string, error) {
	if _, err := exec.LookPath("festival"); err != nil {
		return nil, fmt.Errorf("%w: festival is not installed (on Debian: apt-get install festival)", ErrSynthesizerMissing)
	}
	cmd := exec.CommandContext(ctx, "festival", "--pipe")
	cmd.Stdin = strings.NewReader("(print (voice.list))\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("festival (voice.list): %w: %s", err, bytes.TrimSpace(out))
	}
	m := festivalListRE.FindAllStringSubmatch(string(out), -1)
	if len(m) == 0 {
		return nil, fmt.Errorf("festival (voice.list): unexpected output %q", out)
	}
	return strings.Fields(m[len(m)-1][1]), nil
}

// Range is an interval [Min, Max] that a per-utterance value is drawn from,
// uniformly. The zero Range means "no variation" (see each field of
// [Options] for its neutral value).
type Range struct{ Min, Max float64 }

// ParseRange parses "a:b" or a single number "a" (a fixed value).
func ParseRange(s string) (Range, error) {
	lo, hi, two := strings.Cut(s, ":")
	a, err := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	if err != nil {
		return Range{}, fmt.Errorf("range %q: want min:max or a number", s)
	}
	b := a
	if two {
		if b, err = strconv.ParseFloat(strings.TrimSpace(hi), 64); err != nil {
			return Range{}, fmt.Errorf("range %q: want min:max or a number", s)
		}
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) || b < a {
		return Range{}, fmt.Errorf("range %q: want finite min <= max", s)
	}
	return Range{a, b}, nil
}

func (r Range) String() string {
	if r.Min == r.Max {
		return strconv.FormatFloat(r.Min, 'g', -1, 64)
	}
	return strconv.FormatFloat(r.Min, 'g', -1, 64) + ":" + strconv.FormatFloat(r.Max, 'g', -1, 64)
}

// MarshalText writes the form ParseRange reads.
func (r Range) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the form ParseRange reads.
func (r *Range) UnmarshalText(b []byte) error {
	v, err := ParseRange(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func (r Range) isZero() bool { return r == Range{} }

func (r Range) draw(rng *rand.Rand, neutral float64) float64 {
	if r.isZero() {
		return neutral
	}
	return r.Min + (r.Max-r.Min)*rng.Float64()
}

// Options configure [Synthesize].
type Options struct {
	// Texts are the files of lines to render: "id|text", "id|text|normalized
	// text" (LJSpeech metadata; the normalised text is spoken) or plain text
	// (ids are then <file name>-<line>). Blank lines and '#' comments are
	// skipped; an empty text is an error naming its line.
	Texts []string `json:"texts"`
	// Out is the corpus folder to write: metadata.csv, wavs/<id>.wav
	// (22,050 Hz mono 16-bit), lists/<texts file name> (the ids rendered from
	// each texts file, usable as datasets.split.lists), render.tsv (voice and
	// augmentation of every clip) and synth.json (these options).
	Out string `json:"out"`
	// Voices are "engine:name" voices, or an engine name for its default
	// selection (see [InstalledVoices]). Empty means every installed engine.
	// Lines are spread evenly over the engines, and uniformly over each
	// engine's voices.
	Voices []string `json:"voices"`
	// Seed makes the choice of voice and augmentation reproducible.
	Seed uint64 `json:"seed"`
	// Repeats renders every line this many times with different voices
	// (ids get "-2", "-3", ... suffixes). Zero means 1.
	Repeats int `json:"repeats"`
	// Limit renders only the first Limit lines of each texts file. Zero
	// means all.
	Limit int `json:"limit"`
	// Speed is the speaking-rate factor (1 = the voice's normal rate),
	// applied by the synthesiser itself. Zero means 1.
	Speed Range `json:"speed"`
	// Pitch is the pitch shift in semitones (0 = unchanged): espeak-ng's
	// pitch parameter, or sox's pitch effect for flite and festival (then
	// sox is needed). Zero means 0.
	Pitch Range `json:"pitch"`
	// Tempo is a sox tempo factor applied after synthesis (speed without
	// pitch change). Zero means 1 (sox not run for it).
	Tempo Range `json:"tempo"`
	// Reverb is the probability of adding room reverberation with sox's
	// reverb effect (random reverberance and room size).
	Reverb float64 `json:"reverb"`
	// NoiseSNR is the signal-to-noise ratio in dB of added noise (white,
	// pink or brown, drawn per clip). Zero means no noise.
	NoiseSNR Range `json:"noise_snr"`
	// Gain is a level change in dB. Zero means 0.
	Gain Range `json:"gain"`
	// Workers is the number of clips rendered at once. Zero means one per
	// CPU core.
	Workers int `json:"-"`
	// Progress, when not nil, receives a progress bar.
	Progress io.Writer `json:"-"`
}

// DefaultOptions returns the augmentation that `asr data synth` uses
// by default: speed 0.85-1.15, pitch -2 to +2 semitones, no tempo change,
// no reverberation, no noise, gain -6 to 0 dB.
func DefaultOptions() Options {
	return Options{
		Speed: Range{0.85, 1.15},
		Pitch: Range{-2, 2},
		Gain:  Range{-6, 0},
	}
}

// Report summarises a rendered corpus.
type Report struct {
	// Utterances is the number of clips in the corpus; Rendered of them were
	// rendered by this call (the others were already there).
	Utterances, Rendered int
	// Seconds is the total audio duration of the clips rendered by this call.
	Seconds float64
	// PerVoice counts the clips of each voice.
	PerVoice map[string]int
}

type synthLine struct {
	id, text, norm, list string
	line                 int
	file                 string
}

type renderParams struct {
	Voice    Voice
	Speed    float64
	Pitch    float64
	Tempo    float64
	Reverb   [3]float64 // reverberance, HF damping, room scale; 0s: none
	Noise    string
	SNR      float64
	Gain     float64
	Seconds  float64
	Rendered bool
}

// Synthesize renders text lines into an LJSpeech-format corpus with the
// installed speech synthesisers (espeak-ng, flite, festival), varying voice,
// speed and pitch, and optionally tempo, reverberation, noise and level.
// The result is the same for the same options and seed. It is resumable:
// clips already in Out from an interrupted run with the same options are
// kept; Out holding a corpus made with other options is an error.
func Synthesize(ctx context.Context, opt Options) (*Report, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	voices, err := resolveVoices(ctx, opt.Voices)
	if err != nil {
		return nil, err
	}
	if err := checkSox(opt, voices); err != nil {
		return nil, err
	}
	lines, err := readSynthTexts(opt.Texts, opt.Limit, opt.Repeats)
	if err != nil {
		return nil, err
	}
	if err := startCorpus(opt, voices); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "asr-synth-")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	defer os.RemoveAll(tmp)
	params := drawParams(opt, voices, len(lines))
	if err := renderAll(ctx, opt, tmp, lines, params); err != nil {
		return nil, err
	}
	return writeSynthOutputs(opt.Out, lines, params)
}

// withDefaults checks the options and fills in the defaults of zero fields.
func (opt Options) withDefaults() (Options, error) {
	if opt.Out == "" {
		return opt, errors.New("synth: no output folder")
	}
	if len(opt.Texts) == 0 {
		return opt, errors.New("synth: no texts file")
	}
	if opt.Repeats == 0 {
		opt.Repeats = 1
	}
	if opt.Workers == 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.Repeats < 0 || opt.Limit < 0 || opt.Workers < 0 || opt.Reverb < 0 || opt.Reverb > 1 {
		return opt, fmt.Errorf("synth: repeats %d, limit %d, workers %d must be >= 0 and reverb %v in [0, 1]", opt.Repeats, opt.Limit, opt.Workers, opt.Reverb)
	}
	if !opt.Speed.isZero() && opt.Speed.Min <= 0 || !opt.Tempo.isZero() && opt.Tempo.Min <= 0 {
		return opt, fmt.Errorf("synth: speed %v and tempo %v must be positive", opt.Speed, opt.Tempo)
	}
	return opt, nil
}

// checkSox checks that sox is installed when the options need it: for
// tempo, reverberation, and pitch shifts of voices other than espeak-ng's.
func checkSox(opt Options, voices []Voice) error {
	needSox := !opt.Tempo.isZero() || opt.Reverb > 0
	if !opt.Pitch.isZero() && slices.ContainsFunc(voices, func(v Voice) bool { return v.Engine != EngineEspeak }) {
		needSox = true
	}
	if !needSox {
		return nil
	}
	if _, err := exec.LookPath("sox"); err != nil {
		return fmt.Errorf("%w: sox is needed for tempo, reverberation and for pitch shifts of flite/festival voices (on Debian: apt-get install sox), or drop those options", ErrSynthesizerMissing)
	}
	return nil
}

// startCorpus creates the output folder and records the options in its
// synth.json; a folder rendered with other options is refused.
func startCorpus(opt Options, voices []Voice) error {
	if err := os.MkdirAll(filepath.Join(opt.Out, "wavs"), 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	settings, _ := json.MarshalIndent(struct {
		Options
		Resolved []string `json:"resolved_voices"`
	}{opt, voiceNames(voices)}, "", "  ")
	settingsPath := filepath.Join(opt.Out, "synth.json")
	if old, err := os.ReadFile(settingsPath); err == nil && !bytes.Equal(old, settings) {
		return fmt.Errorf("synth: %s holds a corpus rendered with other options (see %s); choose a new --out or delete it", opt.Out, settingsPath)
	}
	if err := atomicfile.WriteFile(settingsPath, settings, 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// drawParams draws the voice and augmentation of every line: the engines
// in turn, a voice of the engine and the augmentation at random, from a
// generator seeded by the options' seed and the line's index.
func drawParams(opt Options, voices []Voice, n int) []renderParams {
	byEngine := map[string][]Voice{}
	var engines []string
	for _, v := range voices {
		if _, ok := byEngine[v.Engine]; !ok {
			engines = append(engines, v.Engine)
		}
		byEngine[v.Engine] = append(byEngine[v.Engine], v)
	}
	params := make([]renderParams, n)
	for i := range params {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
		eng := engines[i%len(engines)]
		p := renderParams{Voice: byEngine[eng][rng.IntN(len(byEngine[eng]))]}
		p.Speed = opt.Speed.draw(rng, 1)
		p.Pitch = opt.Pitch.draw(rng, 0)
		p.Tempo = opt.Tempo.draw(rng, 1)
		if opt.Reverb > 0 && rng.Float64() < opt.Reverb {
			p.Reverb = [3]float64{20 + 60*rng.Float64(), 30 + 50*rng.Float64(), 20 + 80*rng.Float64()}
		}
		if !opt.NoiseSNR.isZero() {
			p.Noise = []string{"white", "pink", "brown"}[rng.IntN(3)]
			p.SNR = opt.NoiseSNR.draw(rng, 0)
		}
		p.Gain = opt.Gain.draw(rng, 0)
		params[i] = p
	}
	return params
}

// renderAll renders the lines with opt.Workers workers; the first error
// stops them all.
func renderAll(ctx context.Context, opt Options, tmp string, lines []synthLine, params []renderParams) error {
	var bar *progress.Bar
	if opt.Progress != nil {
		bar = progress.New(opt.Progress, int64(len(lines)), progress.Options{Description: "synth", Unit: "utt", PredictTime: true})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(lines) || ctx.Err() != nil {
					return
				}
				err := renderOne(ctx, tmp, opt.Out, lines[i], &params[i], uint64(i)^opt.Seed)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				bar.Add(1)
			}
		}()
	}
	wg.Wait()
	bar.Finish()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func voiceNames(vs []Voice) []string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return s
}

// resolveVoices expands the voice specs, checking every voice is installed.
func resolveVoices(ctx context.Context, specs []string) ([]Voice, error) {
	if len(specs) == 0 {
		var all []Voice
		for _, e := range []string{EngineEspeak, EngineFlite, EngineFestival} {
			vs, err := InstalledVoices(ctx, e)
			if errors.Is(err, ErrSynthesizerMissing) {
				continue
			}
			if err != nil {
				return nil, err
			}
			all = append(all, vs...)
		}
		if len(all) == 0 {
			return nil, fmt.Errorf("synth: %w: none of espeak-ng, flite (with its voices) or festival (text2wave) is installed; on Debian: apt-get install espeak-ng flite festival", ErrSynthesizerMissing)
		}
		return all, nil
	}
	installed := map[string]map[string]bool{}
	var out []Voice
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if e := strings.TrimSuffix(s, ":"); e == EngineEspeak || e == "espeak" || e == EngineFlite || e == EngineFestival {
			vs, err := InstalledVoices(ctx, e)
			if err != nil {
				return nil, fmt.Errorf("synth: %w", err)
			}
			out = append(out, vs...)
			continue
		}
		v, err := ParseVoice(s)
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		if installed[v.Engine] == nil {
			names, err := engineVoiceSet(ctx, v.Engine)
			if err != nil {
				return nil, fmt.Errorf("synth: %w", err)
			}
			installed[v.Engine] = names
		}
		name := v.Name
		if v.Engine == EngineEspeak {
			base, variant, hasVariant := strings.Cut(name, "+")
			if hasVariant && !installed[v.Engine]["+"+variant] {
				return nil, fmt.Errorf("synth: %w: espeak-ng has no variant %q (see espeak-ng --voices=variant)", ErrSynthesizerMissing, variant)
			}
			name = base
		}
		if !installed[v.Engine][name] {
			return nil, fmt.Errorf("synth: %w: %s has no voice %q", ErrSynthesizerMissing, v.Engine, v.Name)
		}
		out = append(out, v)
	}
	return out, nil
}

func engineVoiceSet(ctx context.Context, engine string) (map[string]bool, error) {
	tool := engineCommands[engine]
	if _, err := exec.LookPath(tool.cmd); err != nil {
		return nil, fmt.Errorf("%w: %s is not installed (%s not found; on Debian: apt-get install %s)", ErrSynthesizerMissing, engine, tool.cmd, tool.pkg)
	}
	set := map[string]bool{}
	switch engine {
	case EngineEspeak:
		langs, variants, err := espeakVoices(ctx)
		if err != nil {
			return nil, err
		}
		for l := range langs {
			set[l] = true
		}
		for v := range variants {
			set["+"+v] = true
		}
	case EngineFlite:
		names, err := fliteVoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			set[n] = true
		}
	case EngineFestival:
		names, err := festivalVoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			set[n] = true
		}
	}
	return set, nil
}

// readSynthTexts reads the texts files into lines to render.
func readSynthTexts(files []string, limit, repeats int) ([]synthLine, error) {
	var out []synthLine
	seen := map[string]string{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		list := filepath.Base(path)
		stem := strings.TrimSuffix(list, filepath.Ext(list))
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		n, taken := 0, 0
		for sc.Scan() {
			n++
			s := strings.TrimSuffix(sc.Text(), "\r")
			if n == 1 {
				s = strings.TrimPrefix(s, "\ufeff")
			}
			if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if limit > 0 && taken >= limit {
				break
			}
			taken++
			fields := strings.Split(s, "|")
			var id, txt, norm string
			switch len(fields) {
			case 1:
				id, txt = fmt.Sprintf("%s-%05d", stem, n), fields[0]
			case 2:
				id, txt = fields[0], fields[1]
			case 3:
				id, txt, norm = fields[0], fields[1], fields[2]
			default:
				f.Close()
				return nil, fmt.Errorf("synth: %s:%d: %d fields separated by '|', want text, id|text or id|text|normalized text", path, n, len(fields))
			}
			id, txt, norm = strings.TrimSpace(id), strings.TrimSpace(txt), strings.TrimSpace(norm)
			if norm == "" {
				norm = txt
			}
			if err := data.CheckID(id); err != nil {
				f.Close()
				return nil, fmt.Errorf("synth: %s:%d: %w", path, n, err)
			}
			if text.Normalize(norm) == "" {
				f.Close()
				return nil, fmt.Errorf("synth: %s:%d: %s: empty text (nothing to speak after normalisation)", path, n, id)
			}
			for k := 0; k < repeats; k++ {
				rid := id
				if k > 0 {
					rid = fmt.Sprintf("%s-%d", id, k+1)
				}
				if prev, dup := seen[rid]; dup {
					f.Close()
					return nil, fmt.Errorf("synth: %s:%d: id %s already used (%s)", path, n, rid, prev)
				}
				seen[rid] = fmt.Sprintf("%s:%d", path, n)
				out = append(out, synthLine{id: rid, text: txt, norm: norm, list: list, line: n, file: path})
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("synth: %s: %w", path, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("synth: the texts files hold no lines")
	}
	return out, nil
}

// renderOne renders one clip to out/wavs/<id>.wav unless it is already there.
func renderOne(ctx context.Context, tmp, out string, l synthLine, p *renderParams, seed uint64) error {
	dst := filepath.Join(out, "wavs", l.id+".wav")
	if a, err := features.DecodeFile(dst); err == nil && len(a.Samples) > 0 {
		p.Seconds = float64(len(a.Samples)) / float64(a.SampleRate)
		return nil
	}
	base := filepath.Join(tmp, strconv.FormatUint(uint64(fnvString(l.id)), 16))
	raw := base + ".raw.wav"
	if err := runEngine(ctx, p, l.norm, raw, base+".txt"); err != nil {
		return fmt.Errorf("synth: %s (%s): %w", l.id, p.Voice, err)
	}
	src := raw
	var fx []string
	if p.Voice.Engine != EngineEspeak && p.Pitch != 0 {
		fx = append(fx, "pitch", strconv.FormatFloat(100*p.Pitch, 'f', 1, 64))
	}
	if p.Tempo != 1 {
		fx = append(fx, "tempo", "-s", strconv.FormatFloat(p.Tempo, 'f', 4, 64))
	}
	if p.Reverb[0] > 0 {
		fx = append(fx, "reverb", strconv.FormatFloat(p.Reverb[0], 'f', 1, 64), strconv.FormatFloat(p.Reverb[1], 'f', 1, 64), strconv.FormatFloat(p.Reverb[2], 'f', 1, 64))
	}
	if len(fx) > 0 {
		src = base + ".fx.wav"
		args := append([]string{"-R", "-D", "-V1", raw, src}, fx...)
		if b, err := exec.CommandContext(ctx, "sox", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("synth: %s: sox %s: %w: %s", l.id, strings.Join(args, " "), err, bytes.TrimSpace(b))
		}
	}
	a, err := features.DecodeFile(src)
	if err != nil {
		return fmt.Errorf("synth: %s (%s): reading the synthesiser's output: %w", l.id, p.Voice, err)
	}
	x := a.Samples
	if a.SampleRate != Rate {
		if x, err = features.Resample(x, a.SampleRate, Rate); err != nil {
			return fmt.Errorf("synth: %s: %w", l.id, err)
		}
	}
	if len(x) == 0 {
		return fmt.Errorf("synth: %s (%s): the synthesiser produced no audio", l.id, p.Voice)
	}
	augment(x, p, seed)
	var buf bytes.Buffer
	if err := writeWAV16(&buf, x, Rate); err != nil {
		return err
	}
	if err := writeFile(dst, buf.Bytes()); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	os.Remove(raw)
	if src != raw {
		os.Remove(src)
	}
	p.Seconds = float64(len(x)) / Rate
	p.Rendered = true
	return nil
}

func runEngine(ctx context.Context, p *renderParams, txt, wav, txtFile string) error {
	var cmd *exec.Cmd
	switch p.Voice.Engine {
	case EngineEspeak:
		wpm := int(math.Round(175 * p.Speed))
		pitch := int(math.Round(max(0, min(99, 50+8*p.Pitch))))
		cmd = exec.CommandContext(ctx, "espeak-ng", "-v", p.Voice.Name, "-s", strconv.Itoa(wpm), "-p", strconv.Itoa(pitch), "-w", wav, "--stdin")
		cmd.Stdin = strings.NewReader(txt)
	case EngineFlite:
		if err := os.WriteFile(txtFile, []byte(txt+"\n"), 0o644); err != nil {
			return err
		}
		cmd = exec.CommandContext(ctx, "flite", "-voice", p.Voice.Name, "-f", txtFile, "-o", wav,
			"--setf", "duration_stretch="+strconv.FormatFloat(1/p.Speed, 'f', 4, 64))
	case EngineFestival:
		if err := os.WriteFile(txtFile, []byte(txt+"\n"), 0o644); err != nil {
			return err
		}
		cmd = exec.CommandContext(ctx, "text2wave",
			"-eval", "(voice_"+p.Voice.Name+")",
			"-eval", "(Parameter.set 'Duration_Stretch "+strconv.FormatFloat(1/p.Speed, 'f', 4, 64)+")",
			txtFile, "-o", wav)
	default:
		return fmt.Errorf("unknown engine %q", p.Voice.Engine)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", cmd.Path, err, bytes.TrimSpace(out))
	}
	if bytes.Contains(out, []byte("SIOD ERROR")) || bytes.Contains(out, []byte("rror:")) {
		return fmt.Errorf("%s: %s", cmd.Path, bytes.TrimSpace(out))
	}
	return nil
}

// augment applies gain and noise in place, then scales down if anything
// would clip.
func augment(x []float32, p *renderParams, seed uint64) {
	g := float32(math.Pow(10, p.Gain/20))
	if p.Noise != "" {
		var pow float64
		for _, v := range x {
			pow += float64(v) * float64(v)
		}
		pow /= float64(len(x))
		rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
		noise := make([]float32, len(x))
		var b0, b1, b2, brown float64
		var npow float64
		for i := range noise {
			w := rng.NormFloat64()
			var v float64
			switch p.Noise {
			case "white":
				v = w
			case "pink": // Paul Kellet's economy pink filter
				b0 = 0.99765*b0 + w*0.0990460
				b1 = 0.96300*b1 + w*0.2965164
				b2 = 0.57000*b2 + w*1.0526913
				v = b0 + b1 + b2 + w*0.1848
			default: // brown: leaky integration of white noise
				brown = 0.995*brown + 0.1*w
				v = brown
			}
			noise[i] = float32(v)
			npow += v * v
		}
		npow /= float64(len(x))
		if npow > 0 && pow > 0 {
			k := float32(math.Sqrt(pow / npow / math.Pow(10, p.SNR/10)))
			for i := range x {
				x[i] += k * noise[i]
			}
		}
	}
	var peak float32
	for i := range x {
		x[i] *= g
		peak = max(peak, x[i], -x[i])
	}
	if peak > 0.99 {
		s := 0.99 / peak
		for i := range x {
			x[i] *= s
		}
	}
}

func fnvString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// writeSynthOutputs writes metadata.csv, the per-texts-file id lists and
// render.tsv, and returns the report.
func writeSynthOutputs(out string, lines []synthLine, params []renderParams) (*Report, error) {
	rep := &Report{Utterances: len(lines), PerVoice: map[string]int{}}
	var meta, render bytes.Buffer
	render.WriteString("id\tvoice\tspeed\tpitch_semitones\ttempo\treverb\tnoise\tsnr_db\tgain_db\tseconds\n")
	lists := map[string]*bytes.Buffer{}
	for i, l := range lines {
		p := params[i]
		fmt.Fprintf(&meta, "%s|%s|%s\n", l.id, l.text, l.norm)
		rev := "-"
		if p.Reverb[0] > 0 {
			rev = fmt.Sprintf("%.0f/%.0f/%.0f", p.Reverb[0], p.Reverb[1], p.Reverb[2])
		}
		noise := p.Noise
		if noise == "" {
			noise = "-"
		}
		fmt.Fprintf(&render, "%s\t%s\t%.3f\t%.2f\t%.3f\t%s\t%s\t%.1f\t%.1f\t%.3f\n", l.id, p.Voice, p.Speed, p.Pitch, p.Tempo, rev, noise, p.SNR, p.Gain, p.Seconds)
		if lists[l.list] == nil {
			lists[l.list] = &bytes.Buffer{}
		}
		lists[l.list].WriteString(l.id + "\n")
		rep.PerVoice[p.Voice.String()]++
		if p.Rendered {
			rep.Rendered++
			rep.Seconds += p.Seconds
		}
	}
	if err := writeFile(filepath.Join(out, "metadata.csv"), meta.Bytes()); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := writeFile(filepath.Join(out, "render.tsv"), render.Bytes()); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	names := make([]string, 0, len(lists))
	for n := range lists {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := writeFile(filepath.Join(out, "lists", n), lists[n].Bytes()); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	return rep, nil
}

// writeFile writes a file of the corpus atomically, creating its folder.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}
