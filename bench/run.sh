#!/usr/bin/env bash
# Benchmark of the single-node shop against a bare axum handler, in one run.
#
#   bench/run.sh [DURATION_SECONDS]     (default 10)
#
# Builds the release binaries, starts `node` on a temporary data directory
# (production argon2 cost, rate limiting off) and `bare-edge`, then drives
# with wrk (installed from Debian if missing):
#   - GET /api/v1/me with a valid token (JWT check + actor hop + state read)
#   - the same JSON from the bare handler (no auth, no actor, no storage)
#   - PATCH /api/v1/me over 64 users (a durable write per request)
#   - POST /api/v1/accounts (argon2id hashing + five durable writes each)
# and prints a Markdown table for the README. Only loopback is used; every
# process started here is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
NODE_PORT=${NODE_PORT:-18480}
BARE_PORT=${BARE_PORT:-18490}

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release -q -p nodes --bins

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/bench.toml" <<TOML
[http]
rate_limit_per_sec = 0
user_rate_limit_per_sec = 0
auth_rate_limit_per_sec = 0
[[nodes]]
name = "n1"
http_addr = "127.0.0.1:$NODE_PORT"
TOML

LOG=warn ./target/release/node --config "$work/bench.toml" --data-dir "$work/data" > "$work/node.out" 2>&1 &
pids+=($!)
./target/release/bare-edge "127.0.0.1:$BARE_PORT" > "$work/bare.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$NODE_PORT/readyz" >/dev/null && curl -sf "http://127.0.0.1:$BARE_PORT/api/v1/me" >/dev/null && break
  sleep 0.1
done

json='content-type: application/json'
curl -sf -XPOST "http://127.0.0.1:$NODE_PORT/api/v1/accounts" -H "$json" \
  -d '{"username":"bench","email":"bench@example.com","password":"correct horse battery"}' >/dev/null
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$NODE_PORT/api/v1/auth/login" -H "$json" \
  -d '{"login":"bench","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# 64 more users for the write workload, one token each.
echo "return {" > "$work/tokens.lua"
for i in $(seq 64); do
  curl -sf -XPOST "http://127.0.0.1:$NODE_PORT/api/v1/accounts" -H "$json" \
    -d "{\"username\":\"writer$i\",\"email\":\"writer$i@example.com\",\"password\":\"correct horse battery\"}" >/dev/null
  curl -sf -XPOST "http://127.0.0.1:$NODE_PORT/api/v1/auth/login" -H "$json" \
    -d "{\"login\":\"writer$i\",\"password\":\"correct horse battery\"}" \
    | python3 -c 'import json,sys; print("  \"%s\"," % json.load(sys.stdin)["access_token"])' >> "$work/tokens.lua"
done
echo "}" >> "$work/tokens.lua"
export BENCH_TOKENS="$work/tokens.lua"

# run NAME wrk-args... : prints "NAME | req/s | p50 | p99 | errors"
run() {
  local name=$1; shift
  local out
  out=$(wrk --latency "$@")
  echo "$out" > "$work/$(echo "$name" | tr ' /' '__').txt"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "| workload (wrk, ${DURATION}s) | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "GET /api/v1/me (shop, 64 conn)" -t2 -c64 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$NODE_PORT/api/v1/me"
run "GET /api/v1/me (bare axum, 64 conn)" -t2 -c64 -d"${DURATION}s" "http://127.0.0.1:$BARE_PORT/api/v1/me"
metrics_before=$(curl -sf "http://127.0.0.1:$NODE_PORT/metrics")
run "PATCH /api/v1/me (shop, 64 users, 64 conn)" -t2 -c64 -d"${DURATION}s" -s bench/patch_me.lua "http://127.0.0.1:$NODE_PORT"
metrics_after=$(curl -sf "http://127.0.0.1:$NODE_PORT/metrics")
run "POST /api/v1/accounts (shop, 16 conn)" -t2 -c16 -d"${DURATION}s" -s bench/register.lua "http://127.0.0.1:$NODE_PORT"
echo
# Group commit during the PATCH run: writes made durable per flush.
count() { awk -v m="$1" '$1==m {print $2}' <<<"$2"; }
flushes=$(( $(count shop_storage_flushes_total "$metrics_after") - $(count shop_storage_flushes_total "$metrics_before") ))
writes=$(python3 -c "print(int(float('$(count shop_storage_flush_batch_size_sum "$metrics_after")') - float('$(count shop_storage_flush_batch_size_sum "$metrics_before")')))")
echo "group commit during the PATCH run: $writes durable writes in $flushes flushes ($(python3 -c "print(round($writes/max($flushes,1),1))") writes per flush)"
