// Package asr is asrkit's public facade: saved models (checkpoints and
// model directories) and, built on them, speech recognition.
//
// # Run directories, checkpoints and model directories
//
// Training (package asr/train, `asr train`) writes into a run directory:
//
//	run/
//	  checkpoints/
//	    step-000001000/      one checkpoint per saved step
//	      manifest.json      the Manifest: configs, vocabulary, normalisation, step, metrics, training state
//	      weights.tensors    the model weights
//	      state.tensors      optimizer moments and random-number state
//	    step-000002000/
//	  train.jsonl            the training events, one JSON object per line
//	  status.json            the job's latest state
//
// A checkpoint is one saved step. Each is written to a temporary folder,
// synced and renamed into place ([SaveCheckpoint]), so a crash at any
// instant, even kill -9, leaves the previous checkpoints intact and never a
// half-written one under a step-* name. [LatestCheckpoint] (what training
// resumes from) and [BestCheckpoint] (lowest validation WER) skip a damaged
// checkpoint with a warning; [OpenCheckpoint] on a damaged checkpoint named
// explicitly returns an error wrapping [ErrCorruptCheckpoint].
//
// A model directory is what [Export] (`asr export`) writes from a run
// directory: the best checkpoint's weights, or the mean of the last few,
// optionally in float16, with the manifest but without optimizer state.
//
// [OpenModel] accepts either kind of directory, or a run directory, in
// which case it uses the run's best checkpoint. The [Manifest] holds
// everything needed to rebuild the model exactly: the resolved model
// configuration (model.Config), the feature configuration
// (features.Config), the global normalisation, the vocabulary, and the
// full training configuration as JSON.
//
// # Loading weights into GoMLX
//
// [Checkpoint.NewLoader] returns a [Loader], a GoMLX context.Loader: attach
// it to a context before building the model graph and every variable takes
// its saved value.
//
//	ckpt, err := asr.OpenModel("models/ljspeech")
//	loader, err := ckpt.NewLoader(false)
//	ctx := context.New()
//	ctx.SetLoader(loader)
//	exec, err := context.NewExec(backend, ctx.Reuse(), func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
//		return model.LogProbs(ctx, ckpt.Manifest.Model, feats, lengths, false)
//	})
//
// Building on ctx.Reuse() makes a variable missing from the checkpoint an
// error instead of a silent random initialisation.
package asr
