#!/usr/bin/env bash
# Resident memory of one node holding PRODUCTS products (default 100000):
#
#   bench/memory.sh [PRODUCTS]
#
# Starts the release binary (cheap argon2, no rate limits, entities
# passivated after 20 s idle), loads the products with
# nodes/examples/search_bench.rs (10 sellers, tags, attributes, a quarter
# offered; 1 s of queries), then prints the node's resident memory right
# after loading and once every entity has passivated, with the search
# index's own size and the live entities (from /metrics) at each point.
# The node is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${1:-100000}
HTTP_PORT=${HTTP_PORT:-18680}
cargo build --release -q -p nodes --bins --example search_bench
NODE=./target/release/node
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
PASSWORD='correct horse battery'
base="http://127.0.0.2:$HTTP_PORT"
printf '[http]\nrate_limit_per_sec = 0\nuser_rate_limit_per_sec = 0\nauth_rate_limit_per_sec = 0\n[identity]\nargon2_memory_kib = 1024\nargon2_iterations = 1\nhash_queue = 1000\n[runtime]\npassivate_after_secs = 20\n[[nodes]]\nname = "n1"\nhttp_addr = "127.0.0.2:%s"\n' "$HTTP_PORT" > "$work/node.toml"
echo "$PASSWORD" | LOG=warn $NODE --config "$work/node.toml" --data-dir "$work/data" admin create-user \
  --username admin --email admin@example.com --role admin >/dev/null
LOG=warn $NODE --config "$work/node.toml" --data-dir "$work/data" >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -XPOST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
./target/release/examples/search_bench "$token" "$PRODUCTS" 1 "$base" >"$work/load.out"
metric() { curl -sf "$base/metrics" | awk -v m="$1" '$1==m {print $2}'; }
report() {
  printf '| %s | %s MiB | %s MiB | %s |\n' "$1" "$(( $(ps -o rss= -p "$pid") / 1024 ))" \
    "$(( $(metric shop_search_index_bytes) / 1048576 ))" "$(metric shop_live_entities)"
}
echo "| $PRODUCTS products, one node | resident | search index | live entities |"
echo "|---|---|---|---|"
report "right after loading"
for _ in $(seq 120); do
  [ "$(metric shop_live_entities)" -le 5 ] && break
  sleep 1
done
sleep 5
report "every entity passivated"
