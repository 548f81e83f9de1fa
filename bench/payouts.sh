#!/usr/bin/env bash
# Payouts and reconciliation on one node, with the sandbox:
#
#   bench/payouts.sh [PAYOUT_CHARGES] [RECONCILE_CHARGES]   (10000, 100000)
#
# nodes/examples/payout_bench.rs pays PAYOUT_CHARGES one-unit orders of one
# store (the baseline: charges per second), times one payout of all of them
# (one sandbox transfer per charge) until it reads paid, then pays orders
# up to RECONCILE_CHARGES and times the day's reconciliation report.
set -euo pipefail
ONE_NODE_ONLY=1 BENCH_TOML='[payments]\npayout_hold_days = 0\nfee_rate = "0.1"' \
  HTTP_PORT=${HTTP_PORT:-18990} CLUSTER_PORT=${CLUSTER_PORT:-47990} \
  exec "$(dirname "$0")/drivers.sh" payout_bench "${1:-10000}" "${2:-100000}"
