#!/usr/bin/env bash
# Every test, on a fresh machine too (it installs what it needs first):
#   1. cargo fmt --check and clippy -D warnings
#   2. the fast tier, `cargo test --workspace` (what a developer runs while working): domain unit
#      tests, then store and handler tests against a real DynamoDB Local (started by the harness,
#      one table per test); then the slow tier, `cargo test --test slow -- --ignored`: the
#      1,000-client race, DynamoDB Local killed mid-load, function processes killed mid-request
#   3. sam build (the deploy path; cargo lambda build --release of every function), what it
#      produced checked (infra/check_sam_build.py), and the sizes
#   4. the deployment checks: cfn-lint, sam validate --lint, openapi.yaml validation
#   5. end to end over HTTP against the local stack (infra/local/stack.sh on its own ports),
#      jobs included (invoked as the stack's schedule does; one test restarts a stack of its own)
#   6. OpenAPI-driven fuzzing of that stack (infra/local/fuzz.sh: schemathesis, fixed seed)
set -euo pipefail
cd "$(dirname "$0")/../.."
# Each step is announced with how long the one before it took (and the whole run at the end),
# the figures the README's "Last full run" quotes.
started=$SECONDS last=$SECONDS last_name="set-up"
took() { printf '\033[1m    (%s: %d s)\033[0m\n' "$last_name" $((SECONDS - last)); }
step() { took; last=$SECONDS last_name="$*"; printf '\n\033[1m==> %s\033[0m\n' "$*"; }
finished() { took; printf '\033[1m    (whole test command: %d s)\033[0m\n' $((SECONDS - started)); }
trap finished EXIT

bash infra/local/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "fast tier: unit tests and DynamoDB Local tests (cargo test --workspace)"
# The function binaries too: the slow tier's function_crash runs and kills them.
cargo build --bins --quiet
cargo test --workspace

step "slow tier: 1,000-client race, DynamoDB restart, function crash (tests/tests/slow, --ignored)"
cargo test -p booking-tests --test slow -- --ignored

# The deploy path, as the README gives it: `sam build` runs `cargo lambda build --release --bin <fn>`
# for every function (the one release build of this command), then what it produced is checked.
case "$(uname -m)" in aarch64) arch=arm64 ;; *) arch=x86_64 ;; esac
step "sam build --parameter-overrides Architecture=$arch (release build of every function)"
SAM_CLI_TELEMETRY=0 sam build --parameter-overrides "Architecture=$arch"
python infra/check_sam_build.py "$arch"
bash infra/binary-sizes.sh

step "deployment checks"
bash infra/check-template.sh
openapi-spec-validator openapi.yaml

step "end to end against the local stack"
cargo test -p booking-tests --test e2e --no-run --quiet
API_PORT=${TEST_API_PORT:-3100}
DYNAMODB_PORT=${TEST_DYNAMODB_PORT:-8100}
mkdir -p target
log=target/local-stack-test.log
API_PORT=$API_PORT DYNAMODB_PORT=$DYNAMODB_PORT STACK_NO_RELOAD=1 TABLE_NAME=booking-e2e \
  bash infra/local/stack.sh >"$log" 2>&1 &
stack=$!
trap 'kill -TERM $stack 2>/dev/null; wait $stack 2>/dev/null || true; finished' EXIT
# Ready means it answers: GET /api/events through the router, a function and DynamoDB Local.
ready_url="http://127.0.0.1:$API_PORT/api/events"
answers() { [ "$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$ready_url")" = 200 ]; }
for _ in $(seq 600); do
  answers && break
  if ! kill -0 $stack 2>/dev/null; then echo "the local stack failed to start:"; tail -n 40 "$log"; exit 1; fi
  sleep 1
done
answers || { echo "the local stack never answered 200 on $ready_url:"; tail -n 40 "$log"; exit 1; }
# The stack's schedule runs too (every 60 s): the scenarios hold whichever run expires a hold.
# One test starts stacks of its own (on disk, restarted) for recovery at start-up.
BOOKING_API_URL="http://127.0.0.1:$API_PORT" E2E_DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT" \
  E2E_TABLE=booking-e2e cargo test -p booking-tests --test e2e -- --ignored

step "fuzzing the local stack against openapi.yaml (schemathesis)"
bash infra/local/fuzz.sh "http://127.0.0.1:$API_PORT"
