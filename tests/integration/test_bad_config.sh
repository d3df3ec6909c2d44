#!/bin/bash
# Bad configurations of the container plugin, each with a real collectd that also loads the
# `load' plugin: every one must give an ERROR line naming the key and the value, and collectd must
# keep running and writing the other plugins' values (load CSV), only the container plugin off.
. "$(dirname "$0")/lib.sh"
require_root
[ -f /usr/lib/collectd/load.so ] || skip "collectd's load plugin is missing"
make_workdir
cp /usr/lib/collectd/load.so "$WORK/plugins/"
EMPTY_ROOT=$WORK/empty-root
mkdir -p "$EMPTY_ROOT"

# lib.sh's config with collectd's default ReadThreads and the `load' plugin.
write_bad_config() { READ_THREADS=5 write_config 1 "$1" "LoadPlugin load"; }

load_rows() {
  cat "$WORK/csv/$TESTHOST/load/"load-* 2>/dev/null | grep -vc '^epoch'
}

# bad_case NAME CONFIG_LINE KEY VALUE: an ERROR line must name KEY and VALUE (fixed strings).
bad_case() {
  local name=$1 conf=$2 key=$3 value=$4 i
  echo "--- $name: $conf"
  rm -rf "$WORK/csv" "$WORK/collectd.log" && mkdir -p "$WORK/csv"
  write_bad_config "  $conf"
  if ! start_collectd; then
    fail "$name: collectd starts despite the bad container configuration"
    return
  fi
  for ((i = 0; i < 50; i++)); do
    [ "$(load_rows)" -ge 2 ] && break
    sleep 0.2
  done
  check "$name: collectd keeps running" kill -0 "$COLLECTD_PID"
  check "$name: the load plugin still writes CSV ($(load_rows) rows)" test "$(load_rows)" -ge 2
  local errs
  errs=$(grep -F '[error]' "$WORK/collectd.log" | grep -F 'container plugin' || true)
  check "$name: an ERROR names \"$key\" and \"$value\"" \
    bash -c 'grep -iF -- "$1" <<<"$3" | grep -qF -- "$2"' _ "$key" "$value" "$errs"
  [ -n "$errs" ] && echo "$errs" | head -n 3 | sed 's/^/    log: /'
  check "$name: no container values" test ! -d "$WORK/csv/$TESTHOST/container-_host" -a \
    -z "$(ls "$WORK/csv/$TESTHOST" 2>/dev/null | grep '^container-')"
  stop_collectd # (collectd exits 1 after a failed init callback: that is collectd's rule)
}

bad_case "unknown key" 'NoSuchOption "banana"' NoSuchOption banana
bad_case "boolean given a number" 'CollectCPU 42' CollectCPU 42
bad_case "boolean given a word" 'CollectMemory "maybe"' CollectMemory maybe
bad_case "path given a number" 'CgroupRoot 5' CgroupRoot 5
bad_case "invalid container regex" 'Container "/[/"' Container '/[/'
bad_case "invalid interface regex" 'Interface "/(/"' Interface '/(/'
bad_case "CgroupRoot does not exist" 'CgroupRoot "/nonexistent"' CgroupRoot /nonexistent
bad_case "ProcRoot does not exist" 'ProcRoot "/nonexistent"' ProcRoot /nonexistent
bad_case "relative CgroupRoot" 'CgroupRoot "sys/fs/cgroup"' CgroupRoot sys/fs/cgroup
bad_case "relative ProcRoot" 'ProcRoot "proc"' ProcRoot proc
bad_case "CgroupRoot without a cgroup hierarchy" "CgroupRoot \"$EMPTY_ROOT\"" CgroupRoot "$EMPTY_ROOT"

# collectd itself accepts a quoted "yes" for a boolean (with a deprecation warning): not an error.
echo "--- accepted: CollectCPU \"yes\""
rm -rf "$WORK/csv" "$WORK/collectd.log" && mkdir -p "$WORK/csv"
write_bad_config '  CollectCPU "yes"
  Container "/^no-such-container-name$/"'
if start_collectd; then
  sleep 2.5
  check "CollectCPU \"yes\": collectd keeps running" kill -0 "$COLLECTD_PID"
  check "CollectCPU \"yes\": no ERROR from the container plugin" \
    test -z "$(grep -F '[error]' "$WORK/collectd.log" | grep -F 'container plugin')"
  check "CollectCPU \"yes\": the container plugin started" \
    grep -q 'container plugin: .* layout under' "$WORK/collectd.log"
  stop_collectd
else
  fail "CollectCPU \"yes\": collectd starts"
fi
finish
