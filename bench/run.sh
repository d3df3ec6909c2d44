#!/bin/bash
# bench/run.sh: what does collectd-container cost per container, next to netdata's cgroups
# collector and collectd's own cgroups plugin? See bench/README.md.
#
#   bench/run.sh [options] [N...]        default N: 100 500 1000 2000
#     --quick            N = 50 200, short warm-up and window (smoke test, ~3 min)
#     --measure S        measuring window per run (default 20 s; quick: 6 s)
#     --warmup S         warm-up after the containers are all registered (default 5 s; quick: 2 s)
#     --groups-at N      run the per-metric-group breakdown at this N (default 500, or the
#                        largest N <= 500 on the command line); --no-groups to skip it
#     --no-netdata       skip netdata (no apt-get install)
#     --no-compact       skip the compact-mode runs (compact-N, ccalib-N; they are also skipped
#                        when contrib/container-types.db is missing or the plugin has no Compact key)
#     --perf             after the measured window of the all-groups run at the largest N,
#                        record 8 s of `perf record --call-graph dwarf` on collectd and print the top symbols
#     --ab OTHER_SO      compare two builds instead: for each N, alternate collectd runs with
#                        PLUGIN_SO (A) and OTHER_SO (B), every group on, on the same containers,
#                        --rounds times (default 3); prints both costs and B/A per round
#     --sweep            thread sweep: --sweep-n containers (default 100) of T threads each, for T in
#                        --sweep-threads (default "1 10 50 200"); prints µs per container and per thread
#     --mix              realistic containers: --mix-n (default 100), a quarter of them with 50 threads,
#                        a tenth with 10 processes, the rest one sleeping thread
#                        (with --sweep or --mix and no N given, the N runs are skipped)
#     --no-floor         do not measure the floor (the same reads in a hot loop, bench/floor.c)
#     --keep             keep the work directory (logs, configs, raw numbers)
#     --cleanup-stale    remove what a killed earlier run left behind (bench cgroups, processes)
#     --report DIR       print the tables again from a work directory kept with --keep
#   Environment: PLUGIN_SO (the built container.so; default: .libs/container.so in the source
#   or build directory), COLLECTD_BIN (default /usr/sbin/collectd), BENCH_PLUGIN_OPTIONS (extra
#   lines for the <Plugin container> block of every run, e.g. "MaxOpenFiles 0"),
#   AB_OPTIONS (extra lines for B only, with --ab: OTHER_SO may be PLUGIN_SO itself), AB_WRITE_THREADS
#   (collectd's WriteThreads for B only),
#   BENCH_READ_THREADS / BENCH_WRITE_THREADS (collectd's ReadThreads / WriteThreads, default 5).
#
# Needs root: it creates cgroups, network namespaces and dummy interfaces, and switches
# kernel.task_delayacct on (restored at exit). Everything it makes is removed at exit, also on
# Ctrl-C or error.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")
COLLECTD_BIN=${COLLECTD_BIN:-/usr/sbin/collectd}
CGROOT=/sys/fs/cgroup
CLK_TCK=$(getconf CLK_TCK)
PREFIX=beec # every bench container id starts with it (ids are hex)

SWEEP=0 SWEEP_N=100 SWEEP_THREADS="1 10 50 200" MIX=0 MIX_N=100 NO_FLOOR=0
AB_SO="" ROUNDS=3 REPORT_DIR="" QUICK=0 MEASURE="" WARMUP="" GROUPS_AT="" NO_GROUPS=0 NO_NETDATA=0 NO_COMPACT=0 PERF=0 KEEP=0 STALE=0
NS=()
while [ $# -gt 0 ]; do
  case $1 in
  --quick) QUICK=1 ;;
  --measure) MEASURE=$2; shift ;;
  --warmup) WARMUP=$2; shift ;;
  --groups-at) GROUPS_AT=$2; shift ;;
  --no-groups) NO_GROUPS=1 ;;
  --no-netdata) NO_NETDATA=1 ;;
  --no-compact) NO_COMPACT=1 ;;
  --perf) PERF=1 ;;
  --keep) KEEP=1 ;;
  --sweep) SWEEP=1 ;;
  --sweep-n) SWEEP_N=$2; shift ;;
  --sweep-threads) SWEEP_THREADS=$2; shift ;;
  --mix) MIX=1 ;;
  --mix-n) MIX_N=$2; shift ;;
  --no-floor) NO_FLOOR=1 ;;
  --ab) AB_SO=$2; shift ;;
  --rounds) ROUNDS=$2; shift ;;
  --cleanup-stale) STALE=1 ;;
  --report) REPORT_DIR=$2; shift ;;
  -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
  [0-9]*) NS+=("$1") ;;
  *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$AB_SO" ] && NO_NETDATA=1 NO_GROUPS=1 NO_COMPACT=1 SWEEP=0 MIX=0 # only the two builds
