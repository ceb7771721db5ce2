// Package web is asrkit's web interface: plain HTML, CSS and JavaScript
// modules (no build step) embedded in the binary, which talk to the API of
// `asr serve` on their own origin.
//
// # Pages
//
//   - Training: start a job from a form or a YAML editor (checked by the
//     server, errors shown at their line and column); the job list (state,
//     progress, ETA, throughput) with stop, resume and export; live charts
//     of loss, learning rate, gradient norm, throughput and WER/CER over the
//     job's event WebSocket, with smoothing, log or linear scales and
//     several runs overlaid; the latest evaluation's sample predictions
//     with their errors marked; the checkpoints, the best marked.
//   - Data: the data check of a dataset under the server's data root.
//   - Transcribe: an uploaded file or the microphone (PCM16 over the Vosk
//     protocol of /v1/stream), words with times and confidence, the log-mel
//     spectrogram with the words under it, and the model picker.
//
// When the API needs a token, the pages ask for it once and keep it in the
// browser's localStorage; they send it as a Bearer token, and as ?token= to
// WebSockets.
//
// # Serving
//
// [Handler] serves the pages; `asr serve` mounts it at "/" beside the API
// (server.Config.GUI). [NewFrontend] is the same pages as a service of
// their own that proxies /v1/ to an API elsewhere (`asr gui --api URL`, the
// docker compose frontend), with a /healthz that says whether the API
// answers.
package web
