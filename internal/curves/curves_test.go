package curves

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var keepImage = flag.String("image", "", "also write TestRender's PNG to this `file`")

// fakeLog is a train.jsonl of steps steps (metrics every 5, evaluations
// every 50) whose loss falls as scale/step, stopped at stop and resumed
// from the checkpoint at resumeFrom when stop > 0.
func fakeLog(steps, stop, resumeFrom int, scale float64) string {
	var b strings.Builder
	b.WriteString(`{"type": "state", "time": "2026-01-02T15:04:05Z", "step": 0, "total_steps": 400, "state": {"state": "preparing"}}` + "\n")
	metrics := func(s int, bump float64) {
		fmt.Fprintf(&b, `{"type": "metrics", "step": %d, "total_steps": %d, "metrics": {"loss": %g, "learning_rate": %g, "grad_norm": %g, "audio_seconds_per_second": %g}}`+"\n",
			s, steps, scale/float64(s)+bump, 1e-3*(1-float64(s)/float64(steps+1)), 10/math.Sqrt(float64(s)), 100+float64(s%20))
	}
	eval := func(s int) {
		fmt.Fprintf(&b, `{"type": "eval", "step": %d, "eval": {"step": %d, "wer": %g, "cer": %g, "loss": %g, "samples": [{"id": "a", "reference": "x", "hypothesis": "y"}]}}`+"\n",
			s, s, 0.8*50/float64(s), 0.3*50/float64(s), scale/float64(s)*1.2)
	}
	for s := 5; s <= steps; s += 5 {
		bump := 0.0
		if stop > 0 && s > resumeFrom && s <= stop {
			bump = 100 // the first run's values, which the resumed run replaces
		}
		metrics(s, bump)
		if s%50 == 0 {
			eval(s)
		}
		if stop > 0 && s == stop {
			// Stopped, then resumed from resumeFrom: the steps after it again.
			fmt.Fprintf(&b, `{"type": "state", "step": %d, "state": {"state": "training", "resumed": %d}}`+"\n", resumeFrom, resumeFrom)
			for r := resumeFrom + 5; r <= stop; r += 5 {
				metrics(r, 0)
			}
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		log       string
		wantErr   string
		loss, wer int // points
		check     func(t *testing.T, r Run)
	}{
		{name: "one run", log: fakeLog(400, 0, 0, 5), loss: 80, wer: 8},
		{name: "resumed", log: fakeLog(400, 130, 100, 5), loss: 80, wer: 8, check: func(t *testing.T, r Run) {
			for i, p := range r.Loss {
				if p.Value > 50 {
					t.Errorf("the stopped run's value %v at step %d was kept", p.Value, p.Step)
				}
				if i > 0 && p.Step <= r.Loss[i-1].Step {
					t.Errorf("steps out of order at %d: %d after %d", i, p.Step, r.Loss[i-1].Step)
				}
			}
		}},
		{name: "a line being written", log: fakeLog(100, 0, 0, 5) + `{"type": "metrics", "step": 105, "metr`, loss: 20, wer: 2},
		{name: "empty", log: "", loss: 0, wer: 0},
		{name: "other events", log: `{"type": "compile", "step": 0, "compile": {"graph": "train"}}` + "\n\n" +
			`{"type": "metrics", "step": 5, "metrics": {"loss": NaN}}` + "\n", wantErr: "log.jsonl:3: not a training event"},
		{name: "not JSON", log: fakeLog(50, 0, 0, 5) + "Traceback\n", wantErr: "log.jsonl:13: not a training event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(tt.log), "log.jsonl")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Loss) != tt.loss || len(r.WER) != tt.wer || len(r.CER) != tt.wer || len(r.ValLoss) != tt.wer {
				t.Errorf("%d loss points, %d/%d/%d evaluations; want %d, %d", len(r.Loss), len(r.WER), len(r.CER), len(r.ValLoss), tt.loss, tt.wer)
			}
			if r.Empty() != (tt.loss == 0 && tt.wer == 0) {
				t.Errorf("Empty() = %v", r.Empty())
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run-a")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "train.jsonl"), []byte(fakeLog(100, 0, 0, 5)), 0o644)
	os.WriteFile(filepath.Join(dir, "other.jsonl"), []byte(fakeLog(50, 0, 0, 5)), 0o644)
	for _, tt := range []struct{ path, name, err string }{
		{path: run, name: "run-a"},
		{path: run + "/", name: "run-a"},
		{path: filepath.Join(run, "train.jsonl"), name: "run-a"},
		{path: filepath.Join(dir, "other.jsonl"), name: "other"},
		{path: dir, err: "has no train.jsonl"},
		{path: filepath.Join(dir, "missing"), err: "no such file"},
	} {
		r, err := Read(tt.path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Read(%s): error %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || r.Name != tt.name || len(r.Loss) == 0 {
			t.Errorf("Read(%s): %q, %d points, %v; want %q", tt.path, r.Name, len(r.Loss), err, tt.name)
		}
	}
}

func TestSmooth(t *testing.T) {
	ps := []Point{{1, 4}, {2, 4}, {3, 4}}
	for _, p := range Smooth(ps, 0.9) {
		if math.Abs(p.Value-4) > 1e-12 {
			t.Errorf("a constant smoothed to %v: the average is not debiased", p.Value)
		}
	}
	s := Smooth([]Point{{1, 0}, {2, 10}}, 0.5)
	if want := 10 * 0.5 / 0.75; math.Abs(s[1].Value-want) > 1e-12 || s[0].Value != 0 {
		t.Errorf("Smooth = %v, want [0 %v]", s, want)
	}
	if got := Smooth(ps, 0); got[2] != ps[2] {
		t.Errorf("no smoothing changed %v to %v", ps, got)
	}
}

// TestRender draws two runs and checks the image: its size, and each
// run's colour drawn in it.
func TestRender(t *testing.T) {
	a, err := Parse(strings.NewReader(fakeLog(400, 130, 100, 5)), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(strings.NewReader(fakeLog(300, 0, 0, 12)), "b")
	if err != nil {
		t.Fatal(err)
	}
	a.Name, b.Name = "lr-1e-3", "lr-3e-4"
	runs := []Run{a, b}
	for _, tt := range []struct {
		name      string
		opts      Options
		w, h      int
		wantError string
	}{
		{name: "default", opts: Options{Smoothing: 0.6}, w: 1200, h: 3*330 + 24},
		{name: "log", opts: Options{LogY: true, Width: 900, Height: 500, Panels: []string{"loss", "wer"}}, w: 900, h: 500},
		{name: "one panel", opts: Options{Panels: []string{"lr"}}, w: 1200, h: 330 + 24},
		{name: "bad panel", opts: Options{Panels: []string{"accuracy"}}, wantError: `no panel "accuracy"`},
		{name: "bad smoothing", opts: Options{Smoothing: 1}, wantError: "smoothing 1"},
		{name: "bad format", opts: Options{Format: "gif"}, wantError: `format "gif"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Render(&buf, runs, tt.opts)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds().Size(); got != image.Pt(tt.w, tt.h) {
				t.Errorf("size %v, want %dx%d", got, tt.w, tt.h)
			}
			for i := range runs {
				if n := countColor(img, Color(i)); n < 200 {
					t.Errorf("run %d's colour is on %d pixels: its curves are missing", i, n)
				}
			}
			if tt.name == "default" && *keepImage != "" {
				os.WriteFile(*keepImage, buf.Bytes(), 0o644)
			}
		})
	}
	var svg bytes.Buffer
	if err := Render(&svg, runs, Options{Format: "svg"}); err != nil || !bytes.Contains(svg.Bytes(), []byte("<svg")) {
		t.Errorf("svg: %v, %.80q", err, svg.Bytes())
	}
	for _, tt := range []struct {
		runs []Run
		want string
	}{
		{nil, "no runs"},
		{[]Run{{Name: "empty"}}, "no metrics or evaluations"},
		{[]Run{{Name: "no evals", Loss: []Point{{5, 1}}}}, ""},
		{[]Run{{Name: "constant", Loss: []Point{{5, 0.001}, {10, 0.001}, {15, 0.001}}, WER: []Point{{10, 0}, {20, 0}}}}, ""},
	} {
		for _, logY := range []bool{false, true} {
			err := Render(&bytes.Buffer{}, tt.runs, Options{LogY: logY, Smoothing: 0.6})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Render(%v, log %v): %v, want %q", tt.runs, logY, err, tt.want)
			}
		}
	}
	if err := Render(&bytes.Buffer{}, []Run{{Name: "no evals", Loss: []Point{{5, 1}}}}, Options{Panels: []string{"wer"}}); err == nil {
		t.Error("a panel asked for without data: no error")
	}
}

// countColor counts the pixels of colour c (within a small tolerance).
func countColor(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	cr, cg, cb, _ := c.RGBA()
	n := 0
	near := func(a, b uint32) bool { return a>>8 <= b>>8+6 && b>>8 <= a>>8+6 }
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, cr) && near(g, cg) && near(b, cb) {
				n++
			}
		}
	}
	return n
}

func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi  float64
		integer bool
		want    string // the labels
	}{
		{0, 400, true, "0 100 200 300 400"},
		{5, 400, true, "100 200 300 400"},
		{0, 80, false, "0 20 40 60 80"},
		{0.0001, 0.0009, false, "0.0002 0.0004 0.0006 0.0008"},
		{0, 3, true, "0 1 2 3"},
		{0, 1, true, "0 1"},
		{20000, 20000, true, "20000"},
		{0.001, 0.001 + 1e-18, false, "0.001 0.001"},
		{2.5 - 1e-15, 2.5 + 1e-15, false, "2.5 2.5"},
	} {
		var labels []string
		for _, tk := range (niceTicks{integer: tt.integer}).Ticks(tt.lo, tt.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tt.want {
			t.Errorf("Ticks(%v, %v): %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestDecadeTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   string
	}{
		{1e-5, 0.01, "1e-05 0.0001 0.001 0.01"},
		{0.001, 10, "0.001 0.01 0.1 1 10"},
		{10, 10000, "10 100 1000 10000"},
		{0, 1, ""},
	} {
		var labels []string
		n := 0
		for _, tk := range (decadeTicks{}).Ticks(tt.lo, tt.hi) {
			n++
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tt.want || (got != "" && n != 9*(len(labels)-1)+1) {
			t.Errorf("Ticks(%v, %v): %q (%d ticks), want %q", tt.lo, tt.hi, got, n, tt.want)
		}
	}
}
