# Helpers for tests that run a real Docker engine (sourced after lib.sh). The engine is the test's
# own: dockerd from Debian's docker.io with its own data root, exec root, socket and pidfile under
# $WORK, no iptables, no bridge, the vfs storage driver, and the containerd that dockerd starts and
# manages itself. Images are made offline from busybox-static with `docker import`; nothing is
# pulled. docker_cleanup removes everything: containers, images, dockerd, its containerd and shims,
# mounts under $WORK, the containers' cgroups, and files dockerd made outside $WORK.
set -u

DOCKERD_BIN=${DOCKERD_BIN:-/usr/sbin/dockerd}
# /usr/bin/docker is docker.io's client, the one that matches its dockerd (a newer client elsewhere
# in PATH may refuse the old API version).
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}
DOCKER_IMAGE=ctest-busybox:1

DOCKER_DATA="" DOCKER_EXEC="" DOCKER_SOCK="" DOCKER_PIDFILE="" DOCKERD_PID=""
DOCKERD_START_S="" # seconds from starting dockerd until it answered
DOCKER_CIDS=()     # full ids of every container this test created
DOCKER_MADE_OUTSIDE=() # paths dockerd creates outside $WORK that did not exist before
DOCKER_V1_PARENTS_MADE=() # /sys/fs/cgroup/*/docker made by runc during this test

# docker_require: skips (exit 77) with the reason when the engine cannot be used here.
docker_require() {
  [ -x "$DOCKERD_BIN" ] && [ -x "$DOCKER_CLI" ] ||
    skip "docker.io is not installed ($DOCKERD_BIN, $DOCKER_CLI); apt-get install docker.io"
  command -v containerd >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 ||
    skip "containerd/runc missing (they come with docker.io)"
  [ -x "$BUSYBOX_BIN" ] || skip "busybox-static is not installed ($BUSYBOX_BIN); apt-get install busybox-static"
  # The image holds busybox alone: it must not need a dynamic loader.
  if LC_ALL=C ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
    skip "$BUSYBOX_BIN is dynamically linked; apt-get install busybox-static"
  fi
}

dk() { "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" "$@"; }

