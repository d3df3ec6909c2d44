#!/bin/bash
# collectd's shutdown while containers exit (issue 20): collectd 5.12 frees the read callbacks'
# data, then flushes every writer, then calls the plugins' shutdown callbacks. A writer whose
# flush is slow (slow_flush.so, 3 s) holds that window open; the test stops collectd and, inside
# the window, kills every container's last process, so the exit watcher sees "populated 0" in
# their cgroup.events. collectd must exit cleanly: no invalid access (the test runs collectd as
# given, e.g. with the ASan runtime, and once more under valgrind memcheck when it is installed),
# no final read after shutdown began, nothing in the log at ERROR.
. "$(dirname "$0")/lib.sh"
require_root
require_v1_controllers
[ -d /sys/fs/cgroup/unified ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
  skip "needs a cgroup v2 tree (cgroup.events) for the exit watcher"
SLOW_SO="${TOP_BUILDDIR:-.}/tests/integration/.libs/slow_flush.so"
[ -f "$SLOW_SO" ] || { echo "FAIL: test plugin not built: $SLOW_SO"; exit 1; }

N=8
run_once() { # run_once LABEL: one collectd life with N containers exiting in its shutdown
  local label=$1 i ids=() pids=()
  make_workdir
  cp "$SLOW_SO" "$WORK/plugins/"
  for i in $(seq 1 $N); do
    local id
    id=$(random_id)
    ids+=("$id")
    make_cgroup "docker/$id" "${CONTROLLERS[@]}"
    fake_docker_name "$id" "shut_$i"
    sleep 600 &
    pids+=($!)
    PIDS_STARTED+=($!)
    move_pid "$!" "docker/$id" "${CONTROLLERS[@]}"
  done
  write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^shut_/\"" "LoadPlugin slow_flush"
  start_collectd || { fail "$label: collectd starts"; return; }
  check "$label: containers' values appear" wait_for_csv shut_1 ps_cputime 2 60
  kill -TERM "$COLLECTD_PID"
  for i in $(seq 1 300); do
    grep -q "slow_flush: flushing" "$WORK/collectd.log" 2>/dev/null && break
    sleep 0.1
  done
  check "$label: collectd reaches the writers' flush" grep -q "slow_flush: flushing" "$WORK/collectd.log"
  kill -9 "${pids[@]}" 2>/dev/null # the containers exit inside the window
  wait "${pids[@]}" 2>/dev/null
  local t0=$SECONDS
  for i in $(seq 1 600); do
    kill -0 "$COLLECTD_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$COLLECTD_PID"
  local status=$?
  COLLECTD_PID=""
  echo "$label: collectd exited with $status, $((SECONDS - t0)) s after the containers"
  check "$label: collectd exits with status 0" test "$status" -eq 0
  check "$label: the flush finished" grep -q "slow_flush: flushed" "$WORK/collectd.log"
  check "$label: no ERROR in the log" test -z "$(errors_in_log)"
  if [ -n "${VG_LOG:-}" ]; then
    # --error-exitcode: any error would have made the status above 99
    check "$label: no invalid access reported" sh -c "! grep -qE 'Invalid (read|write)|uninitialised' '$VG_LOG'"
  fi
  [ "$FAILED" -eq 0 ] || tail -n 30 "$WORK/collectd.log" "${VG_LOG:-/dev/null}"
  cleanup
  CGROUPS_MADE=()
  PIDS_STARTED=()
  WORK=""
}

run_once "as built${COLLECTD_WRAPPER:+ (with $COLLECTD_WRAPPER)}"
if command -v valgrind >/dev/null && [ -z "${COLLECTD_WRAPPER:-}" ]; then
  VG_LOG=$(mktemp /tmp/valgrind-shutdown.XXXXXX)
  COLLECTD_WRAPPER="valgrind --quiet --error-exitcode=99 --log-file=$VG_LOG" run_once "valgrind"
  rm -f "$VG_LOG"
elif [ -z "${COLLECTD_WRAPPER:-}" ]; then
  echo "SKIP-PART: valgrind is not installed: the shutdown window was not run under memcheck"
fi
finish
