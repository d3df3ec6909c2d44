# Helpers for the guest tests (sourced; run inside the QEMU guest by run-tests.sh, on the layout
# in VM_LAYOUT: v2 or v1). Builds on the integration tests' lib.sh (collectd, CSV output).
: "${TOP_SRCDIR:?}" "${PLUGIN_SO:?}" "${VM_LAYOUT:?}"
. "$TOP_SRCDIR/tests/integration/lib.sh"
CG=/sys/fs/cgroup
V1_CONTROLLERS=(cpu,cpuacct memory blkio pids freezer)

T0=$SECONDS
phase() { echo "[$((SECONDS - T0)) s] $*"; }

# kpath CONTROLLER REL FILE: the kernel's file of that controller for cgroup REL.
kpath() {
  if [ "$VM_LAYOUT" = v2 ]; then echo "$CG/$2/$3"; else echo "$CG/$1/$2/$3"; fi
}
# The helpers below use bash builtins where they can: under emulation a fork and exec of a
# program costs about 0.1 s, and the checks make hundreds of reads.
kread() { local f; f=$(kpath "$@") && echo "$(<"$f")"; }
# kkey FILE KEY: the value after "KEY" (space- or '='-separated) in a flat keyed file.
kkey() {
  local line w i
  while IFS= read -r line; do
    w=(${line//=/ })
    for ((i = 0; i + 1 < ${#w[@]}; i++)); do
      [ "${w[$i]}" = "$2" ] && { echo "${w[$((i + 1))]}"; return 0; }
    done
  done <"$1"
  return 1
}

# ctr_make REL: the container's cgroup (v2: every controller enabled in each new parent).
ctr_make() {
  local rel=$1 c
  if [ "$VM_LAYOUT" = v2 ]; then
    local part="" p
    for p in ${rel//\// }; do
      part=${part:+$part/}$p
      if [ ! -d "$CG/$part" ]; then mkdir "$CG/$part" && CGROUPS_MADE+=("$CG/$part"); fi
      # Subtree control of every level above the container itself.
      [ "$part" = "$rel" ] || for c in $(cat "$CG/$part/cgroup.controllers"); do
        echo "+$c" >"$CG/$part/cgroup.subtree_control"
      done
    done
  else
    for c in "${V1_CONTROLLERS[@]}"; do make_cgroup "$rel" "$c"; done
  fi
}

# ctr_procs_files REL: every cgroup.procs a process of REL is written to.
ctr_procs_files() {
  local c
  if [ "$VM_LAYOUT" = v2 ]; then echo "$CG/$1/cgroup.procs"; else
    for c in "${V1_CONTROLLERS[@]}"; do echo "$CG/$c/$1/cgroup.procs"; done
  fi
}

# in_ctr REL CMD...: runs CMD in the background inside the container from its first instruction;
# its PID is in LAST_PID (and in PIDS_STARTED for cleanup).
in_ctr() {
  local rel=$1; shift
  bash -c 'for f in '"$(ctr_procs_files "$rel" | tr '\n' ' ')"'; do echo $$ >"$f"; done; exec "$@"' _ "$@" &
  LAST_PID=$!
  PIDS_STARTED+=("$LAST_PID")
}

# ctr_pids REL: the PIDs in the container's cgroup (v2 tree / v1 pids hierarchy).
ctr_pids() { echo "$(<"$(kpath pids "$1" cgroup.procs)")"; }
ctr_threads() { if [ "$VM_LAYOUT" = v2 ]; then echo "$(<"$CG/$1/cgroup.threads")"; else echo "$(<"$CG/pids/$1/tasks")"; fi; }

# tstate TID: the thread's state letter in /proc/TID/stat.
tstate() {
  local l
  read -r l <"/proc/$1/stat" 2>/dev/null || return 1
  l=${l##*) }
  echo "${l%% *}"
}

ctr_remove() { # ctr_remove REL: rmdir in every hierarchy
  local c
  if [ "$VM_LAYOUT" = v2 ]; then rmdir "$CG/$1"; else
    for c in "${V1_CONTROLLERS[@]}"; do rmdir "$CG/$c/$1"; done
  fi
}

# lib.sh's CSV helpers again, without programs.
csv_file() { # the newest CSV file of INSTANCE TYPE-INSTANCE
  local f last=""
  for f in "$WORK/csv/$TESTHOST/container-$1/$2"-[0-9][0-9][0-9][0-9]-*; do [ -e "$f" ] && last=$f; done
  [ -n "$last" ] && echo "$last"
}
csv_rows() {
  local f l
  f=$(csv_file "$1" "$2") || return 1
  while IFS= read -r l; do [[ $l == epoch* ]] || echo "$l"; done <"$f"
}
csv_count() {
  local f l n=0
  f=$(csv_file "$1" "$2") && while IFS= read -r l; do [[ $l == epoch* ]] || n=$((n + 1)); done <"$f"
  echo "$n"
}
wait_for_csv() { # INSTANCE TYPE-INSTANCE MIN_ROWS TIMEOUT_S
  local i
  for ((i = 0; i < $4 * 4; i++)); do
    [ "$(csv_count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.25
  done
  return 1
}
# last_row INSTANCE TYPE-INSTANCE: the newest CSV row, "epoch,v1[,v2...]".
last_row() {
  local f l last=""
  f=$(csv_file "$1" "$2") && while IFS= read -r l; do last=$l; done <"$f"
  echo "$last"
}
# col ROW N: the N-th value of a row (1 = the first value after the time), as an integer.
col() {
  local IFS=,
  local v=($1)
  v=${v[$2]:-}
  echo "${v%%.*}"
}

# wait_rows INSTANCE TYPE-INSTANCE N TIMEOUT: wait for N more rows than now.
wait_rows() {
  wait_for_csv "$1" "$2" $(($(csv_count "$1" "$2") + $3)) "$4"
}

# same WHAT CSV_VALUE KERNEL_VALUE [TOLERANCE] (a check line with both numbers, also listed in
# the identifier table at the end).
IDS=()
same() {
  local what=$1 got=$2 want=$3 tol=${4:-0}
  IDS+=("$what = $got (kernel: $want)")
  check "$what: plugin $got, kernel $want (+-$tol)" within "$got" "$want" "$tol"
}
within() { # within A B TOLERANCE: integers A and B differ by at most TOLERANCE
  [[ $1 =~ ^-?[0-9]+$ && $2 =~ ^-?[0-9]+$ ]] || return 1
  local d=$(($1 - $2))
  [ "${d#-}" -le "$3" ]
}

# dispatched INSTANCE: every identifier collectd wrote for the container (type-type_instance).
dispatched() {
  local f
  for f in "$WORK/csv/$TESTHOST/container-$1"/*; do
    [ -e "$f" ] && f=${f##*/} && echo "${f%-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]}"
  done | sort -u
}

# stop_ctr REL / cont_ctr REL: SIGSTOP / SIGCONT every process of the container.
stop_ctr() { local p; for p in $(ctr_pids "$1"); do kill -STOP "$p"; done; }
cont_ctr() { local p; for p in $(ctr_pids "$1"); do kill -CONT "$p"; done; }

# finish_with_ids: stops collectd, checks its log has no ERROR, lists the identifiers checked
# (IDS) against the kernel's files, and ends the test.
finish_with_ids() {
  stop_collectd
  check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
  errors_in_log | head -5
  echo "--- identifiers checked against the kernel's files ($VM_LAYOUT):"
  printf '  %s\n' "${IDS[@]}"
  finish
}
