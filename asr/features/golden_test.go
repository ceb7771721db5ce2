package features

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/features")

// clipGolden summarises the log-mel features of one clip compactly: the
// shape, per-band mean and standard deviation over all frames, and three
// whole frames, rounded to 4 decimals.
type clipGolden struct {
	Clip       string      `json:"clip"`
	Samples16k int         `json:"samples_16k"`
	Frames     int         `json:"frames"`
	Bands      int         `json:"bands"`
	BandMean   []float64   `json:"band_mean"`
	BandStd    []float64   `json:"band_std"`
	FramesAt   []int       `json:"frames_at"`
	FrameData  [][]float64 `json:"frame_data"`
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func summarise(name string, n16k int, m *LogMel) clipGolden {
	g := clipGolden{Clip: name, Samples16k: n16k, Frames: m.Frames, Bands: m.Bands,
		FramesAt: []int{m.Frames / 4, m.Frames / 2, 3 * m.Frames / 4}}
	s := NewStats(m.Bands)
	s.Add(m)
	for b := range m.Bands {
		g.BandMean = append(g.BandMean, round4(s.Mean[b]))
		g.BandStd = append(g.BandStd, round4(math.Sqrt(s.M2[b]/float64(s.Count))))
	}
	for _, t := range g.FramesAt {
		var row []float64
		for _, v := range m.Frame(t) {
			row = append(row, round4(float64(v)))
		}
		g.FrameData = append(g.FrameData, row)
	}
	return g
}

// TestLJSpeechGoldens runs the whole input pipeline (decode, resample 22.05 →
// 16 kHz, log-mel with the defaults) on the real LJSpeech clips and compares
// it with testdata/features/ljspeech_logmel.json. Regenerate with
// go test ./asr/features -run LJSpeechGoldens -update, after checking why
// the features changed.
func TestLJSpeechGoldens(t *testing.T) {
	e := newTestExtractor(t, Config{})
	var got []clipGolden
	for _, path := range testutil.LJSpeechClips(t) {
		a, err := DecodeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		x, err := Resample(a.Samples, a.SampleRate, 16000)
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Compute(x)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, summarise(filepath.Base(path), len(x), m))
	}
	goldenPath := filepath.Join(testutil.Root(t), "testdata", "features", "ljspeech_logmel.json")
	if *update {
		js, err := marshalGoldens(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, js, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenPath)
		return
	}
	js, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var want []clipGolden
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d clips, golden has %d", len(got), len(want))
	}
	// Float32 arithmetic may round differently on another CPU (FMA); the
	// tolerances are far above that and far below any real change.
	const tolStat, tolFrame = 2e-3, 1e-2
	for i, g := range got {
		w := want[i]
		if g.Clip != w.Clip || g.Samples16k != w.Samples16k || g.Frames != w.Frames || g.Bands != w.Bands {
			t.Errorf("%s: shape (-got +want):\n- %s %d samples %d×%d\n+ %s %d samples %d×%d", g.Clip, g.Clip, g.Samples16k, g.Frames, g.Bands, w.Clip, w.Samples16k, w.Frames, w.Bands)
			continue
		}
		check := func(what string, got, want []float64, tol float64) {
			for b := range want {
				if math.Abs(got[b]-want[b]) > tol {
					t.Errorf("%s: %s[%d] = %.4f, golden %.4f", g.Clip, what, b, got[b], want[b])
					return
				}
			}
		}
		check("band_mean", g.BandMean, w.BandMean, tolStat)
		check("band_std", g.BandStd, w.BandStd, tolStat)
		for k := range w.FrameData {
			check(fmt.Sprintf("frame %d", w.FramesAt[k]), g.FrameData[k], w.FrameData[k], tolFrame)
		}
	}
}

// marshalGoldens writes one JSON field per line (each array on one line), so
// that the file is compact and a diff shows which clip and field changed.
func marshalGoldens(clips []clipGolden) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, c := range clips {
		fields := []struct {
			key string
			val any
		}{{"clip", c.Clip}, {"samples_16k", c.Samples16k}, {"frames", c.Frames}, {"bands", c.Bands},
			{"band_mean", c.BandMean}, {"band_std", c.BandStd}, {"frames_at", c.FramesAt}, {"frame_data", c.FrameData}}
		b.WriteString(" {\n")
		for j, f := range fields {
			v, err := json.Marshal(f.val)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "  %q: %s", f.key, v)
			if j < len(fields)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(" }")
		if i < len(clips)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	return b.Bytes(), nil
}
