#!/bin/bash
# Soak test (root; not run by CI): tests/stress/soak.sh [CYCLES]
# CYCLES container create/destroy cycles (default 10,000) against a real collectd running the
# plugin at Interval 1, with every check of churn.sh: collectd alive, fd count flat and RSS within
# 1 MiB between the warm-up and the end, no network namespace held after its container, no
# collectd thread left in a container's namespace, no ERROR line, no failed read, and the two
# long-lived containers' values without a gap. On top of churn.sh's figures it prints the RSS
# and fd trend over the whole run (a slow leak shows as a steady climb, a one-off cache as a step)
# and collectd's CPU time. At the default rate (10 containers/s) it takes about 20 minutes.
# Environment: as churn.sh (PLUGIN_SO, CHURN_RATE, CHURN_ALIVE, KEEP_WORK); SOAK_LOG (default
# soak.out in the current directory) keeps the whole output.
HERE=$(cd "$(dirname "$0")" && pwd)
CYCLES=${1:-10000}
LOG=${SOAK_LOG:-soak.out}
echo "soak: $CYCLES cycles, started $(date -u '+%F %T') UTC, output in $LOG"
start=$(date +%s)
bash "$HERE/churn.sh" "$CYCLES" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
echo "soak: exit $rc after $(($(date +%s) - start)) s"
exit "$rc"
