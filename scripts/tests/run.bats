#!/usr/bin/env bats
# run.sh with stand-ins for ssh, rsync and docker (stubs/): the exact command
# sequence, the anchored rsync exclusions, the running-job guard, stopping at
# the first failure, and cleanup on SIGINT. The ssh stand-in runs each remote
# command with sh in a fake server home, so the remote command lines, the
# copied project, scripts/running_jobs.sh and scripts/check_nvidia_runtime.sh
# really run (against stand-ins for curl, nvidia-smi, nvidia-ctk and docker).

# Each test exports the stand-ins' settings for its own run:
# shellcheck disable=SC2030,SC2031

load helpers

CTL=/tmp/asrkit-test-ctl
SSHO="-o ControlMaster=auto -o ControlPath=$CTL -o ControlPersist=yes -o ServerAliveInterval=30"
EXCLUDES="--exclude=__pycache__/ --exclude=/models/ --exclude=/data/ --exclude=/checkpoints/ --exclude=/runs/ --exclude=.git/ --exclude=/.cache/ --exclude=/.gpu/ --exclude=/bin/"

setup() {
  setup_stubs
  export ASR_SSH_CONTROL=$CTL ASR_VERSION=v1.2.3
  unset ASR_REMOTE ASR_REMOTE_DIR ASR_GUI_PORT ASR_API_PORT
  # A project checkout with everything rsync must and must not copy.
  P=$BATS_TEST_TMPDIR/project
  mkdir -p "$P/scripts" "$P/asr/data" "$P/cmd/asr" "$P/data/LJSpeech-1.1" "$P/models/m" "$P/checkpoints/run" \
    "$P/runs/r" "$P/.git" "$P/__pycache__" "$P/tools/__pycache__" "$P/.cache/gpu" "$P/docs/data"
  cp "$REPO/run.sh" "$REPO/Dockerfile" "$REPO/docker-compose.yml" "$P/"
  cp "$REPO/scripts/running_jobs.sh" "$REPO/scripts/check_nvidia_runtime.sh" "$P/scripts/"
  for f in asr/data/items.go cmd/asr/main.go data/LJSpeech-1.1/metadata.csv models/m/manifest.json \
    checkpoints/run/status.json runs/r/train.jsonl .git/HEAD __pycache__/a.pyc tools/__pycache__/b.pyc \
    tools/tool.py .cache/gpu/asr docs/data/notes.md; do
    echo "$f" >"$P/$f"
  done
  echo "ASR_API_TOKEN=from-laptop" >"$P/.env"
  # The server already has an older copy: a .env, a stale file, a run.
  mkdir -p "$STUB_REMOTE_HOME/asrkit/checkpoints/old-run"
  echo "ASR_API_TOKEN=server-token" >"$STUB_REMOTE_HOME/asrkit/.env"
  echo stale >"$STUB_REMOTE_HOME/asrkit/stale.go"
  echo keep >"$STUB_REMOTE_HOME/asrkit/checkpoints/old-run/status.json"
}

