#!/usr/bin/env bash
# Prints each function's release binary (target/lambda/<function>/bootstrap, from
# `cargo lambda build --release`) with its size: the figures the README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '| function | bootstrap size |\n|---|---|\n'
for dir in functions/*/; do
  name=$(basename "$dir")
  bin="target/lambda/$name/bootstrap"
  [ -f "$bin" ] || { echo "missing $bin: run cargo lambda build --release" >&2; exit 1; }
  bytes=$(stat -c %s "$bin")
  printf '| %s | %s (%s bytes) |\n' "$name" "$(numfmt --to=iec-i --suffix=B --format=%.1f "$bytes")" "$bytes"
done
echo "($(uname -m), $(cargo lambda --version 2>/dev/null || echo cargo-lambda), $(rustc --version))"
