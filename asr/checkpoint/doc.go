// Package checkpoint reads and writes asrkit's saved models: the
// checkpoints of a training run, and the model directories that
// `asr export` writes and package asr loads. It also owns the layout of a
// run directory.
//
// # Run directories
//
// Training (package asr/train, `asr train`) writes into a run directory:
//
//	run/
//	  checkpoints/
//	    step-000001000/          one checkpoint per saved step (StepDir)
//	      manifest.json          the Manifest: configs, vocabulary, normalisation, step, metrics, training state
//	      weights.safetensors    the model weights
//	      state.safetensors      optimizer moments and random-number state
//	    step-000002000/
//	  train.jsonl                the training events, one JSON object per line (LogFile)
//	  status.json                the job's latest state (StatusFile)
//	  .lock                      held by the training process (LockFile)
//
// A checkpoint is one saved step. Each is written to a temporary folder,
// synced and renamed into place ([Save]), so a crash at any instant, even
// kill -9, leaves the previous checkpoints intact and never a half-written
// one under a step-* name. [Latest] (what training resumes from) and
// [Best] (lowest validation WER, see [CompareEval]) skip a damaged
// checkpoint with a warning; [Open] on a damaged checkpoint named
// explicitly returns an error wrapping [ErrCorrupt]. [Prune] applies a
// keep policy; [RemoveCheckpoints] deletes a run's checkpoints and nothing
// else.
//
// # Model directories
//
// A model directory is what [Export] (`asr export`) writes from a run
// directory: the best checkpoint's weights, or the mean of the last few,
// optionally in float16, with the manifest but without optimizer state,
// and optionally an n-gram language model to decode with ([Decoding]).
//
// [OpenModel] accepts either kind of directory, or a run directory, in
// which case it uses the run's best checkpoint; [OpenFS] opens one inside
// a file system (an embed.FS, a zip archive). The [Manifest] holds
// everything needed to rebuild the model exactly: the resolved model
// configuration (model.Config), the feature configuration
// (features.Config), the global normalisation, the vocabulary, and the
// full training configuration as JSON. Every tensor file is verified
// (recorded size, checksums) when a directory is opened.
//
// Tensor files are safetensors (https://github.com/huggingface/safetensors):
// Python's safetensors.numpy.load_file, numpy, or any safetensors reader
// opens them; asrkit's CRC-32 of every tensor is in the header's
// __metadata__ ("asrkit.crc32.<name>"). Directories of format version 1
// (asrkit's former ASRKTF01 files, weights.tensors) are still read, and
// exporting one writes the current format.
//
// # Loading weights into GoMLX
//
// [Checkpoint.NewLoader] returns a [Loader], a GoMLX context.Loader: attach
// it to a context before building the model graph and every variable takes
// its saved value.
//
//	ckpt, err := checkpoint.OpenModel("models/ljspeech", nil)
//	loader, err := ckpt.NewLoader(false)
//	ctx := context.New()
//	ctx.SetLoader(loader)
//	exec, err := context.NewExec(backend, ctx.Reuse(), func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
//		return model.LogProbs(ctx, ckpt.Manifest.Model, feats, lengths, false)
//	})
//
// Building on ctx.Reuse() makes a variable missing from the checkpoint an
// error instead of a silent random initialisation. [ModelVariables] splits
// a trained context's variables into the two maps [Save] takes.
//
// Functions that may skip damaged checkpoints take a *slog.Logger for the
// warnings (nil: silent); the package never logs otherwise.
package checkpoint