# The commands of a whole deployment to edu-gpu:~/asrkit, in order, when the
# SSH connection drops (STUB_SSH_CHECK_RC=255) right after the forwarding.
expected_commands() {
  cat <<EOT
rsync -az --delete --filter=protect /.env $EXCLUDES -e ssh $SSHO ./ edu-gpu:asrkit/
ssh $SSHO edu-gpu cd ~/asrkit && sh scripts/running_jobs.sh http://127.0.0.1:58081
ssh $SSHO edu-gpu cd ~/asrkit && docker compose down
docker compose down
ssh $SSHO edu-gpu cd ~/asrkit && docker build --build-arg VERSION=v1.2.3 --build-arg ASR_UID=\$(id -u) --build-arg ASR_GID=\$(id -g) -t asr-app .
docker build --build-arg VERSION=v1.2.3 --build-arg ASR_UID=$(id -u) --build-arg ASR_GID=$(id -g) -t asr-app .
ssh $SSHO edu-gpu cd ~/asrkit && mkdir -p data checkpoints && docker compose up -d --wait
docker compose up -d --wait
ssh $SSHO edu-gpu cd ~/asrkit && bash scripts/check_nvidia_runtime.sh
docker info --format {{json .Runtimes}}
docker compose version
docker run --rm --gpus all nvidia/cuda:13.0.0-base-ubuntu24.04 nvidia-smi -L
ssh $SSHO edu-gpu cd ~/asrkit && docker compose exec -T asr-api asr devices --require-gpu
docker compose exec -T asr-api asr devices --require-gpu
ssh -o ControlPath=$CTL -O forward -L 58080:127.0.0.1:58080 -L 58081:127.0.0.1:58081 edu-gpu
ssh -o ControlPath=$CTL -O check edu-gpu
ssh -o ControlPath=$CTL -O exit edu-gpu
EOT
}

@test "--help describes the steps and the options" {
  run "$P/run.sh" --help
  [ "$status" -eq 0 ]
  [[ $output == *"usage: ./run.sh [--dry-run] [--force]"* ]]
  [[ $output == *"8. forward the GUI and the API"* ]]
  [ ! -s "$STUB_LOG" ]
}

@test "an unknown option or a bad port is an error, and nothing runs" {
  run "$P/run.sh" --bogus
  [ "$status" -eq 2 ]
  [[ $output == *"unknown argument: --bogus"* ]]
  run "$P/run.sh" --gui-port 99999
  [ "$status" -eq 2 ]
  [[ $output == *"not a port number: 99999"* ]]
  run "$P/run.sh" --gui-port 7000 --api-port 7000
  [ "$status" -eq 2 ]
  [ ! -s "$STUB_LOG" ]
}

@test "--dry-run prints the eight steps' commands in order and runs nothing" {
  run "$P/run.sh" --dry-run
  [ "$status" -eq 0 ]
  local want
  want=$(cat <<EOT
# [1/8] copy the project to edu-gpu:~/asrkit (rsync)
rsync -az --delete '--filter=protect /.env' $EXCLUDES -e 'ssh $SSHO' ./ edu-gpu:asrkit/
# [2/8] look for a running training job
ssh $SSHO edu-gpu 'cd ~/asrkit && sh scripts/running_jobs.sh http://127.0.0.1:58081'
# [3/8] stop the running services (docker compose down)
ssh $SSHO edu-gpu 'cd ~/asrkit && docker compose down'
# [4/8] build the image (docker build -t asr-app .)
ssh $SSHO edu-gpu 'cd ~/asrkit && docker build --build-arg VERSION=v1.2.3 --build-arg ASR_UID=\$(id -u) --build-arg ASR_GID=\$(id -g) -t asr-app .'
# [5/8] start the services (docker compose up -d --wait)
ssh $SSHO edu-gpu 'cd ~/asrkit && mkdir -p data checkpoints && docker compose up -d --wait'
# [6/8] check the NVIDIA driver and container runtime (scripts/check_nvidia_runtime.sh)
ssh $SSHO edu-gpu 'cd ~/asrkit && bash scripts/check_nvidia_runtime.sh'
# [7/8] check that asr-api sees the GPU (asr devices --require-gpu)
ssh $SSHO edu-gpu 'cd ~/asrkit && docker compose exec -T asr-api asr devices --require-gpu'
# [8/8] forward the GUI and the API to this machine
ssh -o ControlPath=$CTL -O forward -L 58080:127.0.0.1:58080 -L 58081:127.0.0.1:58081 edu-gpu
# until Ctrl+C, then:
ssh -o ControlPath=$CTL -O exit edu-gpu
EOT
  )
  diff <(echo "$want") <(echo "$output")
  [ ! -s "$STUB_LOG" ]
}