# docker_start: starts the test's own dockerd; returns 1 (after printing its log) if it does not
# answer within 30 s. Sets DOCKERD_START_S.
docker_start() {
  DOCKER_DATA=$WORK/docker-data DOCKER_EXEC=$WORK/docker-exec
  DOCKER_SOCK=$WORK/docker.sock DOCKER_PIDFILE=$WORK/docker.pid
  local p
  # dockerd writes these whatever its roots are; remove on exit only what it made now.
  for p in /etc/docker/key.json /etc/docker /run/docker /var/run/docker /run/containerd; do
    [ -e "$p" ] || DOCKER_MADE_OUTSIDE+=("$p")
  done
  local c
  for c in /sys/fs/cgroup/*/; do
    [ -d "${c}docker" ] || DOCKER_V1_PARENTS_MADE+=("${c}docker")
  done
  mkdir -p "$DOCKER_DATA" "$DOCKER_EXEC"
  local t0 t1 i
  t0=$(date +%s.%N)
  "$DOCKERD_BIN" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --bridge=none --storage-driver=vfs --exec-opt native.cgroupdriver=cgroupfs \
    --data-root "$DOCKER_DATA" --exec-root "$DOCKER_EXEC" -H "unix://$DOCKER_SOCK" \
    --pidfile "$DOCKER_PIDFILE" >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for ((i = 0; i < 300; i++)); do
    dk version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  if ! dk version >/dev/null 2>&1; then
    echo "dockerd did not answer on $DOCKER_SOCK; its log:"
    tail -n 30 "$WORK/dockerd.log"
    return 1
  fi
  DOCKERD_START_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
  return 0
}

# docker_import_busybox: the image $DOCKER_IMAGE: /bin/busybox, a link per applet, /tmp.
docker_import_busybox() {
  local root=$WORK/rootfs a
  mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX_BIN" "$root/bin/busybox"
  for a in $("$BUSYBOX_BIN" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
  done
  tar -C "$root" -cf - . | dk import -c 'ENV PATH=/bin' - "$DOCKER_IMAGE" >/dev/null
}

# docker_run NAME DOCKER_RUN_ARGS...: starts a detached container and remembers its id. Run it in
# the background (&) to start several at once; docker_ids_collect then gathers their ids.
docker_run() {
  local name=$1; shift
  dk run -d --name "$name" "$@" >"$WORK/docker-cid-$name" 2>"$WORK/docker-run-$name.err" || {
    echo "docker run $name failed:"; cat "$WORK/docker-run-$name.err"; return 1
  }
  DOCKER_CIDS+=("$(cat "$WORK/docker-cid-$name")")
}
docker_ids_collect() {
  local f
  for f in "$WORK"/docker-cid-*; do [ -s "$f" ] && DOCKER_CIDS+=("$(cat "$f")"); done
}

docker_id() { dk inspect -f '{{.Id}}' "$1" 2>/dev/null; }
docker_pid() { dk inspect -f '{{.State.Pid}}' "$1" 2>/dev/null; }
docker_running() { [ "$(dk inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

# pid_cmdline_has PID STRING: the process's command line contains STRING (no fork: it is called
# for every process on the host).
pid_cmdline_has() {
  local args
  mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
  [[ "${args[*]}" == *"$2"* ]]
}

docker_cleanup() {
  [ -n "$DOCKER_SOCK" ] || return 0
  local id c p
  # Containers and the image, while the engine still answers.
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    local all
    all=$(dk ps -aq --no-trunc 2>/dev/null)
    [ -n "$all" ] && dk rm -f $all >/dev/null 2>&1
    dk rmi -f "$DOCKER_IMAGE" >/dev/null 2>&1
  fi
  # dockerd, by its pidfile (checked to be ours), and by the pid we started.
  local pids=()
  if [ -f "$DOCKER_PIDFILE" ]; then
    p=$(cat "$DOCKER_PIDFILE" 2>/dev/null)
    [ -n "$p" ] && pid_cmdline_has "$p" "$DOCKER_SOCK" && pids+=("$p")
  fi
  [ -n "$DOCKERD_PID" ] && pids+=("$DOCKERD_PID")
  for p in "${pids[@]}"; do kill_wait "$p" 15; done
  [ -n "$DOCKERD_PID" ] && wait "$DOCKERD_PID" 2>/dev/null
  # Its managed containerd (dockerd stops it, unless dockerd was killed) and shims left behind:
  # only processes whose command line names this test's exec root.
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    pid_cmdline_has "$p" "$DOCKER_EXEC/" && kill_wait "$p" 5
  done
  # Containers' cgroups that runc did not remove (it does on docker rm), then the parents it made.
  docker_ids_collect
  for id in "${DOCKER_CIDS[@]}"; do
    for c in /sys/fs/cgroup/*/docker/"$id"; do
      [ -d "$c" ] || continue
      local t
      for t in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -KILL "$t" 2>/dev/null; done
      rmdir "$c" 2>/dev/null
    done
  done
  for c in "${DOCKER_V1_PARENTS_MADE[@]}"; do rmdir "$c" 2>/dev/null; done
  # Mounts under $WORK (the data root's private bind mount, netns files), deepest first.
  local m
  for ((p = 0; p < 3; p++)); do
    m=$(awk -v w="$WORK/" '{ if (index($5, w) == 1 || $5 == substr(w, 1, length(w) - 1)) print $5 }' \
      /proc/self/mountinfo | sort -r)
    [ -z "$m" ] && break
    for c in $m; do umount "$c" 2>/dev/null || umount -l "$c" 2>/dev/null; done
  done
  for ((p = ${#DOCKER_MADE_OUTSIDE[@]} - 1; p >= 0; p--)); do
    rm -rf "${DOCKER_MADE_OUTSIDE[$p]}"
  done
  DOCKER_SOCK=""
  return 0
}

# docker_leftovers: prints what of this test's engine is still around (nothing when clean).
docker_leftovers() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    pid_cmdline_has "$p" "$WORK/docker" && echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
  done
  awk -v w="$WORK/" 'index($5, w) == 1 {print "mount " $5}' /proc/self/mountinfo
  for p in "${DOCKER_CIDS[@]}"; do ls -d /sys/fs/cgroup/*/docker/"$p" 2>/dev/null; done
}
