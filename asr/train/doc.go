// Package train trains asrkit's acoustic model: it reads a YAML
// configuration, prepares the data (asr/data), runs a GoMLX training loop
// with its own training-step graph, evaluates on the validation set,
// writes checkpoints into a run directory (package asr/checkpoint) and
// reports everything as one stream of typed events.
//
// # Configuration
//
// [Config] is the whole YAML file: datasets (data.Config), features
// (features.Config), model (model.Config), train ([Settings]), checkpoint
// ([CheckpointConfig]) and log ([LogConfig]). Every zero field means a
// default (docs/config.md lists every key). [LoadConfig] decodes strictly
// (unknown keys, wrong types: file:line:column), resolves relative paths
// against the file's folder and validates; [Config.Validate] reports
// every problem at once. The resolved configuration is stored, as JSON, in
// every checkpoint's manifest.
//
// # The training step
//
// One graph per batch shape (bucket) computes the CTC loss of the batch
// (summed over utterances), its gradients, and the AdamW update:
//
//   - the loss is normalised per label token: the gradient of the summed
//     loss is divided by the batch's number of labels, so a batch of long
//     utterances does not weigh more per character than one of short ones,
//     and the reported loss (nats per character) does not depend on the
//     batch size;
//   - the gradient is clipped to a global L2 norm (train.clip_grad_norm);
//   - AdamW with decoupled weight decay on matrices and kernels only, not
//     on biases or normalisation gains;
//   - the learning rate and Adam's bias corrections are inputs of the
//     graph, computed in Go each step ([Settings.LearningRateAt]): warm-up
//     then cosine, Noam or constant;
//   - a step whose gradient norm is not finite changes nothing (it is
//     counted and reported; 20 in a row stop training);
//   - with train.grad_accumulation = k, k batches add their gradients into
//     accumulators and a separate graph applies the update.
//
// Dropout draws from the context's random-number state, which is saved in
// every checkpoint with the optimizer moments and the data position
// (data.Position), so a run resumed from a checkpoint takes exactly the same
// steps as one that was never interrupted.
//
// # Running
//
// [Run] trains until the last step, until its context is cancelled (it
// finishes the current step, saves a checkpoint and returns with
// Result.Stopped), or until Options.StopAtStep. It resumes from the newest
// usable checkpoint of the run directory unless Options.Fresh. Only one
// process may train into a run directory at a time (a lock file). The run
// directory's layout (checkpoints/, train.jsonl, status.json) is package
// asr/checkpoint's; Options.Fresh with Options.Force deletes only what
// training wrote there. Warnings and notes go to Options.Logger; without
// one the trainer is silent apart from its events.
//
// # Events
//
// Everything the trainer reports is an [Event], delivered synchronously to
// Options.Observer and appended to the run's JSONL log (one event per line):
// state changes, metrics every log.every steps (loss, learning rate,
// gradient norm, audio seconds per second), evaluations (WER, CER, loss,
// sample predictions), checkpoints and graph compilations. [LogEvents]
// turns them into slog lines, [JSONLWriter] into JSON lines; `asr train`
// draws a progress bar from them on a terminal; any other consumer (a
// service relaying them to clients, say) can subscribe the same way. The
// JSON form of each type is documented on
// [Event] and its payload types.
package train
