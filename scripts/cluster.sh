#!/usr/bin/env bash
# Longer cluster runs than CI's: the same scenarios as `cargo test --test cluster` (several real replicas on one
# private PostgreSQL, each side effect attributed to its replica), in a release build, with bigger sizes from
# the environment, repeated. All traffic stays on loopback and every run is bounded.
#
#   scripts/cluster.sh [filter]   # every scenario, or those whose name contains the filter (e.g. kill_9, sigstop)
#
# Sizes (CI defaults in brackets):
#   CLUSTER_USERS [18-40]          users in the load of each scenario
#   CLUSTER_MESSAGES [6-8]         messages per user
#   CLUSTER_RATE [10-20]           messages per second over all users
#   CLUSTER_KILLS [3]              kill -9 rounds in the kill scenario
#   CLUSTER_STOP_USERS [16]        users in the SIGSTOP scenarios
#   CLUSTER_STOP_MESSAGES [6]      messages per user in the SIGSTOP scenarios
#   CLUSTER_STORM_SECS [5]         how long r1's sessions are terminated in the storm scenario
#   CLUSTER_REPEATS [3]            how many times the whole selection runs (the SIGSTOP race differs each time)
#
# PostgreSQL is required (Debian's postgresql package: initdb/pg_ctl); the run fails without it.
set -euo pipefail
cd "$(dirname "$0")/.."

export TRADESPHERE_REQUIRE_POSTGRES=1
export CLUSTER_USERS="${CLUSTER_USERS:-60}" CLUSTER_MESSAGES="${CLUSTER_MESSAGES:-20}"
export CLUSTER_RATE="${CLUSTER_RATE:-30}" CLUSTER_KILLS="${CLUSTER_KILLS:-6}"
export CLUSTER_STOP_USERS="${CLUSTER_STOP_USERS:-32}" CLUSTER_STOP_MESSAGES="${CLUSTER_STOP_MESSAGES:-10}"
export CLUSTER_STORM_SECS="${CLUSTER_STORM_SECS:-10}"
repeats="${CLUSTER_REPEATS:-3}"

cargo test --release --test cluster --no-run
for round in $(seq 1 "$repeats"); do
  echo "=== cluster round $round of $repeats"
  cargo test --release --test cluster -- --nocapture --test-threads 1 ${1:+"$1"}
done
