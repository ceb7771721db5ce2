# shellcheck shell=bash
# shellcheck disable=SC2034 # REPO, BIN, BG_STATUS are used by the tests
# Shared set-up for the bats tests of the deployment scripts: a PATH with the
# stand-ins in stubs/ (ssh, rsync, docker, curl, nvidia-smi, nvidia-ctk) and
# only the real tools the scripts use, a log of every stubbed command
# ($STUB_LOG), and a fake server home ($STUB_REMOTE_HOME).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_stubs() {
  export STUB_LOG=$BATS_TEST_TMPDIR/commands.log
  export STUB_REMOTE_HOME=$BATS_TEST_TMPDIR/server
  STUB_REAL_RSYNC=$(command -v rsync)
  export STUB_REAL_RSYNC
  : >"$STUB_LOG"
  mkdir -p "$STUB_REMOTE_HOME"
  BIN=$BATS_TEST_TMPDIR/bin
  mkdir -p "$BIN"
  local t p
  for t in bash sh env dirname basename mktemp rm mkdir cat sleep sed grep awk sort head tail wc tr cut \
    id timeout ls cp mv touch chmod find ldd seq diff; do
    if p=$(command -v "$t"); then ln -sf "$p" "$BIN/$t"; fi
  done
  for t in "$BATS_TEST_DIRNAME"/stubs/*; do ln -sf "$t" "$BIN/$(basename "$t")"; done
  export PATH=$BIN:$PATH
}

# remove_tool NAME: takes NAME out of $BIN (run a script with PATH=$BIN to
# have it "not installed").
remove_tool() { rm -f "$BIN/$1"; }

# wait_for FILE TEXT: waits up to 60 s for TEXT to appear in FILE.
wait_for() {
  for _ in $(seq 1 600); do
    if grep -qF -- "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

# start_bg OUTFILE CMD...: starts CMD in its own process group with SIGINT
# and SIGQUIT at their defaults (as a foreground job started from a terminal;
# a shell without job control starts background jobs with them ignored, and
# bats itself may have been started so), output to OUTFILE; sets BG_PID (also
# its process group id).
start_bg() {
  local out=$1
  shift
  set -m
  env --default-signal=INT,QUIT "$@" >"$out" 2>&1 &
  BG_PID=$!
  set +m
}

# ctrl_c: sends SIGINT to the whole process group, as Ctrl+C in a terminal
# does; waits up to 20 s for it to exit (then kills it and fails) and sets
# BG_STATUS.
ctrl_c() {
  local st
  kill -INT -- "-$BG_PID"
  for _ in $(seq 1 200); do
    st=$(ps -o stat= -p "$BG_PID" 2>/dev/null || true)
    if [ -z "$st" ] || [[ $st == Z* ]]; then break; fi
    sleep 0.1
  done
  if [ -n "$st" ] && [[ $st != Z* ]]; then
    kill -KILL -- "-$BG_PID" 2>/dev/null || true
    wait "$BG_PID" 2>/dev/null || true
    echo "ctrl_c: $BG_PID was still running 20 s after SIGINT; killed" >&2
    return 1
  fi
  BG_STATUS=0
  wait "$BG_PID" || BG_STATUS=$?
}

# commands: the logged ssh, rsync and docker commands, in order.
commands() { grep -E '^(ssh|rsync|docker) ' "$STUB_LOG" || true; }
