// Package server is `asr serve`: the training and recognition service of
// asrkit over HTTP and WebSocket. Its wire types and a Go client are in
// package api; the endpoints and their conventions are listed there.
//
// A [Server] is a handler first ([Server.Handler], tested with httptest)
// and a listener second ([Server.Serve], with a graceful shutdown):
//
//	srv, err := server.New(server.Config{DataRoot: "/app/data", CheckpointRoot: "/app/checkpoints", Token: os.Getenv("ASR_API_TOKEN")})
//	if err != nil { ... }
//	defer srv.Close()
//	ln, err := net.Listen("tcp", ":8000")
//	err = srv.Serve(ctx, ln) // until ctx is done
//
// # Recognition
//
// One model is served at a time (the bundled one unless Config.Model names
// another); POST /v1/models/load switches it without a restart, requests in
// flight finishing on the old one. Transcriptions go through a pool of
// Config.Workers workers with a queue of Config.QueueSize: past it the
// server answers 503 with Retry-After instead of piling up requests.
// Per-request decoding options (beam, lm_weight, word_bonus, no_lm) use a
// variant of the served model that shares its weights and compiled graphs.
// /v1/stream speaks the Vosk server protocol.
//
// # Training jobs
//
// Each job runs as a child process of the same binary, `asr train --config
// <run dir>/config.yaml --no-progress`, so that a crash or an out-of-memory
// kill of the trainer never takes the service down, and the accelerator's
// memory is freed when a job ends. The job's run directory under the
// checkpoint root is its only state:
//
//	<checkpoint root>/<job id>/
//	  config.yaml    the posted config, paths resolved (written by the server)
//	  job.json       created time, stop requests, how the last process died (server)
//	  train.log      the training process's output (server)
//	  train.jsonl    the training events (trainer): /metrics history, the events WebSocket
//	  status.json    the trainer's latest state (trainer)
//	  checkpoints/   the checkpoints (trainer)
//	  model/         the model directory of POST /v1/train/{id}/export
//	<checkpoint root>/.cache/   the feature cache of the jobs' datasets
//
// A stop request sends the process SIGTERM: it finishes its step, saves a
// checkpoint and exits. When the server shuts down it does the same to the
// running job, which then shows as "interrupted" and resumes on request
// (or by itself with Config.ResumeJobs). A process that dies (kill -9, out
// of memory) leaves the job "failed" with the reason, recorded in job.json
// and appended to train.jsonl.
package server
