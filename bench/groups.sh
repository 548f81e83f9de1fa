#!/usr/bin/env bash
# What a group's size costs, on one node:
#
#   bench/groups.sh [MEMBERS]     (default 100000)
#
# nodes/examples/group_bench.rs fills one group with MEMBERS users and
# another with 10, then adds and removes 512 members, reads each group and
# lists pages of its members, alternating between the two in rounds; prints
# p50, p99 and rate per operation and group, and the big group's rate as a
# share of the small one's (same run).
set -euo pipefail
ONE_NODE_ONLY=1 HTTP_PORT=${HTTP_PORT:-18990} CLUSTER_PORT=${CLUSTER_PORT:-47990} \
  exec "$(dirname "$0")/drivers.sh" group_bench "${1:-100000}"
