// Package data is asrkit's training data path: it reads LJSpeech-format
// folders and NeMo-style JSONL manifests, checks every utterance, splits the
// corpus, caches log-mel features, and makes padded batches for the GoMLX
// trainer. It does not depend on GoMLX: batches are plain Go slices that
// the trainer turns into tensors. (Synthetic corpora to train on are
// rendered by package asr/synth.)
//
// # Sources
//
// An LJSpeech-1.1 folder holds metadata.csv and wavs/<id>.wav. Each row of
// metadata.csv is three fields separated by '|': id, transcription and
// normalised transcription. Quotes are literal characters, not CSV quoting
// (87 of LJSpeech's normalised transcripts start with '"'). A byte-order
// mark and CRLF line endings are accepted. Targets are the normalised
// transcription after [text.Normalize].
//
// A JSONL manifest has one JSON object per line, as NeMo writes them:
// {"audio_filepath": "wavs/a.wav", "text": "...", "duration": 1.5}.
// Relative audio paths are relative to the manifest's folder.
//
// # Checks
//
// [Check] and [Prepare] report, with the id and the metadata line of each:
// malformed rows (too few or too many fields, bad JSON), repeated ids,
// missing or unreadable audio, empty text (also after normalisation),
// characters that text normalisation cannot spell with the vocabulary,
// utterances longer than datasets.max_duration (16.7 s), and utterances too
// short for CTC: fewer frames after the model's subsampling than labels plus
// repeated neighbouring labels (CTC needs a blank between two equal labels).
// With datasets.skip_invalid they are left out, and still counted and
// listed in the [Report]; without it, [Prepare] fails with the report.
// Nothing is dropped silently.
//
// # Split
//
// Unless the manifests give val and test sets, a seeded hash of each id
// puts it in train, val or test ([HashSplit]): the split depends only on the
// id, the seed and the fractions, not on file order or on other
// utterances. Split lists (files of ids; "id|text" lines work, so
// recipes/synthetic/val.txt is a list) override it. The split is written to
// split.tsv in the corpus's cache folder; a later run with the same split
// settings reads it back, so every run agrees.
//
// # Feature cache
//
// [Prepare] computes the features of every valid utterance once, in
// parallel on every core, into <cache_dir>/<corpus>-<hash>/features-<hash>/,
// where the second hash covers the whole feature configuration: changing
// it starts a new cache, never reuses an old one. Each utterance is one
// file: a 64-byte header (frames, bands, the audio file's size and
// modification time, the dither seed), the id, and float16 features,
// covered by a CRC-32C. An entry whose audio file changed (size or
// modification time) or whose checksum fails is recomputed, not used.
// Entries are written to a temporary file and renamed, so an interrupted
// build resumes where it stopped. Training utterances are computed with
// dither at a fixed seed per utterance (so the cache is deterministic);
// validation and test utterances without dither, as at inference. The
// training split's global per-band mean and standard deviation are computed
// from the cached features and saved as normalization.json beside them.
//
// # Batches
//
// A [Loader] pads every batch to one of a few frame counts (buckets,
// datasets.batching.buckets), because every new input shape builds a new
// GoMLX graph. Each bucket's batch size is datasets.batching.max_frames
// divided by its frame count; labels are padded to a per-bucket length.
// Training epochs shuffle within buckets and then the order of batches,
// seeded by datasets.batching.seed and the epoch, so the order of any epoch
// is known in advance: a [Position] (epoch, batch) saved in a checkpoint
// resumes the exact same sequence, SpecAugment masks included. Batches are
// built in the background (datasets.batching.prefetch ahead), normalised
// and, for training, masked with SpecAugment; [IteratorStats] measures how
// long the trainer waited for them.
package data
