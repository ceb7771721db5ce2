// Package asr is asrkit's speech-recognition API: load a trained character
// CTC model and transcribe audio with it.
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
// Saved models themselves (run directories, checkpoints, model directories,
// their manifests, export and loading weights into GoMLX) are package
// asr/checkpoint; training is package asr/train.
package asr
