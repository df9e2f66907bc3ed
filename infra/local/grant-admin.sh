#!/usr/bin/env bash
# Makes a registered user of the running local stack an admin (or, with `user`, not), as an
# operator does for a deployment with infra/grant-admin and AWS credentials:
#
#   infra/local/grant-admin.sh <email> [admin|user]
#
# DYNAMODB_PORT and TABLE_NAME as for stack.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 1 ]; then
  echo "usage: $0 <email> [admin|user]" >&2
  exit 2
fi
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DYNAMODB_PORT:-8000}"
export TABLE_NAME=${TABLE_NAME:-booking-local}
exec cargo run --quiet -p grant-admin -- "$@"
