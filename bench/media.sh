#!/usr/bin/env bash
# Media benchmark, on one node and on a 3-node loopback cluster
# (127.0.0.2-4), in one run:
#
#   bench/media.sh [SECONDS]     (default 10)
#
# nodes/examples/media_bench.rs measures uploads through the owning edge
# and through another node's edge, the forwarding edge's resident memory
# during a 256 MiB upload, downloads of a cached variant by 64 clients,
# and variant jobs end to end. Prints Markdown rows (see bench/drivers.sh).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18990} CLUSTER_PORT=${CLUSTER_PORT:-47990} \
  exec "$(dirname "$0")/drivers.sh" media_bench "${1:-10}"
