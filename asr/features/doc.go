// Package features turns audio into the log-mel features that asrkit's
// acoustic model reads: decoding, resampling, log-mel extraction, global
// normalisation and SpecAugment.
//
// # Decoding
//
// [Decode] and [DecodeFile] recognise the format by its magic bytes and
// return mono float32 samples in [-1, 1] ([Audio]). WAV (every PCM width,
// float, A-law/µ-law, WAVE_FORMAT_EXTENSIBLE, RF64), FLAC and MP3 are
// decoded; other formats that are recognised (Ogg, MP4/M4A, AIFF, WebM, ...)
// give a [*FormatError] that shows the ffmpeg/sox command converting the
// file. Malformed input gives an error wrapping [ErrMalformed].
package features
