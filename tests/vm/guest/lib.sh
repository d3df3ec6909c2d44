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
kread() { cat "$(kpath "$@")"; }
# kkey FILE KEY: the value after "KEY" (space- or '='-separated) in a flat keyed file.
kkey() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i+1); exit } }' FS='[ =]' "$1"; }

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
ctr_pids() { cat "$(kpath pids "$1" cgroup.procs)"; }
ctr_threads() { if [ "$VM_LAYOUT" = v2 ]; then cat "$CG/$1/cgroup.threads"; else cat "$CG/pids/$1/tasks"; fi; }

ctr_remove() { # ctr_remove REL: rmdir in every hierarchy
  local c
  if [ "$VM_LAYOUT" = v2 ]; then rmdir "$CG/$1"; else
    for c in "${V1_CONTROLLERS[@]}"; do rmdir "$CG/$c/$1"; done
  fi
}

# last_row INSTANCE TYPE-INSTANCE: the newest CSV row, "epoch,v1[,v2...]".
last_row() { csv_rows "$1" "$2" | tail -n 1; }
# col ROW N: the N-th value of a row (1 = the first value after the time), as an integer.
col() { echo "$1" | cut -d, -f$(($2 + 1)) | cut -d. -f1; }

# wait_rows INSTANCE TYPE-INSTANCE N TIMEOUT: wait for N more rows than now.
wait_rows() {
  local base
  base=$(csv_rows "$1" "$2" | wc -l)
  wait_for_csv "$1" "$2" $((base + $3)) "$4"
}

# same WHAT CSV_VALUE KERNEL_VALUE [TOLERANCE] (a check line with both numbers, also listed in
# the identifier table at the end).
IDS=()
same() {
  local what=$1 got=$2 want=$3 tol=${4:-0}
  IDS+=("$what = $got (kernel: $want)")
  check "$what: plugin $got, kernel $want (+-$tol)" \
    awk -v a="$got" -v b="$want" -v t="$tol" 'BEGIN{ d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'
}

# dispatched INSTANCE: every identifier collectd wrote for the container (type-type_instance).
dispatched() {
  ls -1 "$WORK/csv/$TESTHOST/container-$1" 2>/dev/null | sed 's/-[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]$//' | sort -u
}

# stop_ctr REL / cont_ctr REL: SIGSTOP / SIGCONT every process of the container.
stop_ctr() { local p; for p in $(ctr_pids "$1"); do kill -STOP "$p"; done; }
cont_ctr() { local p; for p in $(ctr_pids "$1"); do kill -CONT "$p"; done; }
