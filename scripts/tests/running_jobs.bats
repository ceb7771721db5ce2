#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # each test sets the stand-ins' settings for its own run
# scripts/running_jobs.sh (run.sh's step 2, on the server) with a curl stand-in.

load helpers

setup() {
  setup_stubs
  unset ASR_API_TOKEN
  cd "$BATS_TEST_TMPDIR" || exit
}

@test "no job running: exit 0" {
  export STUB_CURL_BODY='{"jobs":[{"id":"a","state":"finished"},{"id":"b","state":"interrupted"},{"id":"c","state":"stopped"},{"id":"d","state":"failed"}]}'
  run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 0 ]
  [ "$output" = "running_jobs: no training job is running" ]
  grep -qxF 'curl http://127.0.0.1:58081/v1/train' "$STUB_LOG" # no token, no header
}

@test "a running job (any state with a training process): exit 3, with the count" {
  export STUB_CURL_BODY=$'{"jobs": [\n  {"id": "a", "state": "training"},\n  {"id": "b", "state" : "evaluating"},\n  {"id": "c", "state": "finished"}\n]}'
  run sh "$REPO/scripts/running_jobs.sh" http://127.0.0.1:9000/
  [ "$status" -eq 3 ]
  [ "$output" = "running_jobs: 2 training job(s) running on this server" ]
  for s in starting preparing training evaluating stopping; do
    STUB_CURL_BODY="{\"jobs\":[{\"id\":\"x\",\"state\":\"$s\"}]}" run sh "$REPO/scripts/running_jobs.sh"
    [ "$status" -eq 3 ] || { echo "state $s: $output"; false; }
  done
  grep -qxF 'curl http://127.0.0.1:9000/v1/train' "$STUB_LOG"
}

@test "the token comes from ASR_API_TOKEN, else from .env, through standard input" {
  printf '# settings\nexport ASR_API_TOKEN="s3cret"\nOTHER=1\n' >.env
  run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 0 ]
  grep -qxF 'curl http://127.0.0.1:58081/v1/train [Authorization: Bearer s3cret]' "$STUB_LOG"
  : >"$STUB_LOG"
  ASR_API_TOKEN=fromenv run sh "$REPO/scripts/running_jobs.sh"
  grep -qxF 'curl http://127.0.0.1:58081/v1/train [Authorization: Bearer fromenv]' "$STUB_LOG"
}

@test "no API listening, or no training endpoint: nothing to protect" {
  STUB_CURL_RC=7 run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"no API answers at http://127.0.0.1:58081"* ]]
  STUB_CURL_CODE=404 run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"no training endpoint"* ]]
}

@test "a timeout, a refused token or a server error: cannot tell (exit 1)" {
  STUB_CURL_RC=28 run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"did not answer within 10 s"* ]]
  STUB_CURL_CODE=401 run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"refused the token (HTTP 401): set ASR_API_TOKEN in .env"* ]]
  STUB_CURL_CODE=500 STUB_CURL_BODY='{"error":"boom"}' run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 1 ]
  [[ $output == *'answered HTTP 500: {"error":"boom"}'* ]]
}

@test "without curl it says so" {
  remove_tool curl
  PATH=$BIN run sh "$REPO/scripts/running_jobs.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"curl is not installed on this server"* ]]
}
