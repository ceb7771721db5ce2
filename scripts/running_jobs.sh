#!/bin/sh
# Asks the asrkit API whether a training job is running. run.sh runs it on the
# server (step 2) before a redeploy; it needs curl.
#
#   sh scripts/running_jobs.sh [API_URL]     (default http://127.0.0.1:58081)
#
# Exit status: 0 no job is running (or no API answers: nothing to protect),
# 3 a job is running, 1 it could not tell (the reason is printed).
# The API token is $ASR_API_TOKEN, else ASR_API_TOKEN in ./.env.
set -u
url=${1:-http://127.0.0.1:58081}
url=${url%/}

token=${ASR_API_TOKEN:-}
if [ -z "$token" ] && [ -f .env ]; then
  token=$(sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}ASR_API_TOKEN=//p' .env | tail -n 1)
  token=${token%\"} token=${token#\"} token=${token%\'} token=${token#\'}
fi

if ! command -v curl >/dev/null 2>&1; then
  echo "running_jobs: curl is not installed on this server, so the API cannot be asked whether a job is running (install curl, or redeploy with --force)" >&2
  exit 1
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
# The token goes through standard input, not the command line (ps shows that).
if [ -n "$token" ]; then
  code=$(printf 'Authorization: Bearer %s\n' "$token" |
    curl -sS -m 10 -H @- -o "$tmp" -w '%{http_code}' "$url/v1/train" 2>"$tmp.err")
else
  code=$(curl -sS -m 10 -o "$tmp" -w '%{http_code}' "$url/v1/train" 2>"$tmp.err")
fi
rc=$?
err=$(cat "$tmp.err" 2>/dev/null)
rm -f "$tmp.err"
case $rc in
  0) ;;
  7)
    echo "running_jobs: no API answers at $url: no training job to protect"
    exit 0
    ;;
  28)
    echo "running_jobs: the API at $url did not answer within 10 s: cannot tell whether a job is running" >&2
    exit 1
    ;;
  *)
    echo "running_jobs: asking $url/v1/train failed (curl exit status $rc: $err)" >&2
    exit 1
    ;;
esac

case $code in
  200) ;;
  404)
    echo "running_jobs: the API at $url has no training endpoint: no training job to protect"
    exit 0
    ;;
  401 | 403)
    echo "running_jobs: the API refused the token (HTTP $code): set ASR_API_TOKEN in .env to the server's token" >&2
    exit 1
    ;;
  *)
    echo "running_jobs: GET $url/v1/train answered HTTP $code: $(head -c 300 "$tmp")" >&2
    exit 1
    ;;
esac

# The answer lists jobs ({"jobs": [...]}), each with a "state"; these are the
# states of a job whose training process runs (api.JobState.Active).
n=$(grep -Eo '"state"[[:space:]]*:[[:space:]]*"(starting|preparing|training|evaluating|stopping)"' "$tmp" | wc -l | tr -d ' ')
if [ "$n" -gt 0 ]; then
  echo "running_jobs: $n training job(s) running on this server"
  exit 3
fi
echo "running_jobs: no training job is running"
exit 0
