#!/usr/bin/env bash
# One seller's growing catalogue, on one node:
#
#   bench/owner.sh [PRODUCTS]     (default 100000)
#
# nodes/examples/owner_bench.rs creates PRODUCTS products for one seller
# and compares creating the first and the last 1,000, and the first page
# of GET /api/v1/me/products at 1,000 and at PRODUCTS (see bench/drivers.sh).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18980} CLUSTER_PORT=${CLUSTER_PORT:-47980} ONE_NODE_ONLY=1 \
  exec "$(dirname "$0")/drivers.sh" owner_bench "${1:-100000}"
