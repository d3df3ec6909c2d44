#!/bin/bash
# Builds every fuzz target with clang (libFuzzer + ASan + UBSan) in a temporary directory,
# replays the saved regression inputs (fuzz/regressions/<target>/), then fuzzes each target for
# SECONDS_PER_TARGET (default 10) from seeds built out of the fixture trees (make-corpus.sh).
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Environment: FUZZ_JOBS (targets fuzzed at once, default 2), FUZZ_CORPUS (a directory that keeps
# each target's grown corpus between runs, default: a temporary one), FUZZ_SAVE=0 (do not copy
# new crash inputs into fuzz/regressions/), CC (default clang).
# Prints each target's exec count; exits non-zero if a build, a regression input or a fuzz run
# fails (crash, leak, timeout, out-of-memory, sanitizer report).
set -u
SECS=${1:-10}
shift || true
cd "$(dirname "$0")/.."
TOP=$(pwd)
CC=${CC:-clang}
JOBS=${FUZZ_JOBS:-2}
ALL="cgroup_v1 cgroup_v2 proc_cgroup procstate hoststat docker_config podman_json k8s_log identify
cgroupstats taskstats netns_link partitions"
TARGETS=${*:-$ALL}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found"; exit 1; }
W=$(mktemp -d /tmp/collectd-container-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT

NL_CFLAGS=$(pkg-config --cflags libnl-genl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
CFLAGS="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
-fno-omit-frame-pointer -Wall -Wextra -Isrc -Ifuzz $NL_CFLAGS"
WRAP=-Wl,--wrap=read_file_at

sources() { # the src/ files and libraries each target links
  case $1 in
  cgroup_v2) echo "src/cgroup_v2.c src/cgread.c src/cgfiles.c src/util.c $WRAP" ;;
  cgroup_v1) echo "src/cgroup_v1.c src/cgread.c src/cgfiles.c src/util.c $WRAP" ;;
  proc_cgroup) echo "src/proccgroup.c src/util.c" ;;
  procstate) echo "src/procstate.c src/cgfiles.c src/util.c" ;;
  hoststat) echo "src/hoststat.c" ;;
  taskstats) echo "src/taskstats.c src/genl.c src/util.c -lnl-genl-3 -lnl-3 -lpthread" ;;
  docker_config | podman_json | k8s_log | identify)
    echo "src/names.c src/identify.c src/util.c -ljansson -lpthread" ;;
  cgroupstats) echo "src/cgroupstats.c src/genl.c -lnl-genl-3 -lnl-3 -lpthread" ;;
  netns_link) echo "src/netns.c src/util.c -lnl-3 -lpthread" ;;
  partitions) echo "src/blockdev.c src/util.c -lpthread" ;;
  *) return 1 ;;
  esac
}

build() { # build TARGET
  local t=$1 src
  src=$(sources "$t") || { echo "unknown target $t"; return 1; }
  # shellcheck disable=SC2086
  $CC $CFLAGS -o "$W/bin/fuzz_$t" "fuzz/fuzz_$t.c" $src >"$W/build-$t.log" 2>&1
}

mkdir -p "$W/bin"
echo "=== building $(echo $TARGETS | wc -w) fuzz targets with $($CC --version | head -n 1)"
export -f build sources
export CC CFLAGS WRAP W
if ! echo $TARGETS | tr ' ' '\n' | xargs -P "$JOBS" -I{} bash -c 'build {}'; then
  for t in $TARGETS; do
    [ -x "$W/bin/fuzz_$t" ] || { echo "--- build of fuzz_$t failed:"; cat "$W/build-$t.log"; }
  done
  echo "fuzz: FAILED (build)"
  exit 1
fi

# Leak checks on; a parser must also answer quickly (-timeout) and within bounded memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FAILED=0

echo "=== replaying regression inputs"
for t in $TARGETS; do
  files=$(find "fuzz/regressions/$t" -type f 2>/dev/null | sort)
  [ -n "$files" ] || continue
  # shellcheck disable=SC2086
  if "$W/bin/fuzz_$t" -runs=1 $files >"$W/replay-$t.log" 2>&1; then
    echo "ok: $t: $(echo "$files" | wc -l) regression inputs"
  else
    echo "FAIL: $t: a regression input fails again:"
    grep -E 'ERROR|SUMMARY|Running:' "$W/replay-$t.log" | tail -n 20
    FAILED=$((FAILED + 1))
  fi
done

echo "=== seed corpora"
"$TOP/fuzz/make-corpus.sh" "$W/seeds" "$W/tools" | tr '\n' ' ' || { echo "fuzz: FAILED (corpus)"; exit 1; }
echo

fuzz_one() { # fuzz_one TARGET SECONDS
  local t=$1 corpus=${FUZZ_CORPUS:-$W/corpus}/$1
  mkdir -p "$corpus" "$W/art/$t"
  "$W/bin/fuzz_$t" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$W/art/$t/" "$corpus" "$W/seeds/$t" >"$W/fuzz-$t.log" 2>&1
  echo $? >"$W/rc-$t"
}
export -f fuzz_one
export FUZZ_CORPUS=${FUZZ_CORPUS:-}
echo "=== fuzzing each target for ${SECS}s ($JOBS at a time)"
echo $TARGETS | tr ' ' '\n' | xargs -P "$JOBS" -I{} bash -c "fuzz_one {} $SECS"

TOTAL=0
for t in $TARGETS; do
  log=$W/fuzz-$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  corp=$(find "${FUZZ_CORPUS:-$W/corpus}/$t" -type f | wc -l)
  rc=$(cat "$W/rc-$t" 2>/dev/null || echo 1)
  arts=$(find "$W/art/$t" -type f 2>/dev/null)
  if [ "$rc" -eq 0 ] && [ -z "$arts" ]; then
    printf 'ok: %-14s %10s execs  %-9s corpus %d\n' "$t" "${execs:-?}" "${cov:-}" "$corp"
    TOTAL=$((TOTAL + ${execs:-0}))
  else
    printf 'FAIL: %-12s %10s execs (exit %s)\n' "$t" "${execs:-?}" "$rc"
    grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written|deadly signal|timeout' "$log" | head -n 12
    if [ "${FUZZ_SAVE:-1}" = 1 ] && [ -n "$arts" ]; then
      mkdir -p "fuzz/regressions/$t"
      cp $arts "fuzz/regressions/$t/"
      echo "  saved as regression inputs: $(for a in $arts; do echo -n "fuzz/regressions/$t/$(basename "$a") "; done)"
    fi
    FAILED=$((FAILED + 1))
  fi
done
echo "fuzz: $(echo $TARGETS | wc -w) targets, $TOTAL execs in total, $FAILED failed"
[ "$FAILED" -eq 0 ]
