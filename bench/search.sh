#!/usr/bin/env bash
# Search benchmark over generated products, on one node and on a 3-node
# loopback cluster (127.0.0.2-4), in one run:
#
#   bench/search.sh [PRODUCTS] [SECONDS]     (defaults 100000 and 10)
#
# nodes/examples/search_bench.rs loads PRODUCTS products through the first
# node, waits until every node's edge finds them all, measures two query
# kinds for SECONDS each (16 clients over every edge) and the time from
# creating a product to finding it. Prints Markdown rows and each node's
# resident memory (see bench/drivers.sh).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18780} CLUSTER_PORT=${CLUSTER_PORT:-47780} \
  exec "$(dirname "$0")/drivers.sh" search_bench "${1:-100000}" "${2:-10}"
