#!/usr/bin/env bash
# Runs one job now against the running local stack, as EventBridge Scheduler (lock-expiry,
# booking-expiry) or CloudFormation / an operator (recovery) would, and prints its JSON report:
#
#   infra/local/run-job.sh lock-expiry | booking-expiry | recovery
#
# It calls the Lambda invoke API that `cargo lambda watch` serves next to the HTTP routes
# (the same as `cargo lambda invoke <job> --data-ascii '{}'`). API_PORT as for stack.sh.
set -euo pipefail
job=${1:-}
case "$job" in
  lock-expiry | booking-expiry | recovery) ;;
  *) echo "usage: $0 lock-expiry|booking-expiry|recovery" >&2; exit 2 ;;
esac
url="http://127.0.0.1:${API_PORT:-3000}/2015-03-31/functions/$job/invocations"
if ! report=$(curl -sS --fail-with-body --max-time 330 -X POST -d '{}' "$url"); then
  echo "$job: the invocation failed: $report" >&2
  exit 1
fi
echo "$report"
case "$report" in
  *'"errorType"'*) exit 1 ;;
esac
