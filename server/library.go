package server

import (
	"time"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/checkpoint"
)

// The library's run-directory, checkpoint and loading API, in one place:
// the server's other files use only these names, so that a move of the
// checkpoint code to a package of its own, or a new form of the load
// options, changes this file alone.

// Files and folders of a run directory and of a model directory.
const (
	checkpointsDir = checkpoint.CheckpointsDir
	manifestFile   = checkpoint.ManifestFile
	eventsFile     = checkpoint.LogFile // train.jsonl
	statusFile     = checkpoint.StatusFile
	lockFile       = checkpoint.LockFile
)

// errNoCheckpoint is the library's "no usable checkpoint" error.
var errNoCheckpoint = checkpoint.ErrNoCheckpoint

type (
	manifest       = checkpoint.Manifest
	evalResult     = checkpoint.EvalMetrics
	checkpointInfo = checkpoint.Info
)

// isCheckpointKind reports whether a manifest is a run's checkpoint (not
// an exported model directory).
func isCheckpointKind(m *manifest) bool { return m.Kind == checkpoint.KindCheckpoint }

func isRunDir(dir string) bool { return checkpoint.IsRunDir(dir) }

func listCheckpoints(runDir string) ([]checkpointInfo, error) { return checkpoint.List(runDir) }

// bestStepOf is the step of the checkpoint that export and model loading
// use: the library's best checkpoint (its files are verified).
func bestStepOf(runDir string) (int64, error) {
	ck, err := checkpoint.Best(runDir, nil)
	if err != nil {
		return 0, err
	}
	return ck.Manifest.Step, nil
}

func readManifest(dir string) (*manifest, error) { return checkpoint.ReadManifest(dir) }

// exportModel writes a model directory at out from a run directory,
// replacing an earlier export. average is ExportRequest.Average: nil
// follows the run's checkpoint.average_last, 0 or 1 exports the best
// checkpoint, K >= 2 the mean of the K newest.
func exportModel(runDir, out string, average *int, float16 bool) (*manifest, error) {
	k := 0 // the library's default: the run's config
	if average != nil {
		k = max(*average, 1)
	}
	ck, err := checkpoint.Export(runDir, out, checkpoint.ExportOptions{Average: k, Float16: float16, Overwrite: true})
	if err != nil {
		return nil, err
	}
	return ck.Manifest, nil
}

// loadRecognizer loads a model ("" for the bundled one) with q's beam width
// and language-model choice (its weights are applied by withDecoding).
func loadRecognizer(path, backend string, q decodeQuery) (*asr.Recognizer, error) {
	opts := &asr.Options{Backend: backend, Decoding: asr.DecodingOptions{NoLM: q.noLM}}
	if q.beam != nil {
		opts.Decoding.Beam = *q.beam
	}
	if path == "" {
		return asr.LoadDefault(opts)
	}
	return asr.Load(path, opts)
}

// withDecoding returns a variant of r that decodes as q says, sharing r's
// model. lw and wb are r's language-model weight and word bonus: the one
// of them q does not set keeps its value.
func withDecoding(r *asr.Recognizer, q decodeQuery, lw, wb float64) (*asr.Recognizer, error) {
	d := asr.DecodingOptions{NoLM: q.noLM}
	if q.beam != nil {
		d.Beam = *q.beam
	}
	if q.lmWeight != nil || q.wordBonus != nil {
		if q.noLM {
			lw = 0
		}
		d.LMWeight, d.WordBonus = ptrOr(q.lmWeight, lw), ptrOr(q.wordBonus, wb)
	}
	return r.WithDecoding(d)
}

// streamRecognizer returns the variant of r that a live stream uses: it
// looks for pauses every interval of audio, so that words become final
// (and the client gets a result) about a second after each pause.
func streamRecognizer(r *asr.Recognizer, interval time.Duration) (*asr.Recognizer, error) {
	return r.WithEndpointInterval(interval)
}
