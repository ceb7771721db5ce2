// Package asr is asrkit's speech-recognition API: load a trained character
// CTC model and transcribe audio with it.
//
// Load a model directory (or a run directory, whose best checkpoint is used),
// or the model embedded in the binary, then transcribe:
//
//	rec, err := asr.Load("models/ljspeech") // or asr.LoadDefault()
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
// ([WithBeam], [WithLM]). Long audio is transcribed in windows cut at pauses,
// or overlapping where there is no pause, so memory is bounded by the window
// and no word is lost or doubled at a seam. A [Stream] ([Recognizer.NewStream])
// takes live audio chunk by chunk, with partial results and endpoints at
// pauses.
//
// Saved models themselves (run directories, checkpoints, model directories,
// their manifests, export and loading weights into GoMLX) are package
// asr/checkpoint; training is package asr/train.
package asr
