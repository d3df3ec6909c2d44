#!/bin/bash
# A newcomer's first five minutes: the README's first command (contrib/quickstart.sh) in a clean
# checkout installs, builds and starts collectd; container values must appear within 30 s of
# collectd starting.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (the first command installs packages and runs collectd)"
[ -d /sys/fs/cgroup/cpu ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no cgroup tree"
# The newcomer's build is a plain one: the sanitizer build's run of the suite has nothing to add.
[ -z "${SAN_CFLAGS:-}" ] || skip "runs in the plain build's suite (a newcomer's build has no sanitizers)"

WORK=$(mktemp -d /tmp/collectd-container-quickstart.XXXXXX)
QS_PID=""
qs_cleanup() {
  [ -n "$QS_PID" ] && kill "$QS_PID" 2>/dev/null
  [ -f "$WORK/run/collectd.pid" ] && kill "$(cat "$WORK/run/collectd.pid")" 2>/dev/null
  sleep 1
  cleanup
}
trap qs_cleanup EXIT

# A clean checkout of what is committed (the tree under test, without any build output); from
# a release tarball (make distcheck: no git, a read-only tree), a writable copy of the tree.
if [ "$(git -C "$TOP_SRCDIR" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$TOP_SRCDIR" && pwd -P)" ]; then
  git clone -q "$TOP_SRCDIR" "$WORK/checkout" || { fail "clean checkout"; finish; exit; }
  if [ -n "$(git -C "$TOP_SRCDIR" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    # Uncommitted changes of a developer's tree are part of what is tested.
    git -C "$TOP_SRCDIR" diff HEAD | git -C "$WORK/checkout" apply - 2>/dev/null
  fi
elif [ -f "$TOP_SRCDIR/configure" ] && [ ! -f "$TOP_SRCDIR/config.status" ]; then
  cp -R "$TOP_SRCDIR" "$WORK/checkout" && chmod -R u+w "$WORK/checkout" || { fail "copy of the tree"; finish; exit; }
else
  skip "needs a git checkout or an unpacked release tarball"
fi

# A container for it to find: Docker cgroupfs layout, a sleeper.
ID=$(random_id)
CTRL=()
for c in cpu cpuacct memory pids unified; do [ -d "/sys/fs/cgroup/$c" ] && CTRL+=("$c"); done
[ ${#CTRL[@]} -gt 0 ] || CTRL=(.)
make_cgroup "docker/$ID" "${CTRL[@]}"
sleep 600 &
PIDS_STARTED+=("$!")
move_pid "$!" "docker/$ID" "${CTRL[@]}"

cd "$WORK/checkout" || exit 1
# SKIP_APT=1 (for a developer's repeated runs) skips the package step; CI runs it whole.
DIR="$WORK/run" INTERVAL=1 SKIP_APT="${SKIP_APT:-}" contrib/quickstart.sh >"$WORK/quickstart.out" 2>&1 &
QS_PID=$!
# The build comes first (it may take minutes); the clock starts when collectd has started.
for ((i = 0; i < 600; i++)); do
  grep -q "Initialization complete" "$WORK/quickstart.out" 2>/dev/null && break
  kill -0 "$QS_PID" 2>/dev/null || break
  sleep 1
done
check "the first command builds and starts collectd" grep -q "Initialization complete" "$WORK/quickstart.out"
found=""
for ((i = 0; i < 30; i++)); do
  found=$(ls -d "$WORK/run/csv/"*/container-"${ID:0:12}"/ps_cputime-* 2>/dev/null | head -n 1)
  [ -n "$found" ] && break
  sleep 1
done
echo "container values after $i s: ${found:-none}"
check "container values appear within 30 s ($i s)" test -n "$found"
check "the host's load appears too" test -n "$(ls "$WORK/run/csv/"*/container-_host/load-* 2>/dev/null)"
check "the first command says where the values are" grep -q "values will appear under $WORK/run/csv" "$WORK/quickstart.out"
[ "$FAILED" -eq 0 ] || tail -n 30 "$WORK/quickstart.out"
finish
