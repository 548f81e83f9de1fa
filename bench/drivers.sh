#!/usr/bin/env bash
# Runs a benchmark driver (an example of the nodes package) on one node and
# then on a 3-node loopback cluster (127.0.0.2-4), in one run:
#
#   bench/drivers.sh EXAMPLE [ARG…]
#
# For each setup: starts the release binary with a cheap argon2 cost and no
# rate limit, creates an administrator, runs
#   target/release/examples/EXAMPLE ADMIN_TOKEN ARG… BASE_URL…
# (every node's edge), prints its output and each node's resident memory;
# $BENCH_PIDS holds the nodes' process ids, in the order of the edges.
# Every process is stopped by its PID. Used by bench/search.sh,
# bench/orders.sh and bench/owner.sh (ONE_NODE_ONLY=1: no cluster;
# BENCH_TOML: more configuration for the single node);
# $HTTP_PORT and $CLUSTER_PORT choose the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLE=$1
shift
export HTTP_PORT=${HTTP_PORT:-18780} CLUSTER_PORT=${CLUSTER_PORT:-47780}
cargo build --release -q -p nodes --bins --example "$EXAMPLE"
NODE=./target/release/node
DRIVER=./target/release/examples/$EXAMPLE
work=$(mktemp -d)
single_pid=""
cleanup() {
  [ -n "$single_pid" ] && kill "$single_pid" 2>/dev/null || true
  scripts/local-cluster.sh down "$work/three" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
json='content-type: application/json'
PASSWORD='correct horse battery'
FAST_TOML='[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0\n[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000'

admin_token() { # admin_token BASE
  curl -sf -XPOST "$1/api/v1/auth/login" -H "$json" -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
rss() { # rss PID…
  for pid in "$@"; do echo "$(( $(ps -o rss= -p "$pid") / 1024 )) MiB"; done | paste -sd' ' -
}

# ---- one node
mkdir -p "$work/one"
printf "$FAST_TOML\n${BENCH_TOML:-}\n[[nodes]]\nname = \"n1\"\nhttp_addr = \"127.0.0.2:$HTTP_PORT\"\n" > "$work/one/node.toml"
echo "$PASSWORD" | LOG=warn $NODE --config "$work/one/node.toml" --data-dir "$work/one/data" admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
LOG=warn $NODE --config "$work/one/node.toml" --data-dir "$work/one/data" >"$work/one/node.log" 2>&1 &
single_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.2:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "### one node"
BENCH_PIDS="$single_pid" $DRIVER "$(admin_token "http://127.0.0.2:$HTTP_PORT")" "$@" "http://127.0.0.2:$HTTP_PORT"
echo "resident memory: $(rss "$single_pid")"
kill "$single_pid"; wait "$single_pid" 2>/dev/null || true; single_pid=""
[ "${ONE_NODE_ONLY:-}" = 1 ] && exit 0

# ---- three nodes
EXTRA_TOML="$FAST_TOML" scripts/local-cluster.sh up 3 "$work/three" >/dev/null
export SHOP_CLUSTER_COOKIE
SHOP_CLUSTER_COOKIE=$(cat "$work/three/cookie")
echo "$PASSWORD" | $NODE --config "$work/three/cluster.toml" --name n1 admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
bases=()
for ip in 2 3 4; do bases+=("http://127.0.0.$ip:$HTTP_PORT"); done
echo
echo "### three nodes"
BENCH_PIDS="$(cat "$work"/three/n1.pid "$work"/three/n2.pid "$work"/three/n3.pid | paste -sd' ' -)" $DRIVER "$(admin_token "${bases[0]}")" "$@" "${bases[@]}"
echo "resident memory: $(rss $(cat "$work"/three/n*.pid))"
