package asr

import (
	"bytes"
	"cmp"
	gocontext "context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/bundled"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/wer"
	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testutil"
)

// clip16k decodes a testdata clip and resamples it to 16 kHz.
func clip16k(t testing.TB, path string) []float32 {
	t.Helper()
	a, err := features.DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := features.Resample(a.Samples, a.SampleRate, 16000)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// loadRandom loads a random tiny model on the pure-Go backend.
func loadRandom(t testing.TB) *Recognizer {
	t.Helper()
	_, dir := randomModel(t, "tiny", 1, false)
	r, err := Load(dir, &Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestTranscribeMatchesDirectPipeline checks Transcribe against the
// pipeline written out by hand for one utterance: whole-signal features,
// normalisation, the model graph on the exact length (no padding), greedy
// decoding. The streamed features, the padding to a graph length and the
// word times must change nothing.
func TestTranscribeMatchesDirectPipeline(t *testing.T) {
	runDir, _ := randomModel(t, "tiny", 2, false)
	r, err := Load(runDir, &Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ckpt, err := checkpoint.OpenModel(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := ckpt.Manifest
	loader, err := ckpt.NewLoader(false)
	if err != nil {
		t.Fatal(err)
	}
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	ctx := context.New()
	ctx.SetLoader(loader)
	exec, err := context.NewExec(be, ctx.Reuse(), func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbs(ctx, m.Model, feats, lengths, false)
		return lp
	})
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := features.NewExtractor(m.Features)
	for _, p := range testutil.LJSpeechClips(t)[:4] {
		x := clip16k(t, p)
		mel, err := ext.Compute(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Normalization.Apply(mel); err != nil {
			t.Fatal(err)
		}
		feats := make([][][]float32, 1)
		for i := range mel.Frames {
			feats[0] = append(feats[0], mel.Frame(i))
		}
		out, err := exec.Exec(feats, []int32{int32(mel.Frames)})
		if err != nil {
			t.Fatal(err)
		}
		rows := out[0].Value().([][][]float32)[0]
		lp, err := decode.FromRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decode.Greedy{FrameDuration: 40 * time.Millisecond}.Decode(gocontext.Background(), lp)
		if err != nil {
			t.Fatal(err)
		}
		// The model's output on the padded input, compared value by value.
		got, err := r.am.logProbs(gocontext.Background(), mel.Data, mel.Frames)
		if err != nil {
			t.Fatal(err)
		}
		var maxDiff float64
		for i, v := range got {
			maxDiff = max(maxDiff, math.Abs(float64(v-lp.Data[i])))
		}
		if len(got) != len(lp.Data) || maxDiff > 1e-4 {
			t.Errorf("%s: padded model output (%d values) differs from unpadded (%d) by %g", filepath.Base(p), len(got), len(lp.Data), maxDiff)
		}

		res, err := r.Transcribe(gocontext.Background(), x, 16000)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != want.Text || len(res.Words) != len(want.Words) {
			t.Fatalf("%s:\n got %q\nwant %q", filepath.Base(p), res.Text, want.Text)
		}
		for i, w := range res.Words {
			ww := want.Words[i]
			ww.End = min(ww.End, res.Duration) // times are clamped to the audio
			if w.Text != ww.Text || w.Start != ww.Start || w.End != ww.End || math.Abs(w.Confidence-ww.Confidence) > 1e-6 {
				t.Errorf("%s word %d: %+v, want %+v", filepath.Base(p), i, w, ww)
			}
		}
		if d := time.Duration(float64(len(x)) / 16000 * float64(time.Second)); res.Duration != d {
			t.Errorf("duration %v, want %v", res.Duration, d)
		}
	}
}

// TestModelDirectoryKinds loads the same weights as a run directory, a
// model directory and a float16 model directory.
func TestModelDirectoryKinds(t *testing.T) {
	runDir, modelDir := randomModel(t, "tiny", 3, false)
	_, halfDir := randomModel(t, "tiny", 3, true)
	x := clip16k(t, testutil.LJSpeechClips(t)[1])
	var texts []string
	for _, dir := range []string{runDir, modelDir, halfDir} {
		r, err := Load(dir, &Options{Backend: "go"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Transcribe(gocontext.Background(), x, 16000)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, res.Text)
		if r.Info().Manifest.Step != 1 || r.Info().Decoder != "greedy" || r.Info().Backend == "" {
			t.Errorf("info %+v", r.Info())
		}
	}
	if texts[0] != texts[1] {
		t.Errorf("run directory and model directory disagree:\n%q\n%q", texts[0], texts[1])
	}
	if texts[2] == "" {
		t.Errorf("float16 model transcribed nothing")
	}
}

// TestResamplesInput transcribes a 22.05 kHz clip as it is and resampled
// to 16 kHz first: the results are the same.
func TestResamplesInput(t *testing.T) {
	r := loadRandom(t)
	p := testutil.LJSpeechClips(t)[3]
	a, err := features.DecodeFile(p)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := r.Transcribe(gocontext.Background(), a.Samples, a.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := r.Transcribe(gocontext.Background(), clip16k(t, p), 16000)
	if err != nil {
		t.Fatal(err)
	}
	if direct.Text != pre.Text {
		t.Errorf("22.05 kHz input: %q\nresampled first: %q", direct.Text, pre.Text)
	}
	file, err := r.TranscribeFile(gocontext.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := r.TranscribeReader(gocontext.Background(), bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if file.Text != direct.Text || reader.Text != direct.Text || file.Duration != a.Duration() {
		t.Errorf("TranscribeFile %q (%v), TranscribeReader %q, Transcribe %q (%v)", file.Text, file.Duration, reader.Text, direct.Text, a.Duration())
	}
}

// TestConcurrentUse runs transcriptions and streams from several
// goroutines on one Recognizer, in different orders, and compares each
// result with the one computed alone.
func TestConcurrentUse(t *testing.T) {
	r := loadRandom(t)
	clips := testutil.LJSpeechClips(t)
	audio := make([][]float32, len(clips))
	want := make([]string, len(clips))
	for i, p := range clips {
		audio[i] = clip16k(t, p)
		res, err := r.Transcribe(gocontext.Background(), audio[i], 16000)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Text
	}
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*len(clips))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for _, i := range rng.Perm(len(clips)) {
				var got string
				if w%2 == 0 {
					res, err := r.Transcribe(gocontext.Background(), audio[i], 16000)
					if err != nil {
						errs <- err
						return
					}
					got = res.Text
				} else {
					// A stream fed in uneven chunks, without partial results,
					// sees the same windows.
					s := r.NewStream()
					for pos := 0; pos < len(audio[i]); {
						n := min(len(audio[i])-pos, 1+rng.IntN(8000))
						if err := s.AcceptWaveform(gocontext.Background(), 16000, audio[i][pos:pos+n]); err != nil {
							errs <- err
							return
						}
						pos += n
					}
					res, err := s.Finish(gocontext.Background())
					if err != nil {
						errs <- err
						return
					}
					got = res.Text
				}
				if got != want[i] {
					errs <- fmt.Errorf("worker %d, clip %d: %q, want %q", w, i, got, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPartialIsCheapAndConsistent streams a clip with partial results:
// each partial covers the audio so far, and a second call without new
// audio does not run the model again.
func TestPartialIsCheapAndConsistent(t *testing.T) {
	r := loadRandom(t)
	x := clip16k(t, testutil.LJSpeechClips(t)[0])
	s := r.NewStream()
	ctx := gocontext.Background()
	for pos := 0; pos < len(x); pos += 8000 {
		if err := s.AcceptWaveform(ctx, 16000, x[pos:min(pos+8000, len(x))]); err != nil {
			t.Fatal(err)
		}
		p1, err := s.Partial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		runs := s.runs
		p2, err := s.Partial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.runs != runs || p2.Text != p1.Text {
			t.Errorf("second Partial ran the model (%d → %d runs) or changed %q to %q", runs, s.runs, p1.Text, p2.Text)
		}
		if want := time.Duration(float64(min(pos+8000, len(x))) / 16000 * float64(time.Second)); p1.Duration != want {
			t.Errorf("partial duration %v, want %v", p1.Duration, want)
		}
		if n := len(p1.Words); n > 0 && p1.Words[n-1].End > p1.Duration+40*time.Millisecond {
			t.Errorf("partial word %+v ends after the audio (%v)", p1.Words[n-1], p1.Duration)
		}
	}
	if _, err := s.Finish(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTenMinutesBoundedMemory transcribes ten minutes of speech (the
// testdata clips over and over) as a WAV stream whose header gives no
// length (data size 0xFFFFFFFF, as a program writing to a pipe leaves it),
// through TranscribeReader, and checks that the memory in use stays
// bounded by the window, not the audio: the peak heap, sampled while it
// runs, may grow by far less than ten minutes of samples (38 MB as
// float32, which decoding the whole stream first would hold) or of
// features (190 MB for 60,000 frames of 80 bands), let alone the attention
// matrices of one pass over 15,000 output frames (3.6 GB per layer).
func TestTenMinutesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("transcribes ten minutes of audio")
	}
	r := loadRandom(t)
	var pcm []byte
	for _, p := range testutil.LJSpeechClips(t) {
		for _, v := range clip16k(t, p) {
			pcm = binary.LittleEndian.AppendUint16(pcm, uint16(int16(max(-32768, min(32767, v*32768)))))
		}
	}
	stream := func(seconds int) io.Reader {
		return io.MultiReader(bytes.NewReader(testutil.WAVHeader(16000, -1)), &loopPCM{pcm: pcm, left: seconds * 32000})
	}
	// Warm the graph of a full window so that compilation is not counted.
	if _, err := r.TranscribeReader(gocontext.Background(), stream(20)); err != nil {
		t.Fatal(err)
	}
	// Collect garbage eagerly, so that the heap in use follows the live
	// memory rather than the collector's pacing.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}()
	start := time.Now()
	res, err := r.TranscribeReader(gocontext.Background(), stream(600))
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	growth := float64(peak-min(peak, base.HeapInuse)) / (1 << 20)
	t.Logf("10 min in %v: %d words, heap %0.f MB before, peak +%.0f MB", time.Since(start).Round(time.Millisecond), len(res.Words), float64(base.HeapInuse)/(1<<20), growth)
	if growth > 30 {
		t.Errorf("heap grew by %.0f MB while transcribing ten minutes", growth)
	}
	if res.Duration != 10*time.Minute {
		t.Errorf("duration %v", res.Duration)
	}
	if last := res.Words[len(res.Words)-1]; last.End > 10*time.Minute || last.End < 9*time.Minute {
		t.Errorf("last word %+v", last)
	}
}

// loopPCM repeats pcm until left bytes have been read.
type loopPCM struct {
	pcm       []byte
	pos, left int
}

func (l *loopPCM) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), l.left)], l.pcm[l.pos:])
	l.pos = (l.pos + n) % len(l.pcm)
	l.left -= n
	return n, nil
}

// TestProgress: WithProgress reports the audio done, with the total the
// header announces, after every block and up to the whole length.
func TestProgress(t *testing.T) {
	r := loadRandom(t)
	clip := testutil.LJSpeechClips(t)[1]
	var got []Progress
	ctx := WithProgress(gocontext.Background(), func(p Progress) { got = append(got, p) })
	res, err := r.TranscribeFile(ctx, clip)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 3 || got[len(got)-1].Done != res.Duration || got[0].Total.Round(time.Millisecond) != res.Duration.Round(time.Millisecond) {
		t.Errorf("progress %v for %v of audio", got, res.Duration)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Done <= got[i-1].Done {
			t.Errorf("progress went back: %v", got)
		}
	}
	// Standard input: no total.
	got = nil
	if _, err := r.TranscribeReader(ctx, io.MultiReader(bytes.NewReader(testutil.WAVHeader(16000, -1)), &loopPCM{pcm: make([]byte, 3200), left: 64000})); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Total != 0 || got[len(got)-1].Done != 2*time.Second {
		t.Errorf("stream progress %v", got)
	}
}

// TestErrors checks that every kind of bad input gives a clear error.
func TestErrors(t *testing.T) {
	r := loadRandom(t)
	ctx := gocontext.Background()
	tmp := t.TempDir()
	text := filepath.Join(tmp, "notes.wav")
	os.WriteFile(text, []byte("this is not audio at all, just some text\n"), 0o644)
	nan := []float32{0, 0.1, float32(math.NaN())}
	cancelled, cancel := gocontext.WithCancel(ctx)
	cancel()
	long := clip16k(t, testutil.LJSpeechClips(t)[0])

	for _, c := range []struct {
		name string
		err  error
		want string
		run  func() error
	}{
		{"rate 0", ErrSampleRate, "0 Hz", func() error { _, err := r.Transcribe(ctx, []float32{0}, 0); return err }},
		{"negative rate", ErrSampleRate, "-16000 Hz", func() error { _, err := r.Transcribe(ctx, nil, -16000); return err }},
		{"huge rate", ErrSampleRate, "2000000 Hz", func() error { _, err := r.Transcribe(ctx, []float32{0}, 2_000_000); return err }},
		{"NaN", ErrAudio, "sample 2 is NaN", func() error { _, err := r.Transcribe(ctx, nan, 16000); return err }},
		{"text file", features.ErrMalformed, "notes.wav", func() error { _, err := r.TranscribeFile(ctx, text); return err }},
		{"missing file", fs.ErrNotExist, "nope.wav", func() error { _, err := r.TranscribeFile(ctx, filepath.Join(tmp, "nope.wav")); return err }},
		{"ogg", features.ErrUnsupportedFormat, "ffmpeg", func() error {
			_, err := r.TranscribeFile(ctx, testutil.Path(t, "audio", "vorbis.ogg"))
			return err
		}},
		{"reader", features.ErrMalformed, "", func() error { _, err := r.TranscribeReader(ctx, strings.NewReader("")); return err }},
		{"cancelled", gocontext.Canceled, "", func() error { _, err := r.Transcribe(cancelled, long, 16000); return err }},
		{"rate change", ErrSampleRate, "cannot change to 8000 Hz", func() error {
			s := r.NewStream()
			if err := s.AcceptWaveform(ctx, 16000, []float32{0, 0}); err != nil {
				return err
			}
			return s.AcceptWaveform(ctx, 8000, []float32{0, 0})
		}},
		{"after finish", ErrStreamFinished, "", func() error {
			s := r.NewStream()
			if _, err := s.Finish(ctx); err != nil {
				return err
			}
			return s.AcceptWaveform(ctx, 16000, []float32{0})
		}},
	} {
		err := c.run()
		if !errors.Is(err, c.err) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%s: error %v, want %v containing %q", c.name, err, c.err, c.want)
		}
	}

	// No samples at all is no speech, not an error.
	res, err := r.Transcribe(ctx, nil, 44100)
	if err != nil || res.Text != "" || res.Words != nil || res.Duration != 0 {
		t.Errorf("empty input: %+v, %v", res, err)
	}
	res, err = r.Transcribe(ctx, make([]float32, 10), 16000)
	if err != nil || res.Duration != 625*time.Microsecond {
		t.Errorf("10 samples: %+v, %v", res, err)
	}
}

func TestLoadErrors(t *testing.T) {
	runDir, modelDir := randomModel(t, "tiny", 4, false)
	empty := t.TempDir()
	// A manifest that describes a bigger model than its weights.
	mismatch := filepath.Join(t.TempDir(), "mismatch")
	copyDir(t, modelDir, mismatch)
	m, err := checkpoint.ReadManifest(mismatch)
	if err != nil {
		t.Fatal(err)
	}
	m.Model.NumLayers = 3
	raw, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(mismatch, checkpoint.ManifestFile), raw, 0o644)
	// A manifest whose layer width differs from its weights'.
	wider := filepath.Join(t.TempDir(), "wider")
	copyDir(t, modelDir, wider)
	if m, err = checkpoint.ReadManifest(wider); err != nil {
		t.Fatal(err)
	}
	m.Model.FFNDim += 8
	raw, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(wider, checkpoint.ManifestFile), raw, 0o644)
	lmFile := filepath.Join(t.TempDir(), "bad.arpa")
	os.WriteFile(lmFile, []byte("not an arpa file\n"), 0o644)
	goodLM := filepath.Join(t.TempDir(), "good.arpa")
	os.WriteFile(goodLM, []byte("\\data\\\nngram 1=3\n\n\\1-grams:\n-1 <s>\n-0.5 </s>\n-0.3 the\n\n\\end\\\n"), 0o644)

	for _, c := range []struct {
		name string
		dir  string
		opts Options
		err  error
		want string
	}{
		{"missing", filepath.Join(empty, "nope"), Options{}, fs.ErrNotExist, "nope"},
		{"empty", empty, Options{}, ErrNotModel, "neither"},
		{"mismatch", mismatch, Options{}, nil, "layer_02"},
		{"shape mismatch", wider, Options{}, nil, "building the model that the manifest describes from its weights"},
		{"backend", modelDir, Options{Backend: "tpu"}, nil, "unknown backend spec"},
		{"beam", modelDir, Options{Decoding: DecodingOptions{Beam: -2}}, ErrOptions, "beam width -2"},
		{"beam too wide", modelDir, Options{Decoding: DecodingOptions{Beam: math.MaxInt32}}, ErrOptions, "beam width 2147483647 is above the maximum, 1024"},
		{"beam with lm", modelDir, Options{Decoding: DecodingOptions{Beam: -2, LM: goodLM, LMWeight: 0.5}}, ErrOptions, "beam width -2"},
		{"lm weight negative", modelDir, Options{Decoding: DecodingOptions{LM: goodLM, LMWeight: -1}}, ErrOptions, "weight -1 must be finite"},
		{"lm weight NaN", modelDir, Options{Decoding: DecodingOptions{LM: goodLM, LMWeight: math.NaN()}}, ErrOptions, "weight NaN must be finite"},
		{"word bonus Inf", modelDir, Options{Decoding: DecodingOptions{LM: goodLM, LMWeight: 0.5, WordBonus: math.Inf(1)}}, ErrOptions, "word bonus +Inf must be finite"},
		{"word bonus NaN without lm", modelDir, Options{Decoding: DecodingOptions{Beam: 4, WordBonus: math.NaN()}}, ErrOptions, "word bonus NaN"},
		{"window", modelDir, Options{Window: 3 * time.Second, Context: 2 * time.Second}, ErrOptions, "longer than twice the context"},
		{"lm missing", modelDir, Options{Decoding: DecodingOptions{LM: filepath.Join(empty, "x.arpa")}}, fs.ErrNotExist, "language model"},
		{"lm bad", runDir, Options{Decoding: DecodingOptions{LM: lmFile, LMWeight: 0.5, WordBonus: 1}}, nil, "language model"},
	} {
		c.opts.Backend = cmp.Or(c.opts.Backend, "go")
		r, err := Load(c.dir, &c.opts)
		if err == nil {
			r.Close()
		}
		var e *Error
		if err == nil || (c.err != nil && !errors.Is(err, c.err)) || !strings.Contains(err.Error(), c.want) || !errors.As(err, &e) || e.Op != "load" || e.Path != c.dir {
			t.Errorf("%s: error %v, want an *Error of load %s wrapping %v containing %q", c.name, err, c.dir, c.err, c.want)
		}
	}
}

func TestClose(t *testing.T) {
	r := loadRandom(t)
	s := r.NewStream()
	if err := s.AcceptWaveform(gocontext.Background(), 16000, make([]float32, 1600)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Transcribe(gocontext.Background(), make([]float32, 1600), 16000); !errors.Is(err, ErrClosed) {
		t.Errorf("Transcribe after Close: %v", err)
	}
	if _, err := s.Finish(gocontext.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Finish after Close: %v", err)
	}
}

// TestBeamAndLM loads with beam search and a language model.
func TestBeamAndLM(t *testing.T) {
	_, dir := randomModel(t, "tiny", 5, false)
	arpa := filepath.Join(t.TempDir(), "lm.arpa")
	// A unigram model of the words the random model might spell.
	os.WriteFile(arpa, []byte("\\data\\\nngram 1=4\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.5\t<unk>\n-0.5\tthe\n\n\\end\\\n"), 0o644)
	x := clip16k(t, testutil.LJSpeechClips(t)[1])
	for _, c := range []struct {
		opts DecodingOptions
		info string
	}{
		{DecodingOptions{Beam: 1}, "greedy"},
		{DecodingOptions{Beam: 4}, "beam(width=4)"},
		{DecodingOptions{LM: arpa}, "beam(width=8), lm order 1 weight 0.5"},
		{DecodingOptions{Beam: 16, LM: arpa, LMWeight: 0.8, WordBonus: 1}, "beam(width=16), lm order 1 weight 0.8"},
	} {
		r, err := Load(dir, &Options{Backend: "go", Decoding: c.opts})
		if err != nil {
			t.Fatal(err)
		}
		if r.Info().Decoder != c.info {
			t.Errorf("decoder %q, want %q", r.Info().Decoder, c.info)
		}
		if _, err := r.Transcribe(gocontext.Background(), x, 16000); err != nil {
			t.Error(err)
		}
		r.Close()
	}
}

// TestModelDirectoryLM exports a model directory that carries a language
// model and decoding settings, and checks that Load uses them unless told
// otherwise, that a re-export keeps them, and that a damaged language model
// is reported.
func TestModelDirectoryLM(t *testing.T) {
	runDir, _ := randomModel(t, "tiny", 5, false)
	arpa := filepath.Join(t.TempDir(), "lm.arpa")
	if err := os.WriteFile(arpa, []byte("\\data\\\nngram 1=4\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.5\t<unk>\n-0.5\tthe\n\n\\end\\\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "with-lm")
	if _, err := checkpoint.Export(runDir, dir, checkpoint.ExportOptions{LM: arpa, Beam: 6, LMWeight: 0.7, WordBonus: 1.5}); err != nil {
		t.Fatal(err)
	}
	m, err := checkpoint.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Decoding; d == nil || *d != (checkpoint.Decoding{Beam: 6, LM: checkpoint.LMFile, LMWeight: 0.7, WordBonus: 1.5}) {
		t.Fatalf("manifest decoding %+v", m.Decoding)
	}
	if gz, err := os.ReadFile(filepath.Join(dir, checkpoint.LMFile)); err != nil || !bytes.HasPrefix(gz, []byte{0x1f, 0x8b}) {
		t.Fatalf("%s is not gzip-compressed (%v)", checkpoint.LMFile, err)
	}
	again := filepath.Join(t.TempDir(), "again")
	if _, err := checkpoint.Export(dir, again, checkpoint.ExportOptions{Float16: true}); err != nil {
		t.Fatal(err)
	}
	x := clip16k(t, testutil.LJSpeechClips(t)[1])
	for _, c := range []struct {
		dir  string
		opts DecodingOptions
		info string
	}{
		{dir, DecodingOptions{}, "beam(width=6), lm order 1 weight 0.7"},
		{again, DecodingOptions{}, "beam(width=6), lm order 1 weight 0.7"},
		{dir, DecodingOptions{Beam: 3}, "beam(width=3), lm order 1 weight 0.7"},
		{dir, DecodingOptions{NoLM: true}, "greedy"},
		{dir, DecodingOptions{NoLM: true, Beam: 4}, "beam(width=4)"},
		{dir, DecodingOptions{LMWeight: 0.2, WordBonus: 1}, "beam(width=6), lm order 1 weight 0.2"},
		{dir, DecodingOptions{WordBonus: 1}, "beam(width=6), lm order 1 weight 0.5"}, // both weights replace the directory's
		{dir, DecodingOptions{LMWeight: 0.9, LM: arpa}, "beam(width=8), lm order 1 weight 0.9"},
		{dir, DecodingOptions{LM: arpa}, "beam(width=8), lm order 1 weight 0.5"}, // the directory's settings go with its LM
	} {
		r, err := Load(c.dir, &Options{Backend: "go", Decoding: c.opts})
		if err != nil {
			t.Fatal(err)
		}
		if r.Info().Decoder != c.info {
			t.Errorf("%s %+v: decoder %q, want %q", filepath.Base(c.dir), c.opts, r.Info().Decoder, c.info)
		}
		if _, err := r.Transcribe(gocontext.Background(), x, 16000); err != nil {
			t.Error(err)
		}
		r.Close()
	}

	if _, err := Load(dir, &Options{Backend: "go", Decoding: DecodingOptions{NoLM: true, LMWeight: 0.2}}); !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "no language model to weigh") {
		t.Errorf("an LM weight without an LM: %v", err)
	}

	// A truncated or garbled language model is named, not decoded around.
	lmPath := filepath.Join(dir, checkpoint.LMFile)
	gz, _ := os.ReadFile(lmPath)
	if err := os.WriteFile(lmPath, gz[:len(gz)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, &Options{Backend: "go"}); !errors.Is(err, ErrCorruptCheckpoint) || !strings.Contains(err.Error(), checkpoint.LMFile) {
		t.Errorf("truncated LM: %v", err)
	}
	garbled := bytes.Clone(gz)
	garbled[len(garbled)/2] ^= 0xff
	if err := os.WriteFile(lmPath, garbled, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, &Options{Backend: "go"}); !errors.Is(err, ErrCorruptCheckpoint) || !strings.Contains(err.Error(), checkpoint.LMFile) {
		t.Errorf("garbled LM: %v", err)
	}
	if r, err := Load(dir, &Options{Backend: "go", Decoding: DecodingOptions{NoLM: true}}); err != nil {
		t.Errorf("NoLM still reads the damaged LM: %v", err)
	} else {
		r.Close()
	}
	if _, err := checkpoint.Export(runDir, filepath.Join(t.TempDir(), "x"), checkpoint.ExportOptions{LM: filepath.Join(t.TempDir(), "none.arpa")}); err == nil {
		t.Error("export with a missing LM file succeeded")
	}
}

// Error-rate bounds of the bundled model on the eight real LJSpeech clips
// of testdata (corpus rates, its default decoding and greedy): the
// measured figures (README, "The bundled model") plus a margin, so that a
// change that breaks recognition (features, normalisation, decoding,
// loading) fails here.
const (
	bundledMaxWER       = 0.83 // measured 76.34%
	bundledMaxCER       = 0.53 // measured 46.74%
	bundledMaxGreedyCER = 0.50 // measured 42.06%
)

// TestLoadDefault loads the bundled model when this build has one and
// checks how well it recognises the real clips of testdata; without one
// LoadDefault must report ErrNoBundledModel.
func TestLoadDefault(t *testing.T) {
	_, statErr := fs.Stat(bundled.FS(), checkpoint.ManifestFile)
	r, err := LoadDefault(&Options{Backend: "go"})
	if statErr != nil {
		if !errors.Is(err, ErrNoBundledModel) {
			t.Fatalf("no bundled model: LoadDefault gave %v, want ErrNoBundledModel", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Info().Dir != "" || r.Info().Manifest.Kind != checkpoint.KindModel {
		t.Errorf("info %+v", r.Info())
	}
	greedy, err := LoadDefault(&Options{Backend: "go", Decoding: DecodingOptions{NoLM: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer greedy.Close()
	if greedy.Info().Decoder != "greedy" {
		t.Errorf("NoLM decoder %q", greedy.Info().Decoder)
	}
	rows, err := os.ReadFile(testutil.Path(t, "ljspeech", "metadata.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var words, chars, greedyChars wer.Counts
	for _, line := range strings.Split(strings.TrimSpace(string(rows)), "\n") {
		f := strings.Split(line, "|")
		ref := text.Normalize(f[len(f)-1])
		path := testutil.Path(t, "ljspeech", "wavs", f[0]+".wav")
		res, err := r.TranscribeFile(gocontext.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		g, err := greedy.TranscribeFile(gocontext.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		words.Add(wer.Words(ref, res.Text).Counts)
		chars.Add(wer.Chars(ref, res.Text).Counts)
		greedyChars.Add(wer.Chars(ref, g.Text).Counts)
		t.Logf("%s\n  ref:    %s\n  %s: %s\n  greedy: %s", f[0], ref, r.Info().Decoder, res.Text, g.Text)
	}
	t.Logf("bundled model on %d words: WER %.2f%%, CER %.2f%% (greedy CER %.2f%%)", words.RefLen(),
		100*words.ErrorRate(), 100*chars.ErrorRate(), 100*greedyChars.ErrorRate())
	if words.ErrorRate() > bundledMaxWER || chars.ErrorRate() > bundledMaxCER || greedyChars.ErrorRate() > bundledMaxGreedyCER {
		t.Errorf("the bundled model got worse: WER %.2f%% (bound %.0f%%), CER %.2f%% (bound %.0f%%), greedy CER %.2f%% (bound %.0f%%)",
			100*words.ErrorRate(), 100*bundledMaxWER, 100*chars.ErrorRate(), 100*bundledMaxCER, 100*greedyChars.ErrorRate(), 100*bundledMaxGreedyCER)
	}
}

// TestOpenFS reads a model directory from a file system as LoadDefault
// reads the embedded one, and rejects damaged ones.
func TestOpenFS(t *testing.T) {
	_, dir := randomModel(t, "tiny", 6, true)
	files := fstest.MapFS{}
	for _, name := range []string{checkpoint.ManifestFile, checkpoint.WeightsFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: b}
	}
	c, loader, err := openBundled(files)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRecognizer("", c, loader, &Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()

	truncated := fstest.MapFS{checkpoint.ManifestFile: files[checkpoint.ManifestFile], checkpoint.WeightsFile: &fstest.MapFile{Data: files[checkpoint.WeightsFile].Data[:100]}}
	badJSON := fstest.MapFS{checkpoint.ManifestFile: &fstest.MapFile{Data: []byte("{")}, checkpoint.WeightsFile: files[checkpoint.WeightsFile]}
	flipped := bytes.Clone(files[checkpoint.WeightsFile].Data)
	flipped[len(flipped)-3] ^= 0xff
	corrupt := fstest.MapFS{checkpoint.ManifestFile: files[checkpoint.ManifestFile], checkpoint.WeightsFile: &fstest.MapFile{Data: flipped}}
	noWeights := fstest.MapFS{checkpoint.ManifestFile: files[checkpoint.ManifestFile]}
	for name, c := range map[string]struct {
		fsys fs.FS
		err  error
	}{
		"empty":      {fstest.MapFS{"README.md": &fstest.MapFile{Data: []byte("x")}}, ErrNoBundledModel},
		"truncated":  {truncated, ErrCorruptCheckpoint},
		"bad json":   {badJSON, ErrCorruptCheckpoint},
		"corrupt":    {corrupt, ErrCorruptCheckpoint},
		"no weights": {noWeights, ErrCorruptCheckpoint},
	} {
		if _, _, err := openBundled(c.fsys); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func TestBucketFrames(t *testing.T) {
	seen := map[int]bool{}
	for n := 1; n <= 1600; n++ {
		b := bucketFrames(n, 1600)
		if b < n || b > 1600 || b%model.SubsamplingFactor != 0 || (n > 512 && float64(b) > 1.5*float64(n)) {
			t.Fatalf("bucketFrames(%d, 1600) = %d", n, b)
		}
		seen[b] = true
	}
	if len(seen) > 10 || !seen[1600] {
		t.Errorf("%d graph lengths for windows up to 16 s: %v", len(seen), seen)
	}
	if b := bucketFrames(2000, 1600); b != 2048 {
		t.Errorf("past the window: %d", b)
	}
}