@test "--dry-run with another server, folder and local ports" {
  ASR_REMOTE=gpu2 ASR_REMOTE_DIR=/srv/asr\ kit run "$P/run.sh" --dry-run --gui-port 18080 --api-port=18081
  [ "$status" -eq 0 ]
  [[ $output == *" ./ 'gpu2:/srv/asr kit/'"* ]]
  [[ $output == *"gpu2 'cd '\\''/srv/asr kit'\\'' && docker compose down'"* ]]
  [[ $output == *"-L 18080:127.0.0.1:58080 -L 18081:127.0.0.1:58081 gpu2"* ]]
  ASR_REMOTE_DIR=deploy/asrkit run "$P/run.sh" --dry-run
  [[ $output == *" ./ edu-gpu:deploy/asrkit/"* ]]
  [[ $output == *"edu-gpu 'cd ~/deploy/asrkit && docker compose down'"* ]]
}

@test "a deployment runs every step in order, copies the right files, and stops when SSH drops" {
  export STUB_SSH_CHECK_RC=255 # the connection closes right after the forwarding starts
  run "$P/run.sh"
  echo "$output"
  [ "$status" -eq 1 ]
  diff <(expected_commands) <(commands)
  [[ $output == *"GUI  http://localhost:58080"* ]]
  [[ $output == *"API  http://localhost:58081"* ]]
  [[ $output == *"the SSH connection to edu-gpu closed"* ]]
  # The laptop's .env (the deployment's settings) was copied, and the job
  # check used its token.
  grep -qxF 'curl http://127.0.0.1:58081/v1/train [Authorization: Bearer from-laptop]' "$STUB_LOG"
  # The connection is closed at the end.
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]

  # Anchored exclusions: top-level data/, models/, ... stay home; asr/data/ is source.
  local r=$STUB_REMOTE_HOME/asrkit
  for f in asr/data/items.go cmd/asr/main.go docs/data/notes.md tools/tool.py run.sh docker-compose.yml; do
    [ -f "$r/$f" ] || { echo "missing on the server: $f"; false; }
  done
  for f in data/LJSpeech-1.1 models runs .git __pycache__ tools/__pycache__ .cache stale.go; do
    [ ! -e "$r/$f" ] || { echo "should not be on the server: $f"; false; }
  done
  [ "$(cat "$r/.env")" = "ASR_API_TOKEN=from-laptop" ]
  [ "$(cat "$r/checkpoints/old-run/status.json")" = keep ]
  [ ! -e "$r/checkpoints/run" ]
  [ -d "$r/data" ] && [ -d "$r/checkpoints" ] # made by step 5, as the user, for the volumes
}

@test "a running training job stops the deployment before anything is stopped" {
  export STUB_CURL_BODY='{"jobs":[{"id":"ljspeech-small","state":"training","step":1200},{"id":"tiny","state":"finished"}]}'
  run "$P/run.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"a training job is running on edu-gpu: not redeploying"* ]]
  [[ $output == *"--force"* ]]
  [ "$(commands | grep -c '^docker')" -eq 0 ]
  [ "$(commands | tail -n 2 | head -n 1)" = "ssh $SSHO edu-gpu cd ~/asrkit && sh scripts/running_jobs.sh http://127.0.0.1:58081" ]
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]
}

@test "--force redeploys while a job is running; a .env only on the server is kept" {
  export STUB_CURL_BODY='{"jobs":[{"id":"ljspeech-small","state": "preparing"}]}' STUB_SSH_CHECK_RC=255
  rm "$P/.env"
  run "$P/run.sh" --force
  [ "$(cat "$STUB_REMOTE_HOME/asrkit/.env")" = "ASR_API_TOKEN=server-token" ]
  grep -qxF 'curl http://127.0.0.1:58081/v1/train [Authorization: Bearer server-token]' "$STUB_LOG"
  [ "$status" -eq 1 ] # the stubbed connection drops at the end
  [[ $output == *"1 training job(s) running"* ]]
  [[ $output == *"--force: redeploying anyway"* ]]
  diff <(expected_commands) <(commands)
}

