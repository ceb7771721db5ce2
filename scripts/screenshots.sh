#!/usr/bin/env bash
# Takes the README's screenshots of the web interface again: runs the browser
# test (TestGUI, Chromium through every page) with -screenshots, which also
# writes asr plot's curves.png of its two training runs, then shrinks the
# PNGs with pngquant (Debian package pngquant) when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_NO_AUTO_INSTALL=1 ASRKIT_REQUIRE_BROWSER=1
out="$PWD/docs/screenshots"
mkdir -p "$out"
go test -count=1 -run '^TestGUI$' ./cmd/asr -args -screenshots "$out"
if command -v pngquant >/dev/null 2>&1; then
  for f in "$out"/*.png; do
    pngquant --quality 70-95 --speed 1 --force --output "$f" "$f" || echo "pngquant kept $f as it was" >&2
  done
else
  echo "pngquant is not installed: the screenshots are not shrunk" >&2
fi
ls -l "$out"
