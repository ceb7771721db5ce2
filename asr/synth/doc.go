// Package synth renders synthetic speech corpora to train on: text lines
// spoken by the installed speech synthesisers (espeak-ng, with its English
// accents and voice variants; flite's kal, awb, rms and slt; festival's
// voices), with varied speed and pitch, and optionally tempo, room
// reverberation (sox), noise and level, into an LJSpeech-format folder at
// 22,050 Hz that package asr/data reads like LJSpeech itself: a corpus
// anyone can make without downloading one.
//
// [Synthesize] is what `asr data synth` runs; the same options and seed
// give the same files, and an interrupted run resumes. [InstalledVoices]
// lists what an engine offers. See recipes/synthetic/README.md for the
// corpus the bundled model was trained on.
package synth
