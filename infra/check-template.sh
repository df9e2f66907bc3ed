#!/usr/bin/env bash
# Validates template.yaml offline with the repository's own tools (.venv): cfn-lint, then
# `sam validate --lint`, then `sam validate` (the SAM translator). Any error or warning fails;
# informational findings are printed but allowed. Needs no AWS account, network or Docker.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv/bin"
cd "$root" || exit 2

for tool in cfn-lint sam; do
  if [ ! -x "$venv/$tool" ]; then
    echo "check-template: $venv/$tool not found (install the venv first)" >&2
    exit 2
  fi
done

export SAM_CLI_TELEMETRY=0
# Nothing here calls AWS. Dummy keys make sure no real credentials are ever picked up.
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=dummy-offline-validation-only
unset AWS_SESSION_TOKEN AWS_PROFILE
region=us-east-1

# samconfig.toml sets `lint = true` for validate, which would turn the plain translator run into a
# second lint run; an empty config file keeps that step what it says.
no_config=$(mktemp --suffix=.toml)
trap 'rm -f "$no_config"' EXIT

failed=0

echo "== cfn-lint $("$venv/cfn-lint" --version 2>&1 | awk '{print $2}'): template.yaml (errors, warnings, informational)"
"$venv/cfn-lint" --include-checks I -- template.yaml
rc=$?
# cfn-lint exit code is a bit mask: 2 error, 4 warning, 8 informational (1: it failed to run).
if [ $((rc & 7)) -ne 0 ]; then
  echo "   FAILED (cfn-lint exit code $rc)"
  failed=1
else
  [ "$rc" -eq 8 ] && echo "   informational findings only (allowed)"
  echo "   ok"
fi

echo "== sam validate --lint --region $region ($("$venv/sam" --version 2>&1))"
# With the repository's samconfig.toml, so a broken samconfig.toml fails here too.
if "$venv/sam" validate --lint --region "$region" --template-file template.yaml; then
  echo "   ok"
else
  echo "   FAILED"
  failed=1
fi

echo "== sam validate --region $region (SAM translator)"
if "$venv/sam" validate --region "$region" --template-file template.yaml --config-file "$no_config"; then
  echo "   ok"
else
  echo "   FAILED"
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "check-template: FAILED" >&2
  exit 1
fi
echo "check-template: template.yaml passed cfn-lint, sam validate --lint and sam validate"
