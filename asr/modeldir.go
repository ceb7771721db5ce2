package asr

import "github.com/asrkit/asrkit/asr/checkpoint"

// Errors of [Load] and [LoadDefault] about the model directory. They are
// package asr/checkpoint's errors, wrapped: test with errors.Is.
var (
	// ErrNotModel: the path is neither a model directory, nor a checkpoint,
	// nor a run directory.
	ErrNotModel = checkpoint.ErrNotModel
	// ErrNoCheckpoint: a run directory holds no usable checkpoint.
	ErrNoCheckpoint = checkpoint.ErrNoCheckpoint
	// ErrCorruptCheckpoint: a model directory or checkpoint is damaged
	// (unreadable manifest, missing, truncated or corrupted file), or its
	// weights do not fit the model its manifest describes.
	ErrCorruptCheckpoint = checkpoint.ErrCorrupt
)
