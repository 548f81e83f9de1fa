#!/usr/bin/env bash
# Cluster benchmark, on loopback (127.0.0.2, …), in one run:
#
#   bench/cluster.sh [DURATION_SECONDS]   (default 10)
#
# A. Three nodes. GET /api/v1/me through n1's edge, for a user whose shard n1
#    owns (local: no serialisation) and for one another node owns (remote:
#    n1 forwards to the owner's gateway). wrk, 64 connections.
# B. The time to hand off one shard holding ~10,000 users: one node with 4
#    shards takes ~40,000 registrations, then a second node joins and the
#    shards it wins move; n1 logs each shard's copy (records, bytes, ms:
#    drain, flush, stream in 1 MiB chunks, import, flush, digests compared),
#    and the join is timed from start to ready.
#
# Every process is stopped by PID (scripts/local-cluster.sh down).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
export HTTP_PORT=${HTTP_PORT:-18680} CLUSTER_PORT=${CLUSTER_PORT:-47680}
command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
cargo build --release -q -p nodes --bins
NODE=./target/release/node
work=$(mktemp -d)
trap 'scripts/local-cluster.sh down "$work/a" >/dev/null 2>&1 || true; scripts/local-cluster.sh down "$work/b" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
json='content-type: application/json'
PASSWORD='correct horse battery'

token() { # token NODE_IP LOGIN
  curl -sf -XPOST "http://$1:$HTTP_PORT/api/v1/auth/login" -H "$json" -d "{\"login\":\"$2\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

latency() { # latency NAME TOKEN CONNECTIONS
  local out
  out=$(wrk --latency -t"$(( $3 > 1 ? 2 : 1 ))" -c"$3" -d"${DURATION}s" -H "Authorization: Bearer $2" "http://127.0.0.2:$HTTP_PORT/api/v1/me")
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$3" "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
}

# ---- A: local versus remote owner
EXTRA_TOML='[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0' scripts/local-cluster.sh up 3 "$work/a" >/dev/null
export SHOP_CLUSTER_COOKIE
SHOP_CLUSTER_COOKIE=$(cat "$work/a/cookie")
echo "$PASSWORD" | $NODE --config "$work/a/cluster.toml" --name n1 admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
ADMIN=$(token 127.0.0.2 admin)
local_token="" remote_token=""
for i in $(seq 1 40); do
  id=$(curl -sf -XPOST "http://127.0.0.2:$HTTP_PORT/api/v1/accounts" -H "$json" \
    -d "{\"username\":\"reader$i\",\"email\":\"reader$i@example.com\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  owner=$(curl -sf "http://127.0.0.2:$HTTP_PORT/api/v1/cluster/owner?kind=user&key=$id" -H "Authorization: Bearer $ADMIN" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["owner"])')
  if [ "$owner" = n1 ] && [ -z "$local_token" ]; then local_token=$(token 127.0.0.2 "reader$i"); fi
  if [ "$owner" != n1 ] && [ -z "$remote_token" ]; then remote_token=$(token 127.0.0.2 "reader$i"); fi
  [ -n "$local_token" ] && [ -n "$remote_token" ] && break
done
echo "| GET /api/v1/me through n1 (wrk, ${DURATION}s) | connections | req/s | p50 | p99 |"
echo "|---|---|---|---|---|"
latency "user owned by n1 (local)" "$local_token" 1
latency "user owned by another node (remote)" "$remote_token" 1
latency "user owned by n1 (local)" "$local_token" 64
latency "user owned by another node (remote)" "$remote_token" 64
scripts/local-cluster.sh down "$work/a" >/dev/null

# ---- B: hand-off of one shard with ~10,000 users
unset SHOP_CLUSTER_COOKIE
SHARDS=4 EXTRA_TOML='[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0\n[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000' \
  scripts/local-cluster.sh up 1 "$work/b" >/dev/null
wrk -t2 -c32 -d"${REGISTER_SECONDS:-45}s" -s bench/register.lua "http://127.0.0.2:$HTTP_PORT" >"$work/register.txt"
registered=$(awk '/requests in/ {print $1}' "$work/register.txt")
started=$(date +%s%N)
scripts/local-cluster.sh join "$work/b" n2 >/dev/null
joined_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo
echo "registered $registered users (each a user record and two claims) on 4 shards; copies when n2 joined:"
grep -h "copied shard" "$work/b/n1.log" | sed -E 's/.*(shard=[0-9]+).*(records=[0-9]+).*(bytes=[0-9]+).*(ms=[0-9]+).*/\1 \2 \3 \4/'
echo "the join took ${joined_ms} ms from starting n2 to n2 ready"
