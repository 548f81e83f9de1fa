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
# shop and bare alternating for ROUNDS rounds (default 3), and prints a
# Markdown table of medians with the ratios for the README (shop vs bare,
# PATCH vs GET, writes per flush). Only loopback is used; every
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

# measure NAME wrk-args... : appends "NAME<TAB>req/s<TAB>p50<TAB>p99<TAB>non-2xx" to results.tsv
measure() {
  local name=$1; shift
  local out
  out=$(wrk --latency "$@")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}" >> "$work/results.tsv"
}
count() { awk -v m="$1" '$1==m {print $2}' <<<"$2"; }

ROUNDS=${ROUNDS:-3}
GET_SHOP="GET /api/v1/me (shop, 64 conn)"
GET_BARE="GET /api/v1/me (bare axum, 64 conn)"
PATCH="PATCH /api/v1/me (shop, 64 users, 64 conn)"
export BENCH_THREADS=2
: > "$work/flushes.tsv"
# Shop and bare alternate, so that both see the same machine.
for round in $(seq "$ROUNDS"); do
  measure "$GET_SHOP" -t2 -c64 -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$NODE_PORT/api/v1/me"
  measure "$GET_BARE" -t2 -c64 -d"${DURATION}s" "http://127.0.0.1:$BARE_PORT/api/v1/me"
  before=$(curl -sf "http://127.0.0.1:$NODE_PORT/metrics")
  measure "$PATCH" -t2 -c64 -d"${DURATION}s" -s bench/patch_me.lua "http://127.0.0.1:$NODE_PORT"
  after=$(curl -sf "http://127.0.0.1:$NODE_PORT/metrics")
  # Group commit during this PATCH run: writes made durable, and flushes.
  printf '%s\t%s\n' \
    "$(python3 -c "print(float('$(count shop_storage_flush_batch_size_sum "$after")') - float('$(count shop_storage_flush_batch_size_sum "$before")'))")" \
    "$(( $(count shop_storage_flushes_total "$after") - $(count shop_storage_flushes_total "$before") ))" >> "$work/flushes.tsv"
done
measure "POST /api/v1/accounts (shop, 16 conn)" -t2 -c16 -d"${DURATION}s" -s bench/register.lua "http://127.0.0.1:$NODE_PORT"

python3 - "$work/results.tsv" "$work/flushes.tsv" "$DURATION" "$ROUNDS" "$GET_SHOP" "$GET_BARE" "$PATCH" <<'PY'
import statistics, sys
results, flushes, duration, rounds, get_shop, get_bare, patch = sys.argv[1:]
runs = {}
for line in open(results):
    name, rps, p50, p99, errors = line.rstrip("\n").split("\t")
    runs.setdefault(name, []).append((float(rps), p50, p99, int(errors)))
def median(name):
    rows = sorted(runs[name])
    return rows[len(rows) // 2]
print(f"| workload (wrk, {duration}s, median of {rounds} alternating rounds) | req/s | p50 | p99 | non-2xx |")
print("|---|---|---|---|---|")
for name in runs:
    rps, p50, p99, _ = median(name)
    errors = sum(r[3] for r in runs[name])
    n = len(runs[name])
    label = name if n > 1 else name.replace("64 conn)", "64 conn, 1 run)").replace("16 conn)", "16 conn, 1 run)")
    print(f"| {label} | {rps:,.0f} | {p50} | {p99} | {errors} |")
print()
shop, bare, writes = median(get_shop)[0], median(get_bare)[0], median(patch)[0]
print(f"GET /api/v1/me, shop vs bare: {100 * shop / bare:.0f} % (per round: "
      + ", ".join(f"{100 * s[0] / b[0]:.0f} %" for s, b in zip(runs[get_shop], runs[get_bare])) + ")")
print(f"PATCH vs GET /api/v1/me (shop): {100 * writes / shop:.0f} %")
per_flush = [float(w) / max(int(f), 1) for w, f in (l.split("\t") for l in open(flushes))]
print("group commit during the PATCH runs: " + ", ".join(f"{p:.1f}" for p in per_flush) + " durable writes per flush")
PY
