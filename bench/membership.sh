#!/usr/bin/env bash
# A join and a leave of one node in a 3-node loopback cluster
# (127.0.0.2-5) holding many users, under a write load:
#
#   bench/membership.sh [USERS]     (default 100000)
#
# nodes/examples/membership_bench.rs registers USERS users, then 32
# clients edit 256 of them through the three edges for a 10 s baseline,
# during the join of n4 (scripts/local-cluster.sh join) and during its
# leave (node leave); prints each change's duration and the writes that
# waited (p99, slowest) or failed (503) meanwhile. Every process is
# stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-100000}
export HTTP_PORT=${HTTP_PORT:-18990} CLUSTER_PORT=${CLUSTER_PORT:-47990}
cargo build --release -q -p nodes --bins --example membership_bench
work=$(mktemp -d)
cleanup() {
  scripts/local-cluster.sh down "$work" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
json='content-type: application/json'
PASSWORD='correct horse battery'
EXTRA_TOML='[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0\n[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000' \
  scripts/local-cluster.sh up 3 "$work" >/dev/null
export SHOP_CLUSTER_COOKIE
SHOP_CLUSTER_COOKIE=$(cat "$work/cookie")
NODE=./target/release/node
echo "$PASSWORD" | $NODE --config "$work/cluster.toml" --name n1 admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
token=$(curl -sf -XPOST "http://127.0.0.2:$HTTP_PORT/api/v1/auth/login" -H "$json" \
  -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export BENCH_JOIN="scripts/local-cluster.sh join $work n4 >/dev/null"
export BENCH_LEAVE="$NODE --config $work/cluster.toml --name n4 leave >/dev/null"
./target/release/examples/membership_bench "$token" "$USERS" \
  "http://127.0.0.2:$HTTP_PORT" "http://127.0.0.3:$HTTP_PORT" "http://127.0.0.4:$HTTP_PORT"
