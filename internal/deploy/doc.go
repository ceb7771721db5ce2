// Package deploy holds the tests of asrkit's deployment files at the
// repository root: docker-compose.yml (loaded with compose-go, as Docker
// Compose loads it), Dockerfile and .dockerignore, and their agreement with
// each other and with the default training config the image ships
// (examples/configs/ljspeech-gpu.yaml). It has no code of its own; the
// deployment itself is run.sh (README, "Deploy to a GPU server").
package deploy
