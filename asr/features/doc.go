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
//
// # Resampling
//
// [Resample] and the streaming [Resampler] convert between any two rates with
// a Kaiser-windowed sinc filter (polyphase; exact coefficients for common
// rate pairs): flat within 0.001 dB to 0.9 of the lower Nyquist frequency and
// at least 90 dB down from it (80 dB is the requirement, tested with tones
// and sweeps, and against sox). The output is not delayed: output sample n is
// the signal at n/to seconds.
//
// # Log-mel features
//
// An [Extractor] computes [LogMel] features for a [Config] (whose zero value
// is the default: 16 kHz, 80 Slaney mel bands, 25 ms window, 10 ms hop). The
// steps, in float32 unless noted:
//
//  1. Dither (training only, [Extractor.ComputeDithered]): x += d·N(0,1) from a
//     seeded generator.
//  2. Pre-emphasis over the whole signal: y[0] = x[0], y[i] = x[i] − 0.97·x[i−1].
//  3. Framing, centred: frame t is centred on sample t·hop, and the signal is
//     zero-padded by n_fft/2 on both sides (as librosa ≥ 0.10, torch.stft with
//     center=True and pad_mode="constant", and NeMo). A signal of n > 0
//     samples gives 1 + n/hop frames (integer division; [Extractor.NumFrames]);
//     an empty one gives none. So frame t covers the time t·hop/sample_rate
//     seconds, 100 frames per second at the defaults.
//  4. A symmetric Hann window of win_length samples, centred in n_fft (zeros
//     around it).
//  5. The power spectrum |X[k]|², k = 0..n_fft/2, by a real FFT.
//  6. The mel filterbank (librosa.filters.mel; it equals Whisper's
//     mel_filters.npz), then the natural log of the energy plus log_guard
//     (2^-24): digital silence gives log(2^-24) ≈ −16.64.
//
// [Extractor.NewStream] gives the same frames for audio that arrives in
// pieces, each frame as soon as its window is complete.
//
// Normalisation is separate: [Stats] accumulates per-band means and variances
// over a training set, and its [Normalization] is stored with the model so
// that streaming audio is normalised exactly like the training data.
//
// Extraction allocates only the output in the steady state (the per-frame
// scratch space comes from a pool), and long inputs are split across
// GOMAXPROCS goroutines. The FFT for power-of-two sizes is the package's own
// float32 radix-2 real FFT, the fastest of those measured (BenchmarkFFT);
// other sizes use gonum's.
package features
