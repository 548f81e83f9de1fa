#!/usr/bin/env bash
# Runs a shop cluster on this machine's loopback addresses.
#
#   scripts/local-cluster.sh up N DIR     start n1..nN on 127.0.0.2, 127.0.0.3, …
#   scripts/local-cluster.sh join DIR nK  start one more node, nK, into that cluster
#   scripts/local-cluster.sh down DIR     stop every node started in DIR
#
# $SHARDS sets the shard count (256). Every node listens on the same ports on its own address: HTTP on
# $HTTP_PORT (8080) and the cluster on $CLUSTER_PORT (4700). Data goes to
# DIR/nK, PIDs to DIR/nK.pid, logs to DIR/nK.log. The cluster cookie is
# generated into DIR/cookie (or taken from $SHOP_CLUSTER_COOKIE). `up` and
# `join` return once every node answers /readyz. The node binary is
# $NODE_BIN, or target/release/node (built if missing). $EXTRA_TOML is
# appended to the generated configuration (e.g. "[http]\nrate_limit_per_sec = 0").
set -euo pipefail

HTTP_PORT=${HTTP_PORT:-8080}
CLUSTER_PORT=${CLUSTER_PORT:-4700}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE_BIN=${NODE_BIN:-$ROOT/target/release/node}

usage() {
  sed -n '2,14p' "$0" >&2
  exit 2
}

ensure_binary() {
  if [ ! -x "$NODE_BIN" ]; then
    echo "building $NODE_BIN" >&2
    (cd "$ROOT" && cargo build --release -q -p nodes --bin node)
  fi
}

address() { echo "127.0.0.$(( $1 + 1 ))"; }

node_entry() {
  local k=$1 ip
  ip=$(address "$k")
  printf '\n[[nodes]]\nname = "n%s"\ncluster_addr = "%s:%s"\nhttp_addr = "%s:%s"\n' "$k" "$ip" "$CLUSTER_PORT" "$ip" "$HTTP_PORT"
}

cookie() {
  local dir=$1
  if [ -n "${SHOP_CLUSTER_COOKIE:-}" ]; then
    echo "$SHOP_CLUSTER_COOKIE"
  else
    cat "$dir/cookie"
  fi
}

start_node() {
  local dir=$1 k=$2
  SHOP_CLUSTER_COOKIE=$(cookie "$dir") nohup "$NODE_BIN" --config "$dir/cluster.toml" --name "n$k" \
    --data-dir "$dir/n$k" >"$dir/n$k.out" 2>>"$dir/n$k.log" </dev/null &
  echo $! >"$dir/n$k.pid"
}

wait_ready() {
  local dir=$1 k=$2 ip deadline
  ip=$(address "$k")
  deadline=$(( $(date +%s) + 180 ))
  until curl -sf "http://$ip:$HTTP_PORT/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$dir/n$k.pid")" 2>/dev/null; then
      echo "n$k exited; see $dir/n$k.log" >&2
      exit 1
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "n$k is not ready after 180 s; see $dir/n$k.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "n$k ready on http://$ip:$HTTP_PORT (pid $(cat "$dir/n$k.pid"))"
}

up() {
  local n=$1 dir=$2
  [ "$n" -ge 1 ] || usage
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  ensure_binary
  if [ -z "${SHOP_CLUSTER_COOKIE:-}" ] && [ ! -f "$dir/cookie" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$dir/cookie")
  fi
  {
    printf '[cluster]\nname = "local"\ncookie_env = "SHOP_CLUSTER_COOKIE"\nshards = %s\n' "${SHARDS:-256}"
    [ -z "${EXTRA_TOML:-}" ] || printf '%b\n' "$EXTRA_TOML"
    for k in $(seq 1 "$n"); do node_entry "$k"; done
  } >"$dir/cluster.toml"
  # All at once: a node answers only after its peers formed the cluster.
  for k in $(seq 1 "$n"); do start_node "$dir" "$k"; done
  for k in $(seq 1 "$n"); do wait_ready "$dir" "$k"; done
}

join() {
  local dir=$1 name=$2 k
  dir=$(cd "$dir" && pwd)
  k=${name#n}
  [[ "$k" =~ ^[0-9]+$ ]] || usage
  ensure_binary
  grep -q "name = \"$name\"" "$dir/cluster.toml" || node_entry "$k" >>"$dir/cluster.toml"
  start_node "$dir" "$k"
  wait_ready "$dir" "$k"
}

down() {
  local dir=$1 pid
  for file in "$dir"/n*.pid; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
    echo "stopped $(basename "$file" .pid) (pid $pid)"
  done
}

case "${1:-}" in
  up) [ $# -eq 3 ] || usage; up "$2" "$3" ;;
  join) [ $# -eq 3 ] || usage; join "$2" "$3" ;;
  down) [ $# -eq 2 ] || usage; down "$2" ;;
  *) usage ;;
esac
