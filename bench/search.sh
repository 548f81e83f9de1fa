#!/usr/bin/env bash
# Search benchmark over generated products, on one node and on a 3-node
# loopback cluster (127.0.0.2-4), in one run:
#
#   bench/search.sh [PRODUCTS] [SECONDS]     (defaults 100000 and 10)
#
# For each setup: starts the release binary, creates an administrator,
# then nodes/examples/search_bench.rs loads PRODUCTS products through the
# first node, waits until every node's edge finds them all, measures two
# query kinds for SECONDS each (16 clients over every edge) and the time
# from creating a product to finding it. Prints Markdown rows and each
# node's resident memory. Every process is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${1:-100000}
SECONDS_EACH=${2:-10}
export HTTP_PORT=${HTTP_PORT:-18780} CLUSTER_PORT=${CLUSTER_PORT:-47780}
cargo build --release -q -p nodes --bins --example search_bench
NODE=./target/release/node
BENCH=./target/release/examples/search_bench
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
FAST_TOML='[http]\nrate_limit_per_sec = 0\n[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1'

admin_token() { # admin_token BASE
  curl -sf -XPOST "$1/api/v1/auth/login" -H "$json" -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
rss() { # rss PID…
  for pid in "$@"; do echo "$(( $(ps -o rss= -p "$pid") / 1024 )) MiB"; done | paste -sd' ' -
}

# ---- one node
mkdir -p "$work/one"
printf "$FAST_TOML\n[[nodes]]\nname = \"n1\"\nhttp_addr = \"127.0.0.2:$HTTP_PORT\"\n" > "$work/one/node.toml"
echo "$PASSWORD" | LOG=warn $NODE --config "$work/one/node.toml" --data-dir "$work/one/data" admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
LOG=warn $NODE --config "$work/one/node.toml" --data-dir "$work/one/data" >"$work/one/node.log" 2>&1 &
single_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.2:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "### one node"
$BENCH "$(admin_token "http://127.0.0.2:$HTTP_PORT")" "$PRODUCTS" "$SECONDS_EACH" "http://127.0.0.2:$HTTP_PORT"
echo "resident memory: $(rss "$single_pid")"
kill "$single_pid"; wait "$single_pid" 2>/dev/null || true; single_pid=""

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
$BENCH "$(admin_token "${bases[0]}")" "$PRODUCTS" "$SECONDS_EACH" "${bases[@]}"
echo "resident memory: $(rss $(cat "$work"/three/n*.pid))"
