#!/usr/bin/env bash
# Longer reliability runs than CI's (docs/reliability.md). Each runs the same test CI runs, in a release build,
# with bigger sizes from the environment; all traffic stays on loopback and every run is bounded.
#
#   scripts/reliability.sh soak      # 10 minutes by default: SOAK_SECS, SOAK_RATE, SOAK_USERS, SOAK_SAMPLE_SECS
#   scripts/reliability.sh kill9     # 3,000 events, 5 kills: KILL9_USERS, KILL9_MESSAGES_PER_USER, KILL9_RATE, KILL9_KILLS
#   scripts/reliability.sh chaos     # random panics: CHAOS_USERS, CHAOS_MESSAGES_PER_USER, CHAOS_ONE_IN, CHAOS_SEED
#
# PostgreSQL variants run too when initdb/pg_ctl are installed (Debian's postgresql package).
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  local target="$1"
  shift
  cargo test --release --test "$target" -- --nocapture --test-threads 1 "$@"
}

case "${1:-}" in
  soak)
    export SOAK_SECS="${SOAK_SECS:-600}" SOAK_RATE="${SOAK_RATE:-10}" SOAK_USERS="${SOAK_USERS:-300}"
    run system reliability::soak_stays_flat_and_loses_nothing
    ;;
  kill9)
    export KILL9_USERS="${KILL9_USERS:-150}" KILL9_MESSAGES_PER_USER="${KILL9_MESSAGES_PER_USER:-20}"
    export KILL9_RATE="${KILL9_RATE:-100}" KILL9_KILLS="${KILL9_KILLS:-5}"
    run system reliability::sqlite::kill_9 reliability::postgres::kill_9
    ;;
  chaos)
    export CHAOS_USERS="${CHAOS_USERS:-100}" CHAOS_MESSAGES_PER_USER="${CHAOS_MESSAGES_PER_USER:-10}"
    export CHAOS_ONE_IN="${CHAOS_ONE_IN:-40}"
    run api reliability::sqlite::random_actor_panics reliability::postgres::random_actor_panics
    ;;
  *)
    echo "usage: $0 soak|kill9|chaos" >&2
    exit 2
    ;;
esac
