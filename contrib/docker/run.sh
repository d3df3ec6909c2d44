#!/bin/sh
# Starts collectd with the container plugin in a Docker container (image: contrib/docker/Dockerfile)
# with the least privileges it needs to report every container of the host as collectd on the
# host does. IMAGE (default collectd-container) is the image; arguments are more `docker run`
# options (e.g. -v for a collectd.conf.d with the writers, --network host for them to send).
#   --pid host       the host's PIDs: cgroup.threads/cgroup.procs list them in the reader's PID
#                    namespace, and taskstats answers by them
#   --cgroupns host  /proc/PID/cgroup paths as in the host's cgroup tree
#   --uts host       collectd's Hostname is the host's name
#   SYS_ADMIN        setns() into each container's network namespace (interface counters)
#   SYS_PTRACE       opening other processes' /proc/PID/ns/net
#   NET_ADMIN        taskstats (delay accounting, exit records, TaskStateSource cgroupstats)
#   everything else dropped; the host's trees are mounted read-only
set -eu
DOCKER=${DOCKER:-docker}
NAME=${NAME:-collectd-container}
CONF=${CONF:-$(cd "$(dirname "$0")" && pwd)/collectd.conf}
CONF_D=${CONF_D:-/etc/collectd/collectd.conf.d}
DOCKER_ROOT=${DOCKER_ROOT:-/var/lib/docker}
IMAGE=${IMAGE:-collectd-container}
exec $DOCKER run -d --name "$NAME" --restart unless-stopped \
  --pid host --cgroupns host --uts host \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add NET_ADMIN \
  -v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro \
  -v "$DOCKER_ROOT/containers:/host/var/lib/docker/containers:ro" \
  -v "$CONF:/etc/collectd/collectd.conf:ro" -v "$CONF_D:/etc/collectd/collectd.conf.d:ro" \
  "$@" "$IMAGE"
