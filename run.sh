#!/usr/bin/env bash
# Deploys asrkit from this checkout to a GPU server over SSH and forwards the
# GUI and the API to this machine. See README.md, "Deploy to a GPU server".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: ./run.sh [--dry-run] [--force] [--gui-port N] [--api-port N]

Deploys this checkout to a GPU server with Docker and the NVIDIA Container
Toolkit, in eight steps, each only after the previous one succeeded:

  1. rsync the project to $ASR_REMOTE:$ASR_REMOTE_DIR (not .git/, __pycache__/,
     or the top-level data/, checkpoints/, models/, runs/, bin/ folders; a .env
     on the server is kept)
  2. ask the API on the server whether a training job is running; if one is,
     stop here unless --force (the job resumes from its last checkpoint after
     the restart)
  3. docker compose down            (a training job checkpoints, then stops)
  4. docker build -t asr-app .      (with the server user's uid/gid)
  5. docker compose up -d --wait    (asr-api, then frontend once asr-api is healthy)
  6. scripts/check_nvidia_runtime.sh on the server
  7. docker compose exec asr-api asr devices --require-gpu
  8. forward the GUI and the API to localhost over one SSH ControlMaster
     connection until Ctrl+C, which closes it (ssh -O exit) and exits 0

Options:
  --dry-run       print each command, in order, instead of running it
  --force         redeploy even while a training job is running
  --gui-port N    local port for the GUI (default $ASR_GUI_PORT, else 58080)
  --api-port N    local port for the API (default $ASR_API_PORT, else 58081)
  -h, --help      this help

Environment:
  ASR_REMOTE       SSH destination (default edu-gpu; a Host in ~/.ssh/config)
  ASR_REMOTE_DIR   project folder on the server (default ~/asrkit)
  ASR_GUI_PORT, ASR_API_PORT   local ports, as the options above
  ASR_SSH_CONTROL  path of the SSH control socket (default: in a new
                   temporary folder)
  ASR_VERSION      version compiled into asr (default: git describe)
EOF
}

die() {
  echo "run.sh: $*" >&2
  exit 2
}

remote=${ASR_REMOTE:-edu-gpu}
remote_dir=${ASR_REMOTE_DIR:-"~/asrkit"}
gui_port=${ASR_GUI_PORT:-58080}
api_port=${ASR_API_PORT:-58081}
dry=0 force=0
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1 ;;
    --force) force=1 ;;
    --gui-port) [ $# -ge 2 ] || die "--gui-port needs a port number"; gui_port=$2; shift ;;
    --gui-port=*) gui_port=${1#*=} ;;
    --api-port) [ $# -ge 2 ] || die "--api-port needs a port number"; api_port=$2; shift ;;
    --api-port=*) api_port=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo >&2; die "unknown argument: $1" ;;
  esac
  shift
done
for p in "$gui_port" "$api_port"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then die "not a port number: $p"; fi
done
[ "$gui_port" != "$api_port" ] || die "the GUI and API ports must differ (both $gui_port)"
[ -n "$remote" ] || die "ASR_REMOTE is empty"
case $remote in -*) die "ASR_REMOTE must not start with '-': $remote" ;; esac

# The deployment runs from the project root (docker-compose.yml is there).
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -f docker-compose.yml ] || [ ! -f Dockerfile ]; then
  die "run.sh must sit in the project root, beside docker-compose.yml and Dockerfile"
fi

