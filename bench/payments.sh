#!/usr/bin/env bash
# Charge benchmark with the sandbox, on one node and on a 3-node loopback
# cluster (127.0.0.2-4), in one run:
#
#   bench/payments.sh [SECONDS]     (default 10)
#
# nodes/examples/payment_bench.rs sets up one store and 32 buyers with
# orders placed in advance, then measures card charges (paid at the 201)
# and 3-D Secure charges completed by the sandbox's webhook for SECONDS
# each, with 32 clients over every edge, and checks that every charged
# order reads paid. Prints Markdown rows and each node's resident memory
# (see bench/drivers.sh). PAY_BENCH_STORES=1 puts every order on one
# store's 20 products (thousands of open holds per product).
set -euo pipefail
HTTP_PORT=${HTTP_PORT:-18980} CLUSTER_PORT=${CLUSTER_PORT:-47980} \
  exec "$(dirname "$0")/drivers.sh" payment_bench "${1:-10}"
