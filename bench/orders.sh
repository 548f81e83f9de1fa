#!/usr/bin/env bash
# Cart and checkout benchmark, on one node and on a 3-node loopback cluster
# (127.0.0.2-4), in one run:
#
#   bench/orders.sh [SECONDS]     (default 10)
#
# nodes/examples/order_bench.rs sets up 10 stores with 20 stocked products
# each and 32 buyers, then measures add-to-cart, 1-line and 5-line
# checkouts for SECONDS each (32 clients over every edge) and checks that
# the stock holds exactly what the acknowledged orders hold. Prints
# Markdown rows and each node's resident memory (see bench/drivers.sh).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18880} CLUSTER_PORT=${CLUSTER_PORT:-47880} \
  exec "$(dirname "$0")/drivers.sh" order_bench "${1:-10}"