# The remote folder, for rsync (relative paths are relative to the remote
# home) and as a shell path for ssh (where ~ must stay unquoted).
quote() { # a word for a POSIX shell, quoted only when needed
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}
# shellcheck disable=SC2088 # a literal ~, for the remote shell to expand
case $remote_dir in
  "~" | "~/") rsync_dir="" cd_dir="~" ;;
  "~/"*) rsync_dir=${remote_dir#"~/"} cd_dir="~/$(quote "${remote_dir#"~/"}")" ;;
  /*) rsync_dir=$remote_dir cd_dir=$(quote "$remote_dir") ;;
  *) rsync_dir=$remote_dir cd_dir="~/$(quote "$remote_dir")" ;;
esac
rsync_dir=${rsync_dir%/}
rsync_dest="$remote:${rsync_dir:+$rsync_dir/}"
on_server="cd $cd_dir &&"

version=${ASR_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
[[ $version =~ ^[A-Za-z0-9._+-]+$ ]] || die "ASR_VERSION may only contain letters, digits and ._+-: $version"

tmp=""
ctl=${ASR_SSH_CONTROL:-}
if [ -z "$ctl" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/asrkit-ssh.XXXXXX")
  ctl=$tmp/ctl
fi
[[ $ctl != *" "* ]] || die "the SSH control socket path must not contain spaces: $ctl"
# One SSH connection for every step (one login), kept until the end.
ssh_opts=(-o ControlMaster=auto -o "ControlPath=$ctl" -o ControlPersist=yes -o ServerAliveInterval=30)

step=0 step_name="" forwarding=0 ssh_used=0
steps=8

# shellcheck disable=SC2317 # called from traps
cleanup() {
  # Close the shared SSH connection (and with it the forwarding), if any.
  if [ "$ssh_used" = 1 ]; then
    ssh -o "ControlPath=$ctl" -O exit "$remote" >/dev/null 2>&1 || true
  fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
# shellcheck disable=SC2317 # called from traps
on_signal() {
  trap - INT TERM
  if [ "$forwarding" = 1 ]; then
    echo
    echo "Closing the forwarding; the services keep running on $remote."
    cleanup
    exit 0
  fi
  echo >&2
  echo "run.sh: interrupted during step $step/$steps ($step_name); nothing after it was run." >&2
  cleanup
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

begin() { # begin NUMBER DESCRIPTION
  step=$1 step_name=$2
  if [ "$dry" = 1 ]; then
    echo "# [$step/$steps] $step_name"
  else
    echo "==> [$step/$steps] $step_name"
    ssh_used=1 # every step talks to the server
  fi
}

# show CMD...: the command as a shell line.
show() {
  local out="" a
  for a in "$@"; do out+="${out:+ }$(quote "$a")"; done
  printf '%s\n' "$out"
}

# run HINT CMD...: runs CMD (prints it under --dry-run); on failure, says
# which step failed and how to look into it, and exits with its status.
run() {
  local hint=$1 rc=0
  shift
  if [ "$dry" = 1 ]; then
    show "$@"
    return 0
  fi
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    {
      echo "run.sh: step $step/$steps ($step_name) failed (exit status $rc); nothing after it was run."
      [ -z "$hint" ] || echo "$hint"
    } >&2
    exit "$rc"
  fi
}

remote_sh() { # remote_sh HINT COMMAND-LINE: runs COMMAND-LINE on the server
  local hint=$1
  shift
  run "$hint" ssh "${ssh_opts[@]}" "$remote" "$on_server $*"
}

# 1. Copy the project. Anchored exclusions (/data/ but not asr/data/);
# --delete keeps the copy exact, except for what is excluded or protected.
begin 1 "copy the project to $remote:$remote_dir (rsync)"
run "Check that 'ssh $remote' works (ASR_REMOTE names the server; a Host entry in ~/.ssh/config) and that rsync is installed on both machines." \
  rsync -az --delete --filter='protect /.env' \
  --exclude='__pycache__/' --exclude='/models/' --exclude='/data/' --exclude='/checkpoints/' \
  --exclude='/runs/' --exclude='.git/' --exclude='/.cache/' --exclude='/.gpu/' --exclude='/bin/' \
  -e "ssh ${ssh_opts[*]}" ./ "$rsync_dest"

# 2. Is a training job running? (scripts/running_jobs.sh asks the API.)
begin 2 "look for a running training job"
if [ "$dry" = 1 ]; then
  show ssh "${ssh_opts[@]}" "$remote" "$on_server sh scripts/running_jobs.sh http://127.0.0.1:58081"
else
  rc=0
  # shellcheck disable=SC2029 # the command line is built here on purpose
  ssh "${ssh_opts[@]}" "$remote" "$on_server sh scripts/running_jobs.sh http://127.0.0.1:58081" || rc=$?
  case $rc in
    0) ;;
    3)
      if [ "$force" = 1 ]; then
        echo "--force: redeploying anyway; the job checkpoints when the service stops and resumes from that checkpoint when it starts again."
      else
        {
          echo "run.sh: a training job is running on $remote: not redeploying."
          echo "Wait for it to finish, stop it from the GUI, or rerun with --force: the job then checkpoints"
          echo "when the service stops and resumes from that checkpoint when the service is back."
        } >&2
        exit 1
      fi
      ;;
    *)
      if [ "$force" = 1 ]; then
        echo "--force: could not tell whether a training job is running (see above); redeploying anyway."
      else
        echo "run.sh: step 2/$steps: could not tell whether a training job is running (exit status $rc, see above); rerun with --force to redeploy anyway." >&2
        exit 1
      fi
      ;;
  esac
fi

begin 3 "stop the running services (docker compose down)"
remote_sh "Is Docker with the compose plugin installed on $remote, and may this user run it (group docker)? Try: ssh $remote docker compose version" \
  docker compose down

begin 4 "build the image (docker build -t asr-app .)"
# The image's user gets the server user's uid/gid, so ./checkpoints (created
# by step 5 as that user) is writable by the service (a root login gets 1000).
# shellcheck disable=SC2016 # $(id -u) runs on the server
remote_sh "The build output above says what failed. It needs internet access on $remote (Go modules, pip)." \
  docker build --build-arg "VERSION=$version" --build-arg 'ASR_UID=$(id -u)' --build-arg 'ASR_GID=$(id -g)' -t asr-app .

begin 5 "start the services (docker compose up -d --wait)"
remote_sh "See why with: ssh $remote 'cd $remote_dir && docker compose ps -a && docker compose logs --tail 50'" \
  mkdir -p data checkpoints '&&' docker compose up -d --wait

begin 6 "check the NVIDIA driver and container runtime (scripts/check_nvidia_runtime.sh)"
remote_sh "Fix what the check above reports, then run ./run.sh again." \
  bash scripts/check_nvidia_runtime.sh

begin 7 "check that asr-api sees the GPU (asr devices --require-gpu)"
remote_sh "The service runs but has no GPU backend; see the message above and: ssh $remote 'cd $remote_dir && docker compose logs asr-api'" \
  docker compose exec -T asr-api asr devices --require-gpu

begin 8 "forward the GUI and the API to this machine"
run "Is port $gui_port or $api_port already in use here? Choose others with --gui-port / --api-port." \
  ssh -o "ControlPath=$ctl" -O forward -L "$gui_port:127.0.0.1:58080" -L "$api_port:127.0.0.1:58081" "$remote"
if [ "$dry" = 1 ]; then
  echo "# until Ctrl+C, then:"
  show ssh -o "ControlPath=$ctl" -O exit "$remote"
  exit 0
fi
forwarding=1
cat <<EOF

asrkit is running on $remote:
  GUI  http://localhost:$gui_port
  API  http://localhost:$api_port   (e.g. curl http://localhost:$api_port/healthz)
Press Ctrl+C to close the forwarding; the services keep running on the server.
EOF
while ssh -o "ControlPath=$ctl" -O check "$remote" >/dev/null 2>&1; do
  sleep 5
done
forwarding=0
echo "run.sh: the SSH connection to $remote closed; run ./run.sh again to reconnect (or ssh -N -L $gui_port:127.0.0.1:58080 -L $api_port:127.0.0.1:58081 $remote)." >&2
exit 1
