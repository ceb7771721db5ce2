// Package bundled holds the speech model built into asrkit, so that
// `asr transcribe file.wav` and [asr.LoadDefault] work with no download
// and no flags.
//
// The model is an ordinary model directory, as `asr export` writes it
// (manifest.json, weights.safetensors with float16 weights, and lm.arpa.gz, the
// language model it decodes with by default), placed in this package's
// model/ folder and embedded with //go:embed. To change it, export a run
// directory with float16 weights (and --lm) into a new folder and copy that
// folder's files into model/ (beside its README.md), then rebuild. The
// recipe that trained the current model is in recipes/bundled, and the
// README says what it was trained on and how well it does.
//
// A build whose model/ holds only README.md has no bundled model:
// asr.LoadDefault then fails with asr.ErrNoBundledModel.
//
// [asr.LoadDefault]: https://pkg.go.dev/github.com/asrkit/asrkit/asr#LoadDefault
package bundled
