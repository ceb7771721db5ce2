// Package bundled holds the speech model built into asrkit, so that
// `asr transcribe file.wav` and [asr.LoadDefault] work with no download
// and no flags.
//
// The model is an ordinary model directory, as `asr export` writes it
// (manifest.json and weights.tensors, float16 weights), placed in this
// package's model/ folder and embedded with //go:embed. To change it,
// export a run directory with float16 weights into a new folder and copy
// that folder's manifest.json and weights.tensors into model/ (beside its
// README.md), then rebuild. The recipe that trained the current model is in recipes/
// and the README says what it was trained on and how well it does.
//
// [FS] is empty of a model (it holds only model/README.md) until one has
// been exported there; asr.LoadDefault then fails with asr.ErrNoBundledModel.
//
// [asr.LoadDefault]: https://pkg.go.dev/github.com/asrkit/asrkit/asr#LoadDefault
package bundled
