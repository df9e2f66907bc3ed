#!/usr/bin/env bash
# Where each function binary's bytes go, by crate: `cargo bloat --crates` over a release build
# of the function (the workspace's release profile, symbols kept so they can be attributed).
# Prints one table per function and writes them to target/size-report.md. Run before cutting
# size, and again after, to see what a change bought.
#
#   infra/size-report.sh                 every function
#   infra/size-report.sh lock-expiry     some of them
#   SIZE_REPORT_LINES=30 infra/size-report.sh   more crates per table (default 20)
#
# cargo-bloat (crates.io, pinned below) is installed into .local/ the first time. The build goes to
# target/size-report/ so the symbols kept for it never reach the binaries that are deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_BLOAT_VERSION=0.12.1
root=.local/cargo-bloat
if [ ! -x "$root/bin/cargo-bloat" ]; then
  echo "==> installing cargo-bloat $CARGO_BLOAT_VERSION into $root"
  cargo install --quiet --locked --root "$root" --version "$CARGO_BLOAT_VERSION" cargo-bloat
fi
export PATH="$PWD/$root/bin:$PATH"
functions=("$@")
if [ ${#functions[@]} -eq 0 ]; then
  for dir in functions/*/; do functions+=("$(basename "$dir")"); done
fi
out=target/size-report.md
mkdir -p target
: >"$out"
for f in "${functions[@]}"; do
  echo "==> $f"
  {
    echo "### $f (release profile, not stripped; .text by crate)"
    echo
    echo '```'
    CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/size-report \
      cargo bloat --release -p "$f" --bin "$f" --crates -n "${SIZE_REPORT_LINES:-20}" 2>/dev/null
    echo '```'
    echo
  } | tee -a "$out"
done
echo "==> written to $out"
