package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/testutil"
)

// testManifest returns a valid checkpoint manifest for the tiny preset.
func testManifest(step int64) *Manifest {
	cfg, _ := model.Preset("tiny")
	norm := features.Normalization{Mean: make([]float32, 80), Std: make([]float32, 80)}
	for i := range norm.Std {
		norm.Mean[i] = -float32(i) / 10
		norm.Std[i] = 1 + float32(i)/100
	}
	return &Manifest{
		Step:          step,
		Model:         cfg,
		Parameters:    cfg.NumParameters(),
		Features:      features.DefaultConfig(),
		Normalization: norm,
		Vocabulary:    text.DefaultVocabulary(),
		Training:      &TrainingState{Epoch: 1, Batch: int(step), TotalSteps: 100},
		Config:        []byte(`{"train":{"steps":100}}`),
	}
}

// filled returns a float32 tensor of the given shape holding f(i).
func filled(f func(i int) float32, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = f(i)
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// syntheticWeights returns weights whose every value is v (and a second
// tensor with a ramp), standing in for a model in tests that do not run it.
func syntheticWeights(v float32) map[string]*tensors.Tensor {
	return map[string]*tensors.Tensor{
		"/model/a/weights": filled(func(int) float32 { return v }, 64, 32),
		"/model/a/biases":  filled(func(i int) float32 { return v + float32(i) }, 32),
	}
}

func save(t *testing.T, run string, step int64, wer float64, weights map[string]*tensors.Tensor) *Checkpoint {
	t.Helper()
	m := testManifest(step)
	if wer >= 0 {
		m.Metrics.Eval = &EvalMetrics{Step: step, WER: wer, CER: wer / 3, Loss: 1, Utterances: 2, Words: 10}
	}
	state := map[string]*tensors.Tensor{"/optimizer/m/model/a/weights": filled(func(int) float32 { return 0.5 }, 64, 32)}
	c, err := Save(run, m, weights, state)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func keys[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func TestLoaderReportsMissingAndUnused(t *testing.T) {
	l := NewLoader(map[string]*tensors.Tensor{
		"/model/a/weights": filled(func(int) float32 { return 1 }, 2, 2),
		"/model/extra/x":   filled(func(int) float32 { return 1 }, 2),
	})
	ctx := context.New()
	ctx.SetLoader(l)
	if v, ok := l.LoadVariable(ctx, "/model/a", "weights"); !ok || v.Shape().Size() != 4 {
		t.Fatalf("LoadVariable(/model/a/weights) = %v, %v", v, ok)
	}
	if _, ok := l.LoadVariable(ctx, "/model/b", "weights"); ok {
		t.Fatal("LoadVariable found a value that is not saved")
	}
	if _, ok := l.LoadVariable(ctx, "/optimizer", "step"); ok {
		t.Fatal("LoadVariable found a value that is not saved")
	}
	if got := l.Missing(); !slices.Equal(got, []string{"/model/b/weights"}) {
		t.Errorf("Missing() = %v, want only the model variable", got)
	}
	if got := l.Unused(); !slices.Equal(got, []string{"/model/extra/x"}) {
		t.Errorf("Unused() = %v", got)
	}
	if err := l.DeleteVariable(ctx, "/model/extra", "x"); err != nil || len(l.Unused()) != 0 {
		t.Errorf("DeleteVariable: %v, Unused %v", err, l.Unused())
	}
}

func TestLatestSkipsDamagedCheckpoints(t *testing.T) {
	run := t.TempDir()
	for s := int64(1); s <= 4; s++ {
		save(t, run, s*10, -1, syntheticWeights(float32(s)))
	}
	dir := func(step int64) string { return filepath.Join(run, CheckpointsDir, stepDirName(step)) }

	// step 40: a flipped byte in the weights; step 30: truncated state.
	w := filepath.Join(dir(40), WeightsFile)
	b, _ := os.ReadFile(w)
	b[len(b)-5] ^= 0x40
	if err := os.WriteFile(w, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(dir(30), StateFile)
	if err := os.Truncate(s, 100); err != nil {
		t.Fatal(err)
	}

	c, err := Latest(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Step != 20 {
		t.Errorf("Latest = step %d, want 20 (40 and 30 are damaged)", c.Manifest.Step)
	}
	for _, tc := range []struct {
		step int64
		want string
	}{{40, "checksum"}, {30, "truncated"}} {
		_, err := Open(dir(tc.step))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(step %d) = %v, want ErrCorrupt mentioning %q", tc.step, err, tc.want)
		}
	}

	// A missing manifest or a garbled one: skipped when searching, clear when named.
	if err := os.Remove(filepath.Join(dir(20), ManifestFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir(10), ManifestFile), []byte(`{"format_version": 1, "kind": "checkp`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Latest(run, nil); !errors.Is(err, ErrNoCheckpoint) || !strings.Contains(err.Error(), "all 4") {
		t.Errorf("Latest with every checkpoint damaged = %v", err)
	}
	if _, err := Open(dir(20)); !errors.Is(err, ErrNotModel) {
		t.Errorf("Open without manifest = %v, want ErrNotModel", err)
	}
	if _, err := Open(dir(10)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open with a truncated manifest = %v, want ErrCorrupt", err)
	}
}

func TestEmptyRunDir(t *testing.T) {
	run := t.TempDir()
	if _, err := Latest(run, nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("Latest(empty) = %v", err)
	}
	if _, err := OpenModel(run, nil); !errors.Is(err, ErrNotModel) {
		t.Errorf("OpenModel(empty folder) = %v, want ErrNotModel", err)
	}
	if _, err := OpenModel(filepath.Join(run, "nope"), nil); err == nil {
		t.Error("OpenModel(missing path) succeeded")
	}
	f := filepath.Join(run, "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := OpenModel(f, nil); !errors.Is(err, ErrNotModel) {
		t.Errorf("OpenModel(file) = %v, want ErrNotModel", err)
	}
}

func TestBestAndPrune(t *testing.T) {
	run := t.TempDir()
	wers := map[int64]float64{1: 0.9, 2: 0.4, 3: 0.5, 4: 0.3, 5: -1, 6: 0.6, 7: 0.7, 8: -1}
	for s := int64(1); s <= 8; s++ {
		save(t, run, s, wers[s], syntheticWeights(float32(s)))
	}
	best, err := Best(run, nil)
	if err != nil || best.Manifest.Step != 4 {
		t.Fatalf("Best = %v, %v; want step 4", best, err)
	}
	removed, err := Prune(run, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := List(run)
	var steps []int64
	for _, c := range list {
		steps = append(steps, c.Step)
	}
	if want := []int64{2, 4, 6, 7, 8}; !slices.Equal(steps, want) {
		t.Errorf("after pruning (keep 3 newest, 2 best) steps = %v, want %v (removed %v)", steps, want, removed)
	}
	// Without evaluations, the best is the newest.
	run2 := t.TempDir()
	save(t, run2, 1, -1, syntheticWeights(1))
	save(t, run2, 2, -1, syntheticWeights(2))
	if c, err := Best(run2, nil); err != nil || c.Manifest.Step != 2 {
		t.Errorf("Best without evaluations = %v, %v", c, err)
	}
}

func TestSaveReplacesSameStepAndCleansLeftovers(t *testing.T) {
	run := t.TempDir()
	save(t, run, 5, 0.5, syntheticWeights(1))
	leftover := filepath.Join(run, CheckpointsDir, ".tmp-step-000000006-123")
	os.MkdirAll(leftover, 0o755)
	save(t, run, 5, 0.25, syntheticWeights(2))
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover temporary folder still there: %v", err)
	}
	c, err := Latest(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Metrics.Eval.WER != 0.25 {
		t.Errorf("the second save of step 5 did not replace the first")
	}
	entries, _ := os.ReadDir(filepath.Join(run, CheckpointsDir))
	if len(entries) != 1 {
		t.Errorf("checkpoints folder holds %d entries, want 1", len(entries))
	}
}

func TestExport(t *testing.T) {
	run := t.TempDir()
	save(t, run, 1, 0.5, syntheticWeights(1))
	save(t, run, 2, 0.2, syntheticWeights(2))
	save(t, run, 3, 0.4, syntheticWeights(6))

	out := filepath.Join(t.TempDir(), "model")
	c, err := Export(run, out, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Kind != KindModel || c.Manifest.Step != 2 || c.HasState() || c.Manifest.Training != nil {
		t.Errorf("exported best: %+v", c.Manifest)
	}
	m, err := OpenModel(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifest.Export == nil || !slices.Equal(m.Manifest.Export.Checkpoints, []int64{2}) || m.Manifest.Metrics.Eval == nil {
		t.Errorf("export info %+v, eval %v", m.Manifest.Export, m.Manifest.Metrics.Eval)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, m.Manifest.Config); err != nil || compact.String() != `{"train":{"steps":100}}` {
		t.Errorf("training config not carried over: %s", m.Manifest.Config)
	}

	if _, err := Export(run, out, ExportOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("export over an existing model without overwrite: %v", err)
	}

	// Average of the last 2 (weights 2 and 6 → 4), stored as float16.
	if _, err := Export(run, out, ExportOptions{Average: 2, Float16: true, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	m, err = OpenModel(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Manifest.Export; !e.Averaged || !e.Float16 || !slices.Equal(e.Checkpoints, []int64{2, 3}) || m.Manifest.Metrics.Eval != nil {
		t.Errorf("averaged export info %+v, eval %v", e, m.Manifest.Metrics.Eval)
	}
	ws, err := m.Tensors(false)
	if err != nil {
		t.Fatal(err)
	}
	tensors.MustConstFlatData(ws["/model/a/biases"], func(f []float32) {
		for i, v := range f {
			if want := 4 + float32(i); math.Abs(float64(v-want)) > 0.02 {
				t.Fatalf("averaged bias[%d] = %v, want %v", i, v, want)
			}
		}
	})
	if _, err := Export(run, out, ExportOptions{Average: 4, Overwrite: true}); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("averaging more checkpoints than exist: %v", err)
	}
	notModel := t.TempDir()
	os.WriteFile(filepath.Join(notModel, "precious.txt"), []byte("x"), 0o644)
	if _, err := Export(run, notModel, ExportOptions{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "not a model directory") {
		t.Errorf("export over a folder that is not a model: %v", err)
	}
}

func TestManifestValidate(t *testing.T) {
	ok := testManifest(1)
	ok.Kind = KindCheckpoint
	ok.FormatVersion = FormatVersion
	ok.Files = []FileInfo{{Name: WeightsFile, Size: 10}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	cases := []struct {
		name string
		edit func(m *Manifest)
		want string
	}{
		{"newer format", func(m *Manifest) { m.FormatVersion = FormatVersion + 1 }, "newer"},
		{"kind", func(m *Manifest) { m.Kind = "weights" }, "kind"},
		{"vocabulary size", func(m *Manifest) { m.Model.VocabSize = 30 }, "vocab_size"},
		{"no vocabulary", func(m *Manifest) { m.Vocabulary = nil }, "no vocabulary"},
		{"normalisation bands", func(m *Manifest) {
			m.Normalization.Mean = m.Normalization.Mean[:10]
			m.Normalization.Std = m.Normalization.Std[:10]
		}, "bands"},
		{"input dim", func(m *Manifest) { m.Model.InputDim = 40 }, "input_dim"},
		{"no training state", func(m *Manifest) { m.Training = nil }, "training state"},
		{"precision", func(m *Manifest) { tr := *m.Training; tr.Precision = "float16"; m.Training = &tr }, "training.precision"},
		{"file path", func(m *Manifest) { m.Files = append(m.Files, FileInfo{Name: "../x"}) }, "plain name"},
		{"no weights", func(m *Manifest) { m.Files = nil }, WeightsFile},
		{"bad wer", func(m *Manifest) { m.Metrics.Eval = &EvalMetrics{WER: math.NaN()} }, "out of range"},
	}
	for _, tc := range cases {
		m := *ok
		m.Model.Dropout = new(0.1)
		tc.edit(&m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	// Every problem at once.
	m := *ok
	m.Kind, m.Step = "x", -1
	if err := m.Validate(); err == nil || strings.Count(err.Error(), "\n") < 1 {
		t.Errorf("two problems, one error line: %v", err)
	}
}

func TestListIgnoresOtherFolders(t *testing.T) {
	run := t.TempDir()
	save(t, run, 3, -1, syntheticWeights(1))
	for _, n := range []string{"step-", "step-12x", "notes", ".tmp-step-000000004-1"} {
		os.MkdirAll(filepath.Join(run, CheckpointsDir, n), 0o755)
	}
	list, err := List(run)
	if err != nil || len(list) != 1 || list[0].Step != 3 {
		t.Errorf("List = %v, %v", list, err)
	}
	for _, tc := range []struct {
		in   string
		step int64
		ok   bool
	}{{"step-000000012", 12, true}, {"step-7", 7, true}, {"step--1", 0, false}, {"step-99999999999999999999", 0, false}} {
		s, ok := parseStepDir(tc.in)
		if s != tc.step || ok != tc.ok {
			t.Errorf("parseStepDir(%q) = %d, %v", tc.in, s, ok)
		}
	}
	_ = fmt.Sprint()
}

// TestOpenModelFS opens a checkpoint held in a file system (a folder of an
// in-memory one, and os.DirFS) with the checks of Open, and gives
// the same manifest and tensors.
func TestOpenModelFS(t *testing.T) {
	run := t.TempDir()
	onDisk := save(t, run, 30, 0.25, syntheticWeights(2))
	want, err := onDisk.Tensors(true)
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{}
	for _, name := range []string{ManifestFile, WeightsFile, StateFile} {
		b, err := os.ReadFile(filepath.Join(onDisk.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files["models/m/"+name] = &fstest.MapFile{Data: b}
	}
	for name, open := range map[string]func() (*Checkpoint, error){
		"MapFS":   func() (*Checkpoint, error) { return OpenFS(files, "models/m") },
		"DirFS":   func() (*Checkpoint, error) { return OpenFS(os.DirFS(run), "checkpoints/"+stepDirName(30)) },
		"DirFS .": func() (*Checkpoint, error) { return OpenFS(os.DirFS(onDisk.Dir), ".") },
	} {
		c, err := open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Manifest.Step != 30 || c.Manifest.Metrics.Eval.WER != 0.25 || !c.HasState() {
			t.Errorf("%s: manifest %+v", name, c.Manifest)
		}
		got, err := c.Tensors(true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d tensors, want %d", name, len(got), len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !slices.Equal(tensors.MustCopyFlatData[float32](g), tensors.MustCopyFlatData[float32](w)) {
				t.Errorf("%s: tensor %s differs", name, k)
			}
		}
	}
	if c, _ := OpenFS(files, "models/m"); c.Dir != "models/m" {
		t.Errorf("Dir = %q, want the path inside the file system", c.Dir)
	}

	truncState := maps.Clone(files)
	truncState["models/m/"+StateFile] = &fstest.MapFile{Data: files["models/m/"+StateFile].Data[:100]}
	flipped := bytes.Clone(files["models/m/"+WeightsFile].Data)
	flipped[len(flipped)-3] ^= 0xff
	corrupt := maps.Clone(files)
	corrupt["models/m/"+WeightsFile] = &fstest.MapFile{Data: flipped}
	for _, tc := range []struct {
		name string
		fsys fs.FS
		dir  string
		is   error
		want string
	}{
		{"no manifest", files, "models", ErrNotModel, "has no manifest.json"},
		{"missing folder", files, "nope", ErrNotModel, ""},
		{"truncated state", truncState, "models/m", ErrCorrupt, "truncated"},
		{"checksum", corrupt, "models/m", ErrCorrupt, "checksum"},
		{"invalid path", files, "../m", nil, "not a valid path"},
		{"rooted path", files, "/models/m", nil, "not a valid path"},
	} {
		_, err := OpenFS(tc.fsys, tc.dir)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %v mentioning %q", tc.name, err, tc.is, tc.want)
		}
	}
	if _, err := OpenFS(nil, "."); err == nil {
		t.Error("OpenFS(nil) succeeded")
	}
}

// TestFormat1Directory opens a model directory of format version 1
// (ASRKTF01 tensor files, testdata/models/tiny-cpu) and exports it as
// format 2 (safetensors) with the same weights and provenance.
func TestFormat1Directory(t *testing.T) {
	old, err := Open(testutil.Path(t, "models", "tiny-cpu"))
	if err != nil {
		t.Fatal(err)
	}
	if old.Manifest.FormatVersion != 1 || old.Manifest.Files[0].Name != legacyWeightsFile {
		t.Fatalf("testdata/models/tiny-cpu is no longer a format 1 directory: %+v", old.Manifest.Files)
	}
	want, err := old.Tensors(false)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "model")
	if _, err := Export(old.Dir, out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.FormatVersion != FormatVersion || c.Manifest.Files[0].Name != WeightsFile {
		t.Errorf("exported format %d, files %+v", c.Manifest.FormatVersion, c.Manifest.Files)
	}
	if b, _ := os.ReadFile(filepath.Join(out, WeightsFile)); len(b) < 8 || string(b[:8]) == "ASRKTF01" {
		t.Errorf("%s is not a safetensors file", WeightsFile)
	}
	if x, y := old.Manifest.Export, c.Manifest.Export; !slices.Equal(x.Checkpoints, y.Checkpoints) || x.Averaged != y.Averaged || x.Source != y.Source {
		t.Errorf("export provenance changed: %+v → %+v", x, y)
	}
	got, err := c.Tensors(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for k, w := range want {
		if !slices.Equal(tensors.MustCopyFlatData[float32](got[k]), tensors.MustCopyFlatData[float32](w)) {
			t.Errorf("tensor %s differs after the conversion", k)
		}
	}
}
