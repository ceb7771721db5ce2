// Package api is the wire protocol of `asr serve` (package server): the
// request and response types of every endpoint, and a small Go client
// ([Client]) that speaks it. The server, its tests, the examples and the
// command-line tool all use these types, so each message has one
// definition.
//
// # Conventions
//
//   - JSON everywhere except audio and subtitles. Durations and times
//     within audio are float seconds; wall-clock timestamps are RFC 3339.
//   - Every error is {"error": "..."} ([Error]) with a meaningful HTTP
//     status: 400 bad input (including undecodable audio, with the
//     decoder's message), 401 missing or wrong token, 404 unknown job or
//     path, 409 a conflicting state (a training job already running, a job
//     not running), 413 a body or an audio duration over the limit, 503 the
//     transcription queue is full (with Retry-After).
//   - When the server has a token (ASR_API_TOKEN), every /v1/ endpoint
//     needs "Authorization: Bearer <token>"; WebSockets may pass
//     ?token=<token> instead, as browsers cannot set headers. /healthz and
//     /metrics are open.
//   - Audio is recognised by its content (WAV, FLAC, MP3), never by its
//     Content-Type or name.
//
// # Endpoints
//
//	GET  /healthz                      Health
//	GET  /metrics                      Prometheus text format
//	POST /v1/transcribe                audio body or multipart "file" -> Transcript (or text, srt, vtt)
//	GET  /v1/models                    -> Models
//	POST /v1/models/load               LoadModelRequest -> ModelInfo
//	POST /v1/train                     training config (YAML or JSON) -> Job (201); ?dry_run=true -> TrainCheck
//	GET  /v1/train                     -> JobList
//	GET  /v1/train/{id}                -> Job
//	POST /v1/train/{id}/stop           -> Job (202)
//	POST /v1/train/{id}/resume         -> Job (202)
//	GET  /v1/train/{id}/metrics        -> MetricsHistory
//	GET  /v1/train/{id}/checkpoints    -> CheckpointList
//	POST /v1/train/{id}/export         ExportRequest -> ModelInfo
//	GET  /v1/train/{id}/events         WebSocket: TrainEvent messages (history, then live)
//	GET  /v1/datasets                  -> DatasetList
//	POST /v1/datasets/check            DatasetCheckRequest -> DataReport
//	GET  /v1/stream                    WebSocket: the Vosk server protocol (StreamConfig, PCM16, StreamMessage)
//
// This package imports neither GoMLX nor the rest of asrkit: a program that
// only talks to a server stays small. [TrainEvent] mirrors the JSON of
// asr/train's Event (a test in package server checks that they agree field
// for field).
package api