WL_ONLY=0 # --sweep / --mix without N: only those
if [ ${#NS[@]} -eq 0 ] && [ $((SWEEP + MIX)) -gt 0 ]; then
  WL_ONLY=1 NO_NETDATA=1 NO_GROUPS=1 NO_COMPACT=1
  NS=(0)
elif [ ${#NS[@]} -eq 0 ]; then
  if [ $QUICK -eq 1 ]; then NS=(50 200); else NS=(100 500 1000 2000); fi
fi
SYSCALL_WINDOW=3
if [ $QUICK -eq 1 ]; then : "${MEASURE:=6}" "${WARMUP:=2}"; else : "${MEASURE:=20}" "${WARMUP:=5}"; fi
mapfile -t NS < <(printf '%s\n' "${NS[@]}" | sort -n -u)
NMAX=${NS[${#NS[@]} - 1]}
if [ -z "$GROUPS_AT" ]; then
  GROUPS_AT=${NS[0]}
  for n in "${NS[@]}"; do [ "$n" -le 500 ] && GROUPS_AT=$n; done
fi
[ $NO_GROUPS -eq 1 ] && GROUPS_AT=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
COLLECTD_BIN=${COLLECTD_BIN:-/usr/sbin/collectd}

[ "$(id -u)" -eq 0 ] || die "needs root (creates cgroups and network namespaces)"

# ---- hierarchies: every v1 controller the plugin reads, plus the unified tree ----
HIER=()
if [ -f "$CGROOT/cgroup.controllers" ]; then
  HIER=("$CGROOT") # pure v2
else
  declare -A seen_h=()
  for c in cpu cpuacct memory blkio pids unified; do
    [ -d "$CGROOT/$c" ] || continue
    real=$(realpath "$CGROOT/$c")
    [ -n "${seen_h[$real]:-}" ] && continue # cpu and cpuacct may be one mount
    seen_h[$real]=1
    HIER+=("$real")
  done
fi
[ ${#HIER[@]} -gt 0 ] || die "no cgroup hierarchy under $CGROOT"

stale_cleanup() {
  local h d p n=0
  for h in "${HIER[@]}"; do
    for d in "$h"/docker/"$PREFIX"*; do
      [ -d "$d" ] || continue
      while read -r p; do kill -9 "$p" 2>/dev/null; done <"$d/cgroup.procs" 2>/dev/null
    done
  done
  sleep 1
  for h in "${HIER[@]}"; do
    for d in "$h"/docker/"$PREFIX"*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null && n=$((n + 1)); done
  done
  log "removed $n stale bench cgroups"
  rm -rf /dev/shm/cc-bench.* 2>/dev/null
}
if [ $STALE -eq 1 ]; then stale_cleanup; exit 0; fi

# ---- the plugin ----
if [ -z "$REPORT_DIR" ]; then
if [ -z "${PLUGIN_SO:-}" ]; then
  for f in "$TOP/.libs/container.so" "$TOP/build/.libs/container.so"; do
    [ -f "$f" ] && PLUGIN_SO=$f && break
  done
fi
[ -f "${PLUGIN_SO:-}" ] || die "container.so not found: build it and set PLUGIN_SO=/path/to/.libs/container.so"
[ -z "$AB_SO" ] || [ -f "$AB_SO" ] || die "--ab: $AB_SO not found"
[ -x "$COLLECTD_BIN" ] || die "collectd not found ($COLLECTD_BIN): apt-get install collectd-core"
[ -f /usr/include/collectd/core/daemon/plugin.h ] || die "collectd headers missing: apt-get install collectd-dev"
command -v gcc >/dev/null || die "gcc missing"

# Metric groups this build of the plugin knows (config keys found in the .so).
ALL_GROUPS=()
PLUGIN_STRINGS=$(strings "$PLUGIN_SO")
for g in CPU Memory Blkio Pids Pressure Load Network Delay; do
  grep -x "Collect$g" <<<"$PLUGIN_STRINGS" >/dev/null && ALL_GROUPS+=("$g")
done

# Compact mode (one value list per metric group): needs the plugin's Compact key and its types file.
COMPACT_TYPES="$TOP/contrib/container-types.db" COMPACT_RUN=0 COMPACT_SKIP=""
if [ $NO_COMPACT -eq 1 ]; then
  COMPACT_SKIP="--no-compact"
elif [ ! -f "$COMPACT_TYPES" ]; then
  COMPACT_SKIP="$COMPACT_TYPES does not exist"
elif ! grep -x "Compact" <<<"$PLUGIN_STRINGS" >/dev/null; then
  COMPACT_SKIP="$PLUGIN_SO has no Compact option"
else
  COMPACT_RUN=1
fi
fi

# ---- state for cleanup ----
if [ -n "$REPORT_DIR" ]; then
  W=$REPORT_DIR KEEP=1
  [ -f "$W/res/meta" ] || die "$W/res/meta missing: not a work directory kept by --keep"
  COMPACT_RUN=0 COMPACT_SKIP="a work directory from before compact runs" # the default for older directories
  # shellcheck source=/dev/null
  . "$W/res/meta"
else
  W=$(mktemp -d /dev/shm/cc-bench.XXXXXX)
fi
TAG=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n') # 8 hex, unique per run
IDS=() PIDS=() MADE_DIRS=() DAEMON_PID="" DAEMON_KIND="" OLD_DELAYACCT="" CLEANED=0
declare -A ND_SHM_BEFORE=()
for f in /dev/shm/netdata_shm_cgroup_ebpf /dev/shm/sem.netdata_sem_cgroup_ebpf; do
  [ -e "$f" ] && ND_SHM_BEFORE[$f]=1
done

stop_daemon() {
  [ -n "$DAEMON_PID" ] || return 0
  local pid=$DAEMON_PID kids i
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { log "$DAEMON_KIND $pid did not stop in 30 s: SIGKILL"; kill -9 "$pid"; }
  wait "$pid" 2>/dev/null
  for i in $kids; do kill -9 "$i" 2>/dev/null; done # e.g. netdata's spawn server
  DAEMON_PID=""
}

# Workload containers (--sweep, --mix): made for a step, removed after it.
WL_PIDS=() WL_DIRS=() WL_IDS=() WL_SERIAL=0
drop_workload() {
  [ ${#WL_PIDS[@]} -gt 0 ] && { kill -9 "${WL_PIDS[@]}" 2>/dev/null; wait "${WL_PIDS[@]}" 2>/dev/null; }
  local d i id
  for d in "${WL_DIRS[@]}"; do
    for ((i = 0; i < 50; i++)); do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.1; done
  done
  for id in "${WL_IDS[@]}"; do rm -rf "${W:?}/docker/containers/$id"; done
  WL_PIDS=() WL_DIRS=() WL_IDS=()
}

cleanup() {
  [ $CLEANED -eq 1 ] && return 0
  CLEANED=1
  trap '' INT TERM
  [ -n "$REPORT_DIR" ] || log "cleaning up"
  stop_daemon
  drop_workload
  if [ ${#PIDS[@]} -gt 0 ]; then
    kill -9 "${PIDS[@]}" 2>/dev/null
    wait "${PIDS[@]}" 2>/dev/null
  fi
  local i
  for ((i = ${#MADE_DIRS[@]} - 1; i >= 0; i--)); do echo "${MADE_DIRS[$i]}"; done |
    xargs -r rmdir 2>/dev/null
  [ -n "$OLD_DELAYACCT" ] && sysctl -q kernel.task_delayacct="$OLD_DELAYACCT"
  # netdata's cgroups plugin leaves its eBPF shared memory behind: remove it if it was not there.
  local f
  for f in /dev/shm/netdata_shm_cgroup_ebpf /dev/shm/sem.netdata_sem_cgroup_ebpf; do
    [ -e "$f" ] && [ -z "${ND_SHM_BEFORE[$f]:-}" ] && rm -f "$f"
  done
  if [ $KEEP -eq 1 ]; then [ -n "$REPORT_DIR" ] || log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

if [ -z "$REPORT_DIR" ]; then
mkdir -p "$W/plugins" "$W/docker/containers" "$W/res"
log "work directory $W, plugin $PLUGIN_SO, hierarchies: ${HIER[*]}"
if [ "$WL_ONLY" -eq 1 ]; then log "N runs: none (--sweep/--mix only)"; else log "N = ${NS[*]}"; fi
log "warm-up ${WARMUP} s, window ${MEASURE} s per run; groups: ${ALL_GROUPS[*]}"
if [ "$COMPACT_RUN" -eq 1 ]; then
  log "compact mode: compact-N and ccalib-N runs after every all-N (types: $COMPACT_TYPES)"
else
  log "compact mode: runs skipped ($COMPACT_SKIP)"
fi

# collectd refuses symlinked plugins: copy.
cp "$PLUGIN_SO" "$W/plugins/container.so"
for p in logfile cgroups; do cp "/usr/lib/collectd/$p.so" "$W/plugins/"; done
# The types file is copied too: the runs use the snapshot taken with the .so.
[ "$COMPACT_RUN" -eq 1 ] && cp "$COMPACT_TYPES" "$W/plugins/container-types.db"
gcc -O2 -g -Wall -Wextra -shared -fPIC -DHAVE_CONFIG_H -I/usr/include/collectd \
  -I/usr/include/collectd/core -I/usr/include/collectd/core/daemon \
  -o "$W/plugins/dispatch_calibrate.so" "$HERE/dispatch_calibrate.c" ||
  die "cannot build bench/dispatch_calibrate.c"
mkdir -p "$W/bin"
gcc -O2 -Wall -Wextra -o "$W/bin/holder" "$HERE/holder.c" -lpthread || die "cannot build bench/holder.c"
# The floor program links the collectd-free core of the build PLUGIN_SO comes from
# (BUILD/.libs/container.so, BUILD/.libs/libcontainer_core.a), with that build's headers.
FLOOR_BIN=""
build_floor() {
  local b s
  b=$(dirname "$(dirname "$PLUGIN_SO")")
  if [ ! -f "$b/.libs/libcontainer_core.a" ] || [ ! -f "$b/Makefile" ]; then
    log "floor: no libcontainer_core.a in $b: the floor is not measured"
    return 0
  fi
  s=$(awk '$1 == "abs_top_srcdir" { print $3 }' "$b/Makefile")
  # shellcheck disable=SC2046 # the build's flags, split into words on purpose
  if gcc -std=gnu11 -O2 -Wall -Wextra -I"$s/src" -I"$b" \
    $(awk -F' = ' '$1 ~ /^(LIBNL_GENL_CFLAGS|JANSSON_CFLAGS)$/ { print $2 }' "$b/Makefile") \
    -o "$W/bin/floor" "$HERE/floor.c" "$b/.libs/libcontainer_core.a" \
    $(awk -F' = ' '$1 ~ /^(LIBNL_GENL_LIBS|JANSSON_LIBS)$/ { print $2 }' "$b/Makefile") \
    -lpthread -lm 2>"$W/floor-build.log"; then
    FLOOR_BIN="$W/bin/floor"
  else
    log "floor: bench/floor.c does not build against $s (see $W/floor-build.log): not measured"
  fi
}
[ $NO_FLOOR -eq 0 ] && build_floor
# The BPF comparison (bench/taskiter.c), where clang, bpftool, libbpf and the kernel's BTF are.
TASKITER_BIN=""
build_taskiter() {
  local b=$W/bin
  if ! command -v clang >/dev/null || ! command -v bpftool >/dev/null ||
    [ ! -f /usr/include/bpf/libbpf.h ] || [ ! -f /sys/kernel/btf/vmlinux ]; then
    log "taskiter: needs clang, bpftool, libbpf-dev and the kernel's BTF: skipped"
    return 0
  fi
  if bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$b/vmlinux.h" 2>"$W/taskiter-build.log" &&
    clang -O2 -g -Wall -target bpf -D__TARGET_ARCH_x86 -I"$b" -c "$HERE/taskiter.bpf.c" -o "$b/taskiter.bpf.o" 2>>"$W/taskiter-build.log" &&
    bpftool gen skeleton "$b/taskiter.bpf.o" name taskiter_bpf >"$b/taskiter.skel.h" 2>>"$W/taskiter-build.log" &&
    gcc -O2 -Wall -Wextra -I"$b" -o "$b/taskiter" "$HERE/taskiter.c" -lbpf 2>>"$W/taskiter-build.log"; then
    TASKITER_BIN=$b/taskiter
  else
    log "taskiter: does not build (see $W/taskiter-build.log): skipped"
  fi
}
[ $NO_FLOOR -eq 0 ] && build_taskiter
if [ -n "$AB_SO" ]; then # B: the same plugin directory but its container.so
  cp -r "$W/plugins" "$W/plugins-b"
  cp "$AB_SO" "$W/plugins-b/container.so"
fi

OLD_DELAYACCT=$(sysctl -n kernel.task_delayacct 2>/dev/null)
[ -n "$OLD_DELAYACCT" ] && sysctl -q kernel.task_delayacct=1

if [ $NO_NETDATA -eq 0 ] && ! command -v netdata >/dev/null; then
  log "netdata not installed: apt-get install netdata (the service is not started by this script)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q netdata >"$W/apt.log" 2>&1 ||
    { log "apt-get install netdata failed (see $W/apt.log): netdata skipped"; NO_NETDATA=1; }
fi
fi

# ---- fake containers ----
TFILE=tasks # a cgroup's thread list in HIER[0]
[ -f "$CGROOT/cgroup.controllers" ] && TFILE=cgroup.threads
# Id: PREFIX + 8 hex index + 8 hex run tag + 44 hex: the first 12 hex digits (what tools print as
# the short id) differ per container.
make_containers() { # make_containers UPTO
  local upto=$1 i id h new=() dirs=() pid
  for ((i = ${#IDS[@]}; i < upto; i++)); do
    printf -v id '%s%08x%s%044x' "$PREFIX" "$i" "$TAG" "$i"
    IDS+=("$id")
    new+=("$id")
  done
  [ ${#new[@]} -gt 0 ] || return 0
  for h in "${HIER[@]}"; do
    if [ ! -d "$h/docker" ]; then mkdir "$h/docker" && MADE_DIRS+=("$h/docker"); fi
    for id in "${new[@]}"; do dirs+=("$h/docker/$id"); done
  done
  printf '%s\n' "${dirs[@]}" | xargs mkdir || die "cannot create cgroups"
  MADE_DIRS+=("${dirs[@]}")
  i=$((${#IDS[@]} - ${#new[@]}))
  for id in "${new[@]}"; do
    if ((i % 4 == 3)); then
      # A quarter in their own network namespace with an interface eth0 that is up.
      # (a bridge where the kernel has no dummy driver: either is one idle non-loopback link)
      unshare --net -- sh -c '{ ip link add eth0 type dummy || ip link add eth0 type bridge; } &&
        ip link set eth0 up; exec sleep 1000000' </dev/null >/dev/null 2>&1 &
    else
      # shellcheck disable=SC2217 # stdin detached from the terminal on purpose
      sleep 1000000 </dev/null >/dev/null 2>&1 &
    fi
    pid=$!
    PIDS+=("$pid")
    for h in "${HIER[@]}"; do echo "$pid" >"$h/docker/$id/cgroup.procs" || die "cannot move $pid"; done
    mkdir "$W/docker/containers/$id"
    printf '{"ID":"%s","Name":"/bench-%d","State":{"Running":true}}' "$id" "$i" \
      >"$W/docker/containers/$id/config.v2.json"
    i=$((i + 1))
  done
  sleep 1 # let the namespaces get their interfaces
}

# make_workload LIST KIND COUNT THREADS PROCS: COUNT more containers of PROCS processes of
# THREADS threads each (bench/holder.c: idle threads in futex waits), every fourth in its own
# network namespace, as make_containers does; appends "KIND docker/ID" lines to LIST (the
# floor's input). Ids: PREFIX + 8 hex from 80000000 up + the run tag, apart from make_containers'.
make_workload() {
  local list=$1 kind=$2 count=$3 threads=$4 procs=$5 i j id h pid pids
  for ((i = 0; i < count; i++)); do
    printf -v id '%s%08x%s%044x' "$PREFIX" $((0x80000000 + WL_SERIAL)) "$TAG" "$WL_SERIAL"
    WL_IDS+=("$id")
    for h in "${HIER[@]}"; do
      if [ ! -d "$h/docker" ]; then mkdir "$h/docker" && MADE_DIRS+=("$h/docker"); fi
      mkdir "$h/docker/$id" || die "cannot create cgroup $h/docker/$id"
      WL_DIRS+=("$h/docker/$id")
    done
    pids=()
    for ((j = 0; j < procs; j++)); do
      if ((j == 0 && WL_SERIAL % 4 == 3)); then
        # shellcheck disable=SC2016 # $0 and $1 are the inner shell's
        unshare --net -- sh -c '{ ip link add eth0 type dummy || ip link add eth0 type bridge; } &&
          ip link set eth0 up; exec "$0" "$1"' "$W/bin/holder" "$threads" </dev/null >/dev/null 2>&1 &
      else
        "$W/bin/holder" "$threads" </dev/null >/dev/null 2>&1 &
      fi
      pid=$!
      pids+=("$pid")
      WL_PIDS+=("$pid")
    done
    for h in "${HIER[@]}"; do
      for pid in "${pids[@]}"; do echo "$pid" >"$h/docker/$id/cgroup.procs" || die "cannot move $pid"; done
    done
    mkdir -p "$W/docker/containers/$id"
    printf '{"ID":"%s","Name":"/bench-wl-%d","State":{"Running":true}}' "$id" "$WL_SERIAL" \
      >"$W/docker/containers/$id/config.v2.json"
    echo "$kind docker/$id" >>"$list"
    WL_SERIAL=$((WL_SERIAL + 1))
  done
}

# wait_threads LIST PER: until the containers of LIST hold PER threads each on average (the
# holders start theirs after they were moved: cgroup.procs moves every thread of a process).
wait_threads() {
  local list=$1 want=$2 i have
  for ((i = 0; i < 100; i++)); do
    have=$(awk '{ print $2 }' "$list" | sed "s|^|${HIER[0]}/|; s|\$|/$TFILE|" | xargs cat 2>/dev/null | wc -l)
    [ "$have" -ge "$want" ] && return 0
    sleep 0.2
  done
  log "only $have of $want threads started"
}

# run_floor NAME LIST: bench/floor.c on LIST's containers for MEASURE s (no daemon running).
run_floor() {
  [ -n "$FLOOR_BIN" ] || return 0
  # The groups that "CollectX false" in BENCH_PLUGIN_OPTIONS switches off, off in the floor too.
  local off="" g
  for g in Load Delay Network; do
    [[ ${BENCH_PLUGIN_OPTIONS:-} =~ Collect${g}[[:space:]]+false ]] && off+="$g "
  done
  FLOOR_OFF=$off "$FLOOR_BIN" "$MEASURE" <"$2" >"$W/res/$1.floor" 2>"$W/res/$1.floor.err" ||
    log "floor ($1) failed: $(head -3 "$W/res/$1.floor.err")"
  log "$1 floor: $(tr '\n' ' ' <"$W/res/$1.floor")"
}
# run_taskiter NAME LIST: the BPF pass of bench/taskiter.c on LIST's containers for MEASURE s.
run_taskiter() {
  [ -n "$TASKITER_BIN" ] || return 0
  local root=${HIER[${#HIER[@]} - 1]} # the unified tree (hybrid) or the v2 root: the default hierarchy
  [ -f "$CGROOT/cgroup.controllers" ] || [ -d "$CGROOT/unified" ] || return 0
  "$TASKITER_BIN" "$MEASURE" "$root" <"$2" >"$W/res/$1.taskiter" 2>&1 || log "taskiter ($1) failed"
  log "$1 taskiter: $(tr '\n' ' ' <"$W/res/$1.taskiter")"
}

floor_get() { # floor_get NAME KIND: µs per container per read of that kind (all: every kind)
  awk -v k="$2" '$1 == "floor" && $2 == k { print $8; f = 1 } END { if (!f) print "nan" }' "$W/res/$1.floor" 2>/dev/null || echo nan
}

# ---- measuring ----
# snap PID FILE [UNTIL]: process CPU ticks and wall time (read with builtins only, right after
# waiting until the wall time UNTIL), then per-thread ticks.
snap() {
  local pid=$1 out=$2 until=${3:-} s t c n now
  if [ -n "$until" ]; then
    # Sleep to an absolute time: the window is exactly MEASURE s long, so it holds the same
    # number of once-per-interval bursts of work whatever its phase.
    now=$EPOCHREALTIME
    sleep "$(awk -v u="$until" -v n="$now" 'BEGIN { d = u - n; printf "%.6f", (d > 0 ? d : 0) }')"
  fi
  read -r s <"/proc/$pid/stat" || return 1
  now=$EPOCHREALTIME
  # shellcheck disable=SC2086 # split into the stat fields after "(comm) "
  set -- ${s##*) }
  {
    echo "proc $((${12} + ${13})) $now"
    # Per thread: schedstat's first field, the exact run time in ns; its third, how many times
    # the thread was switched in (each a wake-up: costly on a virtual machine).
    for t in /proc/"$pid"/task/*; do
      if ! read -r s _ n <"$t/schedstat" || ! read -r c <"$t/comm"; then continue; fi
      echo "thread ${t##*/} ${c// /_} $s $n"
    done
  } >"$out"
}

# slab: kernel slab memory "Slab SUnreclaim" in KiB (/proc/meminfo, whole machine). Run right
# before a daemon starts (res/NAME.slab0) and at the end of its window.
slab() { awk '$1 == "Slab:" { s = $2 } $1 == "SUnreclaim:" { u = $2 } END { print s + 0, u + 0 }' /proc/meminfo; }

# measure NAME PID [COUNTFILE]: waits the window, writes res/NAME with rate figures, the open
# fds of the daemon at the end of the window and the slab change since res/NAME.slab0.
measure() {
  local name=$1 pid=$2 count=${3:-} c0="" c1=""
  snap "$pid" "$W/res/$name.t0" || return 1
  [ -n "$count" ] && c0=$(cat "$count" 2>/dev/null)
  local t0
  t0=$(awk '$1 == "proc" { print $3 }' "$W/res/$name.t0")
  snap "$pid" "$W/res/$name.t1" "$(awk -v t="$t0" -v m="$MEASURE" 'BEGIN { printf "%.6f", t + m }')" || return 1
  [ -n "$count" ] && c1=$(cat "$count" 2>/dev/null)
  local hwm fds slab1 nofile
  hwm=$(awk '/^VmHWM/{print $2}' /proc/"$pid"/status)
  fds=$(find /proc/"$pid"/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  slab1=$(slab)
  nofile=$(awk '/^Max open files/ { print $4, $5 }' /proc/"$pid"/limits)
  # The count file says "lists values time" as of its last update (once per interval): the
  # list rate comes from its own timestamps.
  awk -v tck="$CLK_TCK" -v c0="${c0:-0 0 0}" -v c1="${c1:-0 0 1}" -v hwm="$hwm" -v fds="$fds" \
    -v s0="$(cat "$W/res/$name.slab0" 2>/dev/null)" -v s1="$slab1" -v nofile="$nofile" '
    FNR == NR && $1 == "proc" { p0 = $2; w0 = $3; next }
    FNR == NR && $1 == "thread" { t0[$2] = $4; n0[$2] = $5; next }
    $1 == "proc" { p1 = $2; w1 = $3; next }
    $1 == "thread" { cls = $3; gsub(/[#0-9]+$/, "", cls); d[cls] += $4 - t0[$2]; seen[cls] = 1; sw += $5 - n0[$2]; swc[cls] += $5 - n0[$2]; next }
    END {
      wall = w1 - w0
      split(c0, a, " "); split(c1, b, " "); cw = b[3] - a[3]; if (cw <= 0) cw = 1
      printf "wall %.3f\ncpu_us_per_s %.1f\nlists_per_s %.2f\nvalues_per_s %.2f\nhwm_kib %d\n",
        wall, (p1 - p0) * 1e6 / tck / wall, (b[1] - a[1]) / cw, (b[2] - a[2]) / cw, hwm
      # the writer plugin'"'"'s mallinfo2, collectd'"'"'s whole heap: the smaller of the two ends of the
      # window (lists waiting in the write queue at that moment add to it)
      if (b[4] != "") printf "heap_bytes %s\n", (a[4] != "" && a[4] + 0 < b[4] + 0 ? a[4] : b[4])
      for (k in seen) printf "thread_us_per_s:%s %.1f\n", k, d[k] / 1000 / wall
      printf "switches_per_s %.1f\n", sw / wall
      for (k in seen) printf "switches_per_s:%s %.1f\n", k, swc[k] / wall
      printf "fds %d\n", fds
      if (split(nofile, z, " ") == 2) printf "nofile_soft %s\nnofile_hard %s\n", z[1], z[2]
      if (split(s0, x, " ") == 2 && split(s1, y, " ") == 2)
        printf "slab0_kib %d\nslab_kib %d\nsunreclaim0_kib %d\nsunreclaim_kib %d\nslab_delta_kib %d\nsunreclaim_delta_kib %d\n",
          x[1], y[1], x[2], y[2], y[1] - x[1], y[2] - x[2]
    }' "$W/res/$name.t0" "$W/res/$name.t1" >"$W/res/$name"
}
get() { # get RUN KEY [DEFAULT]
  awk -v k="$2" -v def="${3:-nan}" '$1 == k { print $2; f = 1 } END { if (!f) print def }' \
    "$W/res/$1" 2>/dev/null || echo "${3:-nan}"
}

# ---- collectd runs ----
# run_collectd NAME N_EXPECTED "CALIB_OPTS" "PLUGIN_BLOCKS" ["GLOBAL_LINES" (after TypesDB)]
run_collectd() {
  local name=$1 expect=$2 calib=$3 body=$4 global=${5:-}
  local d="$W/$name"
  mkdir -p "$d"
  cat >"$d/collectd.conf" <<CONF
Hostname "benchhost"
FQDNLookup false
Interval 1
ReadThreads ${BENCH_READ_THREADS:-5}
WriteThreads ${BENCH_WRITE_THREADS:-5}
PluginDir "${PLUGIN_DIR:-$W/plugins}"
BaseDir "$d"
PIDFile "$d/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
$global
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$d/collectd.log"
  Timestamp true
</Plugin>
# The only writer: counts value lists (atomic increments, no I/O).
LoadPlugin dispatch_calibrate
<Plugin dispatch_calibrate>
  CountFile "$d/count"
$calib
</Plugin>
$body
CONF
  slab >"$W/res/$name.slab0"
  # Open-file limit as a systemd service gets it (LimitNOFILE=1024:524288): soft 1024, which the
  # plugin raises itself when it keeps cgroup files open; hard 524288 where this shell may raise
  # it (in a container often not: then the inherited hard limit, shown in the table header).
  (
    ulimit -Hn 524288 2>/dev/null
    ulimit -Sn 1024
    exec "$COLLECTD_BIN" -f -C "$d/collectd.conf"
  ) >"$d/stdout" 2>&1 &
  DAEMON_PID=$! DAEMON_KIND=collectd
  local i t_start=$SECONDS
  sleep 1
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$d/stdout" "$d/collectd.log" >&2; die "collectd ($name) did not start"; }
  if [ "$expect" -gt 0 ]; then # the plugin notifies every container it registers
    for ((i = 0; i < 600; i++)); do
      [ "$(grep -c 'container appeared' "$d/collectd.log")" -ge "$expect" ] && break
      sleep 0.2
    done
  fi
  local reg=$((SECONDS - t_start))
  sleep "$WARMUP"
  measure "$name" "$DAEMON_PID" "$d/count" || die "collectd ($name) died"
  echo "registered_s $reg" >>"$W/res/$name"
  # System calls: on a virtual machine each costs microseconds, so their count per container is
  # the steadiest figure of the plugin's cost. Counted after the CPU window (counting slows them).
  if command -v perf >/dev/null; then
    perf stat -x, -e raw_syscalls:sys_enter -p "$DAEMON_PID" -- sleep "$SYSCALL_WINDOW" 2>&1 >/dev/null |
      awk -F, -v w="$SYSCALL_WINDOW" '$3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { printf "syscalls_per_s %.1f\n", $1 / w }' >>"$W/res/$name"
  fi
  echo "containers $(grep -c 'container appeared' "$d/collectd.log")" >>"$W/res/$name"
  if [ $PERF -eq 1 ] && [ "$name" = "all-$NMAX" ] && command -v perf >/dev/null; then
    log "perf record (8 s) on $name"
    # DWARF unwinding: collectd and libc are built without frame pointers.
    perf record -q -F 499 --call-graph dwarf,16384 -p "$DAEMON_PID" -o "$W/perf.data" -- sleep 8 >/dev/null 2>&1
    perf report -i "$W/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -40 >"$W/perf-symbols.txt"
    perf report -i "$W/perf.data" --no-children --sort comm --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -15 >"$W/perf-threads.txt"
  fi
  stop_daemon
  {
    echo "late_reads $(grep -c 'above its read interval' "$d/collectd.log")"
    echo "late_max_s $(grep -o 'took [0-9.]* seconds, which is above' "$d/collectd.log" |
      awk '{ if ($2 > m) m = $2 } END { print m + 0 }')"
    echo "errors $(grep -ciE '\[error\]' "$d/collectd.log")"
    # The plugin falls back to the standard lists when its compact types are not loaded.
    [[ $name == compact-* ]] && echo "compact_refused $(grep -c 'Compact true: type' "$d/collectd.log")"
  } >>"$W/res/$name"
  grep -iE '\[error\]|above its read interval' "$d/collectd.log" | head -3 | sed "s/^/  $name: /" >&2
  log "$name: $(tr '\n' ' ' <"$W/res/$name" | sed "s/thread_us_per_s:/t:/g; s/switches_per_s:/sw:/g")"
}

# callbacks_for N: how many read callbacks the plugin registers for N containers (the
# calibration dispatches from as many): ContainersPerCallback from BENCH_PLUGIN_OPTIONS, else
# the plugin's default 64 (1 for builds without the option).
callbacks_for() {
  local per=64
  grep -x "ContainersPerCallback" <<<"$PLUGIN_STRINGS" >/dev/null || per=1
  [[ ${BENCH_PLUGIN_OPTIONS:-} =~ ContainersPerCallback[[:space:]]+([0-9]+) ]] && per=${BASH_REMATCH[1]}
  echo $(((($1 + per - 1) / per)))
}

container_block() { # container_block [--compact] GROUP...: those groups on, the others off
  local g on compact=0
  [ "${1:-}" = --compact ] && { compact=1; shift; }
  echo "LoadPlugin container"
  echo "<Plugin container>"
  echo "  DockerRoot \"$W/docker\""
  echo "  Container \"/^bench-/\""
  [ $compact -eq 1 ] && echo "  Compact true"
  for g in "${ALL_GROUPS[@]}"; do
    on=false
    [[ " $* " == *" $g "* || " $* " == *" all "* ]] && on=true
    echo "  Collect$g $on"
  done
  # BENCH_PLUGIN_OPTIONS: extra lines for experiments, e.g. "MaxOpenFiles 0". Last, so that
  # they can also switch a group off ("CollectNetwork false": the later line wins).
  [ -n "${BENCH_PLUGIN_OPTIONS:-}" ] && printf '  %s\n' "$BENCH_PLUGIN_OPTIONS"
  [ -n "${PLUGIN_OPTIONS_RUN:-}" ] && printf '  %s\n' "$PLUGIN_OPTIONS_RUN"
  echo "</Plugin>"
}

cgroups_block() {
  printf 'LoadPlugin cgroups\n<Plugin cgroups>\n  CGroup "/^%s[0-9a-f]{8}%s/"\n</Plugin>\n' "$PREFIX" "$TAG"
}

# ---- netdata runs ----
ND_PORT=$((20000 + RANDOM % 20000))
run_netdata() { # run_netdata NAME CGROUPS(yes|no) N_EXPECTED
  local name=$1 on=$2 expect=$3 d="$W/$1"
  mkdir -p "$d"/{etc,cache,lib,log,run}
  touch "$d/etc/.opt-out-from-anonymous-statistics"
  local auto="" k
  for k in "cpuacct stat (total CPU)" "cpuacct usage (per core CPU)" "memory" "detailed memory" \
    "memory limits fail count" "swap memory" "blkio bandwidth" "blkio operations" \
    "blkio throttle bandwidth" "blkio throttle operations" "blkio queued operations" \
    "blkio merged operations" "cpu pressure" "io some pressure" "io full pressure" \
    "memory some pressure" "memory full pressure"; do
    auto+="	enable $k = yes"$'\n'
  done
  cat >"$d/etc/netdata.conf" <<CONF
[global]
	run as user = root
	hostname = benchhost
	update every = 1
[directories]
	config = $d/etc
	cache = $d/cache
	lib = $d/lib
	log = $d/log
	run = $d/run
[db]
	mode = ram
[web]
	bind to = 127.0.0.1:$ND_PORT
[registry]
	enabled = no
[ml]
	enabled = no
[health]
	enabled = no
[statsd]
	enabled = no
[plugins]
	cgroups = $on
	proc = no
	diskspace = no
	tc = no
	idlejitter = no
	apps = no
	python.d = no
	go.d = no
	charts.d = no
	perf = no
	slabinfo = no
	ebpf = no
	timex = no
	checks = no
	fping = no
	ioping = no
	nfacct = no
	cups = no
	freeipmi = no
	enable running new plugins = no
[plugin:cgroups]
	update every = 1
	check for new cgroups every = 2
	use unified cgroups = no
	max cgroups to allow = 100000
	enable by default cgroups matching = /docker/$PREFIX* !*
	run script to rename cgroups matching = !*
	script to get cgroup network interfaces =
$auto
CONF
  slab >"$W/res/$name.slab0"
  DO_NOT_TRACK=1 netdata -c "$d/etc/netdata.conf" -D >"$d/stdout" 2>&1 &
  DAEMON_PID=$! DAEMON_KIND=netdata
  local i found=0 t_start=$SECONDS
  for ((i = 0; i < 100; i++)); do
    curl -sf "http://127.0.0.1:$ND_PORT/api/v1/info" >/dev/null 2>&1 && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { tail "$d/stdout" "$d/log/error.log" >&2; die "netdata ($name) did not start"; }
    sleep 0.2
  done
  nd_charts() {
    curl -sf "http://127.0.0.1:$ND_PORT/api/v1/charts" 2>/dev/null |
      jq -r --arg p "$PREFIX" '.charts | to_entries[] | select(.key | test("^cgroup_.*" + $p)) |
        "\(.key | split(".")[0]) \(.value.dimensions | length)"'
  }
  if [ "$expect" -gt 0 ]; then
    for ((i = 0; i < 300; i++)); do
      found=$(nd_charts | awk '{ print $1 }' | sort -u | wc -l)
      [ "$found" -ge "$expect" ] && break
      sleep 1
    done
    [ "$found" -ge "$expect" ] || log "netdata found only $found of $expect containers"
  fi
  local reg=$((SECONDS - t_start))
  # netdata stores the metadata of new charts in SQLite for a while after discovery (thread
  # METASYNC): a longer warm-up keeps that out of the steady-state figure.
  sleep "$((WARMUP * 3))"
  measure "$name" "$DAEMON_PID" || die "netdata ($name) died"
  {
    echo "registered_s $reg"
    nd_charts | awk '{ c[$1] = 1; d += $2 } END { n = length(c); printf "containers %d\ncharts %d\ndims %d\n", n, NR, d }'
  } >>"$W/res/$name"
  stop_daemon
  log "$name: $(tr '\n' ' ' <"$W/res/$name" | sed "s/thread_us_per_s:/t:/g; s/switches_per_s:/sw:/g")"
}

# ---- the runs ----
if [ -n "$REPORT_DIR" ]; then :; else
T_BEGIN=$SECONDS
log "baseline: collectd with no read plugin but the counting writer"
run_collectd base 0 "" ""
if [ $NO_NETDATA -eq 0 ]; then
  log "baseline: netdata with the cgroups plugin off"
  run_netdata nd-base no 0
fi

# run_workload NAME COUNT: collectd with every group on, its calibration, and the floor, on the
# workload containers made just before (their list in $W/NAME.list).
run_workload() {
  local name=$1 count=$2 l
  run_collectd "$name" "$count" "" "$(container_block all)"
  l=$(get "$name" lists_per_s | awk '{ printf "%d", $1 + 0.5 }')
  log "$name: calibration: $l value lists per interval from $(callbacks_for "$count") callbacks"
  run_collectd "$name-cal" 0 "  Lists $l
  Instances $(callbacks_for "$count")
  MetaFirst true" ""
  run_floor "$name" "$W/$name.list"
  run_taskiter "$name" "$W/$name.list"
}
if [ $SWEEP -eq 1 ]; then
  for T in $SWEEP_THREADS; do
    log "sweep: $SWEEP_N containers of $T threads"
    make_workload "$W/sweep-$T.list" "threads$T" "$SWEEP_N" "$T" 1
    wait_threads "$W/sweep-$T.list" $((SWEEP_N * T))
    run_workload "sweep-$T" "$SWEEP_N"
    drop_workload
  done
fi
if [ $MIX -eq 1 ]; then
  MIX_T=$((MIX_N / 4)) MIX_P=$((MIX_N / 10))
  MIX_S=$((MIX_N - MIX_T - MIX_P))
  log "mix: $MIX_N containers: $MIX_T of 50 threads, $MIX_P of 10 processes, $MIX_S sleepers"
  make_workload "$W/mix.list" sleeper "$MIX_S" 1 1
  make_workload "$W/mix.list" threads50 "$MIX_T" 50 1
  make_workload "$W/mix.list" procs10 "$MIX_P" 1 10
  wait_threads "$W/mix.list" $((MIX_S + MIX_T * 50 + MIX_P * 10))
  run_workload mix "$MIX_N"
  drop_workload
fi

for N in "${NS[@]}"; do
  [ $WL_ONLY -eq 1 ] && break
  log "creating containers up to $N"
  make_containers "$N"
  if [ -n "$AB_SO" ]; then # alternate A and B: both see the same drift of a shared machine
    for ((r = 1; r <= ROUNDS; r++)); do
      log "N=$N: round $r: A ($PLUGIN_SO)"
      run_collectd "abA$r-$N" "$N" "" "$(container_block all)"
      log "N=$N: round $r: B ($AB_SO)"
      PLUGIN_DIR="$W/plugins-b" BENCH_WRITE_THREADS=${AB_WRITE_THREADS:-${BENCH_WRITE_THREADS:-5}} \
        run_collectd "abB$r-$N" "$N" "" "$(PLUGIN_OPTIONS_RUN=${AB_OPTIONS:-} container_block all)"
    done
    continue
  fi
  log "N=$N: collectd-container, every group on"
  run_collectd "all-$N" "$N" "" "$(container_block all)"
  if [ "$COMPACT_RUN" -eq 1 ]; then
    log "N=$N: collectd-container, every group on, Compact true"
    run_collectd "compact-$N" "$N" "" "$(container_block --compact all)" \
      "TypesDB \"$W/plugins/container-types.db\""
  fi
  L=$(get "all-$N" lists_per_s | awk '{ printf "%d", $1 + 0.5 }')
  CB=$(callbacks_for "$N")
  log "N=$N: calibration: $L value lists per interval from $CB callbacks, no I/O"
  run_collectd "calib-$N" 0 "  Lists $L
  Instances $CB
  MetaFirst true" ""
  for ((i = 0; i < N; i++)); do echo "sleeper docker/${IDS[$i]}"; done >"$W/all-$N.list"
  log "N=$N: the floor (the same reads in a hot loop, no collectd)"
  run_floor "all-$N" "$W/all-$N.list"
  if [ "$COMPACT_RUN" -eq 1 ]; then
    L=$(get "compact-$N" lists_per_s | awk '{ printf "%d", $1 + 0.5 }')
    log "N=$N: calibration for compact mode: $L value lists per interval from $CB callbacks"
    run_collectd "ccalib-$N" 0 "  Lists $L
  Instances $CB
  MetaFirst true" ""
  fi
  log "N=$N: collectd's cgroups plugin"
  run_collectd "cgroups-$N" 0 "" "$(cgroups_block)"
  if [ $NO_NETDATA -eq 0 ]; then
    log "N=$N: netdata cgroups collector"
    run_netdata "nd-$N" yes "$N"
  fi
  if [ "$N" -eq "$GROUPS_AT" ]; then
    for g in none "${ALL_GROUPS[@]}"; do
      log "N=$N: group $g alone"
      run_collectd "grp-$g-$N" "$N" "" "$(container_block "$g")"
    done
  fi
done
T_RUN=$((SECONDS - T_BEGIN))
AB_OPTIONS=${AB_OPTIONS:-} AB_WRITE_THREADS=${AB_WRITE_THREADS:-}
declare -p SWEEP SWEEP_N SWEEP_THREADS MIX MIX_N WL_ONLY AB_SO AB_OPTIONS AB_WRITE_THREADS ROUNDS NS GROUPS_AT ALL_GROUPS T_RUN MEASURE WARMUP NMAX NO_NETDATA COMPACT_RUN COMPACT_SKIP >"$W/res/meta"
fi

# ---- the tables ----
# row_container KIND N L0 CALIB: one row of the table for KIND-N (all or compact), dispatch from
# the calibration run CALIB-N. Figures missing from older work directories print as '-'.
row_container() {
  local N=$2 l0=$3 cal=$4 r="$1-$2"
  awk -v N="$N" -v l0="$l0" -v base="$(get base cpu_us_per_s)" -v a="$(get "$r" cpu_us_per_s)" \
    -v c="$(get "$cal-$N" cpu_us_per_s)" -v l="$(get "$r" lists_per_s)" -v v="$(get "$r" values_per_s)" \
    -v h="$(get "$r" hwm_kib)" -v hb="$(get base hwm_kib)" -v late="$(get "$r" late_reads)" \
    -v lm="$(get "$r" late_max_s)" -v seen="$(get "$r" containers)" \
    -v fds="$(get "$r" fds -)" -v sd="$(get "$r" slab_delta_kib -)" -v ud="$(get "$r" sunreclaim_delta_kib -)" \
    -v refused="$(get "$r" compact_refused 0)" -v soft="$(get "$r" nofile_soft -)" \
    -v tr="$(get "$r" thread_us_per_s:reader 0)" -v tw="$(get "$r" thread_us_per_s:writer 0)" \
    -v br="$(get base thread_us_per_s:reader 0)" -v bw="$(get base thread_us_per_s:writer 0)" \
    -v sc="$(get "$r" syscalls_per_s -)" -v sb="$(get base syscalls_per_s 0)" '
    function mib(x) { return x == "-" ? "-" : sprintf("%+.1f", x / 1024) }
    BEGIN {
      # reads: the share of the expected container reads done (lists per container relative to
      # the smallest N); below 100% collectd could not keep up and the figures are per read done.
      f = (l0 > 0 ? l / N / l0 : 1); if (f > 1 || f <= 0) f = 1
      tot = (a - base) / N / f; disp = (c - base) / N / f
      rd = (tr - br) / N / f; wr = (tw - bw) / N / f
      printf "%6d %5.0f%% %8.1f %9.1f %8.1f %9.2f %9.2f %10.1f %9.2f %6s %9s %9s %6s %8s %.0f/%.0f/%.0f%s%s%s\n", N, f * 100, tot, disp, tot - disp,
        l / N, v / N, (h - hb) / 1024, (h - hb) / N, fds, mib(sd), mib(ud),
        late (late > 0 ? " (max " lm " s)" : ""), (sc == "-" ? "-" : sprintf("%.1f", (sc - sb) / N / f)), rd, wr, tot - rd - wr,
        (seen < N ? "  (only " seen " containers registered)" : ""),
        (refused > 0 ? "  (Compact refused by the plugin: see the log)" : ""),
        (fds != "-" && soft ~ /^[0-9]+$/ && fds + 64 >= soft + 0 ? "  (fds at the open-file limit " soft ")" : "")
    }'
}

# cost_row LABEL RUN CAL N: one row of the floor tables: µs per container per read of RUN above
# the baseline (total), of its calibration CAL (dispatch), own = total - dispatch, the floor of
# the same containers (bench/floor.c), own/floor, value lists per container, the heap per
# container (KiB: the plugin's = RUN - CAL, collectd's value cache and queue = CAL - base, the
# floor's sample states alone), and late reads.
cost_row() {
  local label=$1 run=$2 cal=$3 N=$4
  awk -v lab="$label" -v N="$N" -v b="$(get base cpu_us_per_s)" -v a="$(get "$run" cpu_us_per_s)" \
    -v c="$(get "$cal" cpu_us_per_s)" -v fl="$(floor_get "$run" all)" -v l="$(get "$run" lists_per_s)" \
    -v ha="$(get "$run" heap_bytes)" -v hc="$(get "$cal" heap_bytes)" -v hb="$(get base heap_bytes)" \
    -v fh="$(awk '$1 == "heap_bytes_per_container" { print $2 }' "$W/res/$run.floor" 2>/dev/null)" \
    -v late="$(get "$run" late_reads)" -v seen="$(get "$run" containers)" \
    -v fds="$(get "$run" fds -)" -v ud="$(get "$run" sunreclaim_delta_kib -)" '
    function num(x) { return x != "" && x != "nan" && x != "-" }
    function f1(x, ok) { return ok ? sprintf("%.1f", x) : "-" }
    BEGIN {
      t = (a - b) / N; d = (c - b) / N; o = t - d
      printf "%8s %8.1f %9.1f %8.1f %8s %9s %9.2f %10s %10s %9s %6s %8s %5s%s\n", lab, t, d, o, f1(fl, num(fl)),
        (num(fl) && fl > 0 ? sprintf("%.2f", o / fl) : "-"), l / N,
        f1((ha - hc) / N / 1024, num(ha) && num(hc)), f1((hc - hb) / N / 1024, num(hc) && num(hb)),
        f1(fh / 1024, num(fh)), fds, (num(ud) ? sprintf("%+.1f", ud / 1024) : "-"), late,
        (seen < N ? "  (only " seen " containers registered)" : "")
    }'
}
COST_HDR='%8s %8s %9s %8s %8s %9s %9s %10s %10s %9s %6s %8s %5s\n'
COST_COLS=(run total dispatch own floor own/floor lists/ctr "heap plug" "heap cache" "heap flr" fds "unrecl+" late)

# taskiter_line sweep T... | taskiter_line mix: the BPF pass's cost per container, if it ran.
taskiter_line() {
  local kind=$1 T out="" f
  shift
  if [ "$kind" = mix ]; then set -- ""; fi
  for T in "$@"; do
    f=$W/res/$kind${T:+-$T}.taskiter
    [ -s "$f" ] || continue
    out+=$(awk -v T="$T" '$1 == "taskiter" { printf "%s%s µs per container (%s per pass; R %s S %s D %s)", (T != "" ? "T=" T ": " : ""), $9, $7, $11, $13, $15 }' "$f")"; "
  done
  [ -n "$out" ] || return 0
  echo "BPF task iterator (bench/taskiter.c: one pass over every task on the host, counts per container"
  echo "cgroup; the load sample's part only, against floor/thr x threads): ${out%; }"
}

# wl_report: the thread sweep and the mix.
wl_report() {
  local T t0="" r
  [ $((${SWEEP:-0} + ${MIX:-0})) -gt 0 ] || return 0
  echo
  echo "Realistic containers (bench/holder.c: idle threads in futex waits), every group on, delay accounting"
  echo "on, Interval 1; µs of collectd CPU per container per read above the baseline; floor: the same reads"
  echo "in a hot loop without collectd (bench/floor.c); heap KiB per container: plug = the plugin's"
  echo "(run - calibration), cache = collectd's value cache and queues (calibration - baseline), flr = the"
  echo "floor program's sample states; fds: collectd's open fds; unrecl+: the machine's unreclaimable slab"
  echo "change over the run, MiB (kept fds' kernel buffers: each kept /proc/TID/stat fd holds one)"
  if [ "${SWEEP:-0}" -eq 1 ]; then
    echo
    echo "thread sweep: $SWEEP_N containers of T threads each (one process per container)"
    # shellcheck disable=SC2059 # the format is a constant
    printf "$COST_HDR" "${COST_COLS[@]}"
    for T in $SWEEP_THREADS; do cost_row "T=$T" "sweep-$T" "sweep-$T-cal" "$SWEEP_N"; done | tee "$W/res/sweep.rows"
    echo "per thread: the change from T=${SWEEP_THREADS%% *} divided by the threads added (µs per thread per read)"
    printf '%8s %10s %10s %10s %10s\n' T "total/thr" "floor/thr" "own/thr" "x T=${SWEEP_THREADS%% *}"
    for T in $SWEEP_THREADS; do
      if [ -z "$t0" ]; then t0=$T; continue; fi
      awk -v T="$T" -v t0="$t0" -v a="$(awk -v r="T=$T" '$1 == r' "$W/res/sweep.rows")" \
        -v z="$(awk -v r="T=$t0" '$1 == r' "$W/res/sweep.rows")" 'BEGIN {
        split(a, x, " "); split(z, y, " "); n = T - t0
        fl = (x[5] != "-" && y[5] != "-") ? sprintf("%.2f", (x[5] - y[5]) / n) : "-"
        printf "%8d %10.2f %10s %10.2f %10.2f\n", T, (x[2] - y[2]) / n, fl, (x[4] - y[4]) / n, (y[2] > 0 ? x[2] / y[2] : 0) }'
    done
    # shellcheck disable=SC2086 # one argument per T
    taskiter_line sweep $SWEEP_THREADS
  fi
  if [ "${MIX:-0}" -eq 1 ]; then
    echo
    r=$(awk '{ c[$1]++ } END { for (k in c) printf "%s%d %s", (n++ ? ", " : ""), c[k], k }' "$W/mix.list" 2>/dev/null)
    echo "mix: $MIX_N containers ($r)"
    # shellcheck disable=SC2059
    printf "$COST_HDR" "${COST_COLS[@]}"
    cost_row mix mix mix-cal "$MIX_N"
    echo "floor by kind, µs per container per read: $(awk '$1 == "floor" && $2 != "all" { printf "%s%s %s", (n++ ? ", " : ""), $2, $8 }' "$W/res/mix.floor" 2>/dev/null)"
    taskiter_line mix
  fi
}

report_head() {
  echo "collectd-container benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs,"
  awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo
  echo "collectd $("$COLLECTD_BIN" -h 2>&1 | awk '/^collectd/{sub(/,$/, "", $2); print $2; exit}'), Interval 1, ReadThreads ${BENCH_READ_THREADS:-5}, WriteThreads ${BENCH_WRITE_THREADS:-5}; window ${MEASURE} s after ${WARMUP} s warm-up; run time ${T_RUN} s"
  echo "groups on: ${ALL_GROUPS[*]} (kernel.task_delayacct=1); baseline collectd: $(printf %.0f "$(get base cpu_us_per_s)") µs CPU/s, VmHWM $(get base hwm_kib) KiB, heap $(get base heap_bytes -) bytes, $(get base fds -) fds"
}

report() {
  local base ndbase
  base=$(get base cpu_us_per_s)
  ndbase=$(get nd-base cpu_us_per_s)
  report_head
  awk -v sd="$(get base slab_delta_kib -)" -v ud="$(get base sunreclaim_delta_kib -)" 'BEGIN {
    printf "fds: open fds of collectd at the end of the window, raw (the baseline'"'"'s count above); slab+, unrecl+: change\n"
    printf "of the machine'"'"'s Slab / SUnreclaim (/proc/meminfo) from just before collectd started to the end of the\n"
    if (sd == "-") print "window, MiB, raw (not baseline-subtracted; the baseline run has no figure)"
    else printf "window, MiB, raw (not baseline-subtracted; the baseline run'"'"'s own change, i.e. the noise: %+.1f / %+.1f MiB)\n", sd / 1024, ud / 1024
  }'
  if [ "$(get "all-$NMAX" nofile_soft -)" != - ]; then
    local lim="" r
    for r in base "all-$NMAX" "compact-$NMAX"; do
      [ -f "$W/res/$r" ] && lim+=" $r $(get "$r" nofile_soft)/$(get "$r" nofile_hard),"
    done
    echo "collectd started with open-file limit soft 1024 (as under systemd); soft/hard at the end of the window:${lim%,}"
  fi
  local hdr='%6s %6s %8s %9s %8s %9s %9s %10s %9s %6s %9s %9s %6s %8s %s\n'
  local cols=(N reads total dispatch own lists/ctr values/ctr "RSS+ MiB" "KiB/ctr" fds "slab+ MiB" "unrecl+" late "sys/ctr" "reader/writer/other µs per ctr")
  echo
  echo "collectd-container, every group on (µs of collectd CPU per container per read, baseline subtracted)"
  # shellcheck disable=SC2059 # the format is a constant
  printf "$hdr" "${cols[@]}"
  local l0
  l0=$(awk -v l="$(get "all-${NS[0]}" lists_per_s)" -v n="${NS[0]}" 'BEGIN { print l / n }')
  for N in "${NS[@]}"; do row_container all "$N" "$l0" calib; done
  echo
  echo "the same runs against the floor (the same reads in a hot loop without collectd, bench/floor.c) and"
  echo "heap KiB per container (plug: the plugin's, all-N - calib-N; cache: collectd's value cache and"
  echo "queues, calib-N - base; flr: the floor program's sample states); targets: own <= 1.3 x floor, plug <= 4"
  # shellcheck disable=SC2059 # the format is a constant
  printf "$COST_HDR" "${COST_COLS[@]}"
  for N in "${NS[@]}"; do cost_row "N=$N" "all-$N" "calib-$N" "$N"; done
  if [ "$COMPACT_RUN" -eq 1 ]; then
    echo
    echo "compact mode: the same, plus Compact true (one value list per metric group); dispatch from ccalib-N:"
    echo "the compact run's number of lists from the same number of callbacks (the calibration's 1-2-value types, so the"
    echo "per-value part of dispatching the compact run's wider lists is not in it)"
    # shellcheck disable=SC2059
    printf "$hdr" "${cols[@]}"
    l0=$(awk -v l="$(get "compact-${NS[0]}" lists_per_s)" -v n="${NS[0]}" 'BEGIN { print l / n }')
    for N in "${NS[@]}"; do row_container compact "$N" "$l0" ccalib; done
    local ratios=""
    for N in "${NS[@]}"; do
      ratios+=$(awk -v N="$N" -v b="$base" -v a="$(get "all-$N" cpu_us_per_s)" -v c="$(get "compact-$N" cpu_us_per_s)" \
        'BEGIN { printf " N=%d %.2f", N, (a - b > 0 ? (c - b) / (a - b) : 0) }')
    done
    echo "compact/all, CPU per second above baseline:$ratios"
  else
    echo
    echo "compact mode: not run (${COMPACT_SKIP:-?})"
  fi
  if [ $NO_NETDATA -eq 0 ]; then
    echo
    echo "peers on the same containers (µs of CPU per container per collection, baseline subtracted)"
    printf '%6s %9s %9s %8s %9s %10s %9s %9s %11s %11s\n' N container netdata "nd thr" "nd vals" "nd KiB/ctr" cgroups "cg lists" "nd/contnr" "contnr/cg"
    for N in "${NS[@]}"; do
      awk -v N="$N" -v base="$base" -v ndb="$ndbase" -v a="$(get "all-$N" cpu_us_per_s)" \
        -v l="$(get "all-$N" lists_per_s)" -v l0="$l0" \
        -v nd="$(get "nd-$N" cpu_us_per_s)" -v ndt="$(get "nd-$N" 'thread_us_per_s:PLUGIN[cgroups]' 0)" \
        -v dims="$(get "nd-$N" dims)" -v ndc="$(get "nd-$N" containers)" -v ndh="$(get "nd-$N" hwm_kib)" \
        -v ndhb="$(get nd-base hwm_kib)" -v cg="$(get "cgroups-$N" cpu_us_per_s)" \
        -v cgl="$(get "cgroups-$N" lists_per_s)" '
        BEGIN {
          f = (l0 > 0 ? l / N / l0 : 1); if (f > 1 || f <= 0) f = 1
          t = (a - base) / N / f; n = (nd - ndb) / N; g = (cg - base) / N
          printf "%6d %9.1f %9.1f %8.1f %9.1f %10.0f %9.1f %9.2f %11.2f %11.2f%s\n", N, t, n, ndt / N,
            (ndc > 0 ? dims / ndc : 0), (ndh - ndhb) / N, g, cgl / N, (t > 0 ? n / t : 0), (g > 0 ? t / g : 0),
            (ndc < N ? "  (netdata collected only " ndc ")" : "")
        }'
    done
  else
    echo
    echo "collectd cgroups plugin (µs per container per read): "
    for N in "${NS[@]}"; do
      awk -v N="$N" -v base="$base" -v cg="$(get "cgroups-$N" cpu_us_per_s)" -v cgl="$(get "cgroups-$N" lists_per_s)" \
        'BEGIN { printf "  N=%d: %.1f µs, %.2f lists\n", N, (cg - base) / N, cgl / N }'
    done
  fi
  if [ "$GROUPS_AT" -gt 0 ]; then
    local N=$GROUPS_AT
    echo
    local d
    d=$(awk -v b="$base" -v c="$(get "calib-$N" cpu_us_per_s)" -v l="$(get "calib-$N" lists_per_s)" 'BEGIN { printf "%.2f", (c - b) / l }')
    echo "one metric group at a time, N=$N (µs per container per read; dispatch = lists x $d µs, the"
    echo "calibrated cost per list at N=$N; 'none' = every group off: discovery and the callbacks alone)"
    printf '%10s %8s %9s %8s %9s %6s %9s %9s %6s\n' group total dispatch own lists/ctr fds "slab+ MiB" "unrecl+" late
    for g in none "${ALL_GROUPS[@]}"; do
      awk -v N="$N" -v g="$g" -v base="$base" -v a="$(get "grp-$g-$N" cpu_us_per_s)" \
        -v l="$(get "grp-$g-$N" lists_per_s)" -v d="$d" -v late="$(get "grp-$g-$N" late_reads)" \
        -v fds="$(get "grp-$g-$N" fds -)" -v sd="$(get "grp-$g-$N" slab_delta_kib -)" \
        -v ud="$(get "grp-$g-$N" sunreclaim_delta_kib -)" '
        function mib(x) { return x == "-" ? "-" : sprintf("%+.1f", x / 1024) }
        BEGIN {
          t = (a - base) / N; disp = l / N * d
          printf "%10s %8.1f %9.1f %8.1f %9.2f %6s %9s %9s %6s\n", g, t, disp, t - disp, l / N, fds, mib(sd), mib(ud), late
        }'
    done
  fi
  if [ -s "$W/perf-symbols.txt" ]; then
    echo
    echo "perf: collectd at N=$NMAX, every group on, top symbols (self time)"
    cat "$W/perf-symbols.txt"
    echo "perf: by thread"
    cat "$W/perf-threads.txt"
  fi
}
# ab_report: the --ab comparison, µs of collectd CPU per container per read above the baseline.
ab_report() {
  echo "collectd-container A/B, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs; every group on,"
  echo "Interval 1, window ${MEASURE} s after ${WARMUP} s warm-up, runs alternating A, B; run time ${T_RUN} s"
  echo "A: ${PLUGIN_SO:-?}"
  echo "B: $AB_SO${AB_OPTIONS:+, with: $AB_OPTIONS}${AB_WRITE_THREADS:+, WriteThreads $AB_WRITE_THREADS}"
  printf '%6s %6s %9s %9s %7s %9s %9s %9s %9s %9s %9s\n' N round "A µs" "B µs" "B/A" "A lists" "B lists" "A sys" "B sys" "A sw" "B sw"
  local N r base
  base=$(get base cpu_us_per_s)
  for N in "${NS[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do
      awk -v N="$N" -v r="$r" -v b="$base" -v a="$(get "abA$r-$N" cpu_us_per_s)" -v c="$(get "abB$r-$N" cpu_us_per_s)" \
        -v la="$(get "abA$r-$N" lists_per_s)" -v lb="$(get "abB$r-$N" lists_per_s)" \
        -v sa="$(get "abA$r-$N" syscalls_per_s)" -v sbb="$(get "abB$r-$N" syscalls_per_s)" -v s0="$(get base syscalls_per_s 0)" \
        -v wa="$(get "abA$r-$N" switches_per_s)" -v wb="$(get "abB$r-$N" switches_per_s)" -v w0="$(get base switches_per_s 0)" '
        BEGIN { x = (a - b) / N; y = (c - b) / N
                printf "%6d %6d %9.1f %9.1f %7.2f %9.2f %9.2f %9.1f %9.1f %9.1f %9.1f\n", N, r, x, y, (x > 0 ? y / x : 0), la / N, lb / N,
                  (sa - s0) / N, (sbb - s0) / N, (wa - w0) / N, (wb - w0) / N }'
    done | tee "$W/res/ab-$N.txt"
    sort -k5 -n "$W/res/ab-$N.txt" | awk -v N="$N" '{ v[NR] = $5 } END { printf "%6d median B/A %.2f\n", N, v[int((NR + 1) / 2)] }'
  done
}
if [ -n "$AB_SO" ]; then
  ab_report | tee "$W/res/report.txt"
elif [ "${WL_ONLY:-0}" -eq 1 ]; then
  report_head | tee "$W/res/report.txt"
  wl_report | tee -a "$W/res/report.txt"
else
  { report; wl_report; } | tee "$W/res/report.txt"
fi
