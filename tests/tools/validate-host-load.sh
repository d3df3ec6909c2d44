#!/bin/bash
# Validation (not a timed test): runs a step workload (0 busy loops for 30 s, 2 for 90 s, 0 for
# 60 s) and prints, every 5 s, the plugin's host load (CollectHost, plugin instance "_host",
# Interval 5, i.e. the kernel's own cadence) next to /proc/loadavg. As root, on a quiet host.
# Usage: tests/tools/validate-host-load.sh [PLUGIN_SO]
. "$(dirname "$0")/../integration/lib.sh"
PLUGIN_SO=${1:-$PLUGIN_SO}
require_root
make_workdir
write_config 5 "  CollectHost true
  Container \"/^no-container-is-called-this\$/\""
start_collectd || exit 1

busy=()
step() { # step SECONDS LOOPS
  local want=$2 i
  while [ ${#busy[@]} -lt "$want" ]; do sh -c 'while :; do :; done' & busy+=($!); PIDS_STARTED+=($!); done
  while [ ${#busy[@]} -gt "$want" ]; do kill "${busy[-1]}"; unset 'busy[-1]'; done
  for ((i = 0; i < $1 / 5; i++)); do
    sleep 5
    local row f
    f=$(ls -1 "$WORK/csv/$TESTHOST/container-_host"/load-* 2>/dev/null | tail -n 1)
    row=$([ -n "$f" ] && tail -n 1 "$f" | awk -F, '{printf "%5.2f %5.2f %5.2f", $2, $3, $4}')
    printf '%4d s  %d loops | plugin _host %s | /proc/loadavg %s\n' "$((SECONDS - T0))" "$want" \
      "${row:-  -     -     -  }" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
}
T0=$SECONDS
echo "   t   workload | plugin 1/5/15 min      | kernel 1/5/15 min"
step 30 0
step 90 2
step 60 0
