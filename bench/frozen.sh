#!/usr/bin/env bash
# Requests while a node is frozen, on a 3-node loopback cluster
# (127.0.0.2-4):
#
#   bench/frozen.sh [SECONDS]     (default 10)
#
# nodes/examples/frozen_bench.rs reads 64 users' profiles with 16 clients
# through two edges, with every node up and then with the third node
# stopped (SIGSTOP); prints each phase's rate, p50, p99, slowest request
# and 503s (see bench/drivers.sh; the one-node run is skipped).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18970} CLUSTER_PORT=${CLUSTER_PORT:-47970} \
  exec "$(dirname "$0")/drivers.sh" frozen_bench "${1:-10}"
