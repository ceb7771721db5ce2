// Package asr is asrkit's public facade: speech recognition with a trained
// character CTC model, and the saved models (checkpoints and model
// directories) it is built on.
//
// # Transcription
//
// Load a model directory (or a run directory, whose best checkpoint is used),
// or the model embedded in the binary, then transcribe:
//
//	rec, err := asr.Load("models/ljspeech", nil) // or asr.LoadDefault(nil)
//	if err != nil { ... }
//	defer rec.Close()
//	res, err := rec.TranscribeFile(ctx, "speech.wav") // or rec.Transcribe(ctx, samples, 44100)
//	fmt.Println(res.Text)
//	for _, w := range res.Words {
//		fmt.Println(w.Text, w.Start, w.End, w.Confidence)
//	}
//
// A [Recognizer] is safe for concurrent use. It resamples any input rate,
// recognises file formats by their content (WAV, FLAC, MP3), and decodes
// greedily or with a beam search and an optional n-gram language model
// ([Options], [DecodingOptions]: a nil *Options means the defaults, and
// [Options.Validate] reports every problem at once). Files and readers are
// decoded and transcribed as they are read, so memory is bounded by the
// window (16 s of audio), never by the length of the audio, even for an
// endless stream. Long audio is cut at pauses, or overlapping where there
// is no pause, so that no word is lost or doubled at a seam. A [Stream]
// ([Recognizer.NewStream]) takes live audio chunk by chunk, with partial
// results and endpoints at pauses; its final words are exactly those that
// [Recognizer.Transcribe] gives for the same audio.
//
// The package never logs through slog's default logger and never prints:
// it logs to [Options.Logger] when one is given. Its errors are [*Error]
// values ("transcribe a.wav: ...", like fs.PathError), with their causes
// (the sentinel errors below, features.ErrMalformed, fs.ErrNotExist, ...)
// reachable with errors.Is.
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