@test "no API answering (first deployment) is no running job" {
  export STUB_CURL_RC=7 STUB_SSH_CHECK_RC=255
  run "$P/run.sh"
  [[ $output == *"no API answers at http://127.0.0.1:58081"* ]]
  diff <(expected_commands) <(commands)
}

@test "an API that refuses the token stops the deployment unless --force" {
  export STUB_CURL_CODE=401 STUB_CURL_BODY='{"error":"unauthorized"}'
  run "$P/run.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"refused the token (HTTP 401)"* ]]
  [[ $output == *"could not tell whether a training job is running"* ]]
  [ "$(commands | grep -c '^docker')" -eq 0 ]
}

@test "a failing step stops the deployment there" {
  export STUB_DOCKER_FAIL=build
  run "$P/run.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"step 4/8 (build the image (docker build -t asr-app .)) failed (exit status 1); nothing after it was run."* ]]
  diff <(expected_commands | sed -n '1,6p'; echo "ssh -o ControlPath=$CTL -O exit edu-gpu") <(commands)
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]
}

@test "a failing rsync stops before anything runs on the server" {
  export STUB_RSYNC_RC=12
  run "$P/run.sh"
  [ "$status" -eq 12 ]
  [[ $output == *"step 1/8 (copy the project to edu-gpu:~/asrkit (rsync)) failed (exit status 12)"* ]]
  [[ $output == *"Check that 'ssh edu-gpu' works"* ]]
  [ "$(commands | wc -l)" -eq 2 ] # rsync, then closing the SSH connection
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]
}

@test "a GPU the container cannot see stops at step 6 or 7" {
  export STUB_DOCKER_NO_NVIDIA=1
  run "$P/run.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL  docker has no nvidia runtime"* ]]
  [[ $output == *"fix: sudo nvidia-ctk runtime configure --runtime=docker"* ]]
  [[ $output == *"step 6/8"* ]]
  run_step7() { STUB_DOCKER_NO_NVIDIA="" STUB_DOCKER_FAIL="compose exec" "$P/run.sh"; }
  : >"$STUB_LOG"
  run run_step7
  [ "$status" -eq 1 ]
  [[ $output == *"step 7/8 (check that asr-api sees the GPU (asr devices --require-gpu)) failed"* ]]
}

@test "Ctrl+C during a step stops there and closes the SSH connection" {
  export STUB_DOCKER_SLEEP=build
  start_bg "$BATS_TEST_TMPDIR/out" "$P/run.sh"
  wait_for "$STUB_LOG" "docker build"
  ctrl_c
  cat "$BATS_TEST_TMPDIR/out"
  [ "$BG_STATUS" -eq 130 ]
  grep -q "interrupted during step 4/8" "$BATS_TEST_TMPDIR/out"
  [ "$(grep -c "compose up" "$STUB_LOG")" -eq 0 ]
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]
}

@test "Ctrl+C while forwarding closes it with ssh -O exit and exits 0" {
  start_bg "$BATS_TEST_TMPDIR/out" "$P/run.sh" --gui-port 18080
  wait_for "$BATS_TEST_TMPDIR/out" "Press Ctrl+C"
  grep -q "GUI  http://localhost:18080" "$BATS_TEST_TMPDIR/out"
  ctrl_c
  cat "$BATS_TEST_TMPDIR/out"
  [ "$BG_STATUS" -eq 0 ]
  grep -q "Closing the forwarding" "$BATS_TEST_TMPDIR/out"
  grep -qxF -- "ssh -o ControlPath=$CTL -O forward -L 18080:127.0.0.1:58080 -L 58081:127.0.0.1:58081 edu-gpu" "$STUB_LOG"
  [ "$(tail -n 1 "$STUB_LOG")" = "ssh -o ControlPath=$CTL -O exit edu-gpu" ]
}
