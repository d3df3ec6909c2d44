/* Recognises a container from a cgroup path (relative to the hierarchy root). Pure but for one
 * check: whether containerd has a task for a "<ns>/<id>" path (see below).
 *
 * What is reported as a container (the top-cgroup rule):
 *   Path elements are read from the root down and the FIRST (outermost) element that matches a
 *   container pattern is the container's top cgroup. Everything below it belongs to that
 *   container: rootless podman's "libpod-<id>.scope/container", crun's "<scope>/container",
 *   "lxc.payload.<name>/system.slice/...", and whole nested runtimes (Docker-in-Docker, kind
 *   nodes "system.slice/docker-<id>.scope/kubelet.slice/.../cri-containerd-<id2>.scope") are
 *   part of the outer container and never reported on their own. cgroup counters are
 *   hierarchical, so reporting an inner container as well would count its processes twice; with
 *   this rule every process tree is counted in at most one container. The caller registers a
 *   container only for a path where is_top is true.
 *
 * Recognised (anywhere in the path unless noted; <id> is exactly 64 lowercase hex digits):
 *   docker/<id>                               Docker, cgroupfs driver
 *   docker-<id>.scope                         Docker, systemd driver (also under kubepods)
 *   cri-containerd-<id>.scope                 containerd (CRI), systemd driver
 *   nerdctl-<id>.scope                        containerd (nerdctl), systemd driver
 *   crio-<id>.scope                           CRI-O, systemd driver
 *   <...>kubepods<...>/.../pod<uid>/<id>      Kubernetes, cgroupfs driver (runtime unknown)
 *   <...>kubepods<...>/.../pod<uid>/crio-<id> CRI-O, cgroupfs driver
 *   <slice>:cri-containerd:<id>, <slice>:crio:<id>, <slice>:docker:<id>
 *                                             v1 systemd driver seen through a cgroupfs path
 *   libpod-<id>.scope, libpod-<id>, libpod-payload-<id>   Podman (systemd, cgroupfs, split)
 *   lxc/<name>, lxc.payload.<name>, lxc.payload/<name>    LXC / LXD / Incus
 *   systemd-nspawn@<name>.service             systemd-nspawn (name unescaped: \x2d -> '-')
 *   machine.slice/machine-<name>.scope        other systemd-machined machines (same escapes)
 *   <ns>/<id> (at the root only)              containerd's own default (`ctr run`, nerdctl with
 *                                             cgroupfs): only while the task bundle
 *                                             STATE/io.containerd.runtime.v2.task/<ns>/<id> exists
 *                                             (STATE: container_identify_set_containerd_state);
 *                                             id "<ns>/<id>", name "<id>"
 * Not containers: libpod-conmon-*, crio-conmon-*, lxc.monitor.*, pod cgroups themselves, and
 * near misses such as docker-<id>.scope.bak, docker/buildkit or a bare "docker".
 * Elements "." and "..", empty elements (cgroup-namespace relative paths such as
 * "/../../system.slice/docker-<id>.scope") and a trailing " (deleted)" are skipped. */
#ifndef CONTAINER_IDENTIFY_H
#define CONTAINER_IDENTIFY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  CT_RUNTIME_NONE = 0,
  CT_RUNTIME_DOCKER,
  CT_RUNTIME_CONTAINERD,
  CT_RUNTIME_CRIO,
  CT_RUNTIME_KUBERNETES, /* kubepods cgroupfs driver: the runtime is not in the path */
  CT_RUNTIME_PODMAN,
  CT_RUNTIME_LXC,
  CT_RUNTIME_NSPAWN,
  CT_RUNTIME_MACHINE,
} container_runtime_t;

#define IDENTIFY_DEFAULT_CONTAINERD_STATE "/run/containerd"
#define CONTAINER_HEX_ID_LEN 64
#define CONTAINER_SHORT_ID_LEN 12
#define CONTAINER_ID_SIZE 256 /* a path element is at most 255 bytes */
#define CONTAINER_UID_SIZE 65

typedef struct {
  container_runtime_t runtime;
  /* The key: the 64-hex id, for lxc/nspawn/machine the (unescaped) name, for a containerd
   * "<ns>/<id>" task "<ns>/<id>". */
  char id[CONTAINER_ID_SIZE];
  bool hex_id;
  /* lxc/nspawn/machine: the name; otherwise the top cgroup's last element. */
  char name[CONTAINER_ID_SIZE];
  bool kubernetes;                  /* below a kubepods cgroup */
  char pod_uid[CONTAINER_UID_SIZE]; /* with '-' restored, "" if unknown */
  size_t top_len;                   /* relpath[0, top_len) is the container's top cgroup */
  bool is_top;                      /* relpath is the top cgroup itself */
} container_ident_t;

/* True when relpath is a container's top cgroup or lies below one; fills *out. False (and
 * out->runtime == CT_RUNTIME_NONE) otherwise. */
bool container_identify(const char *relpath, container_ident_t *out);

/* containerd's state directory for the "<ns>/<id>" rule: NULL sets the default
 * (IDENTIFY_DEFAULT_CONTAINERD_STATE), "" turns the rule off. Call it before walks start (it is
 * read without a lock). 0 or -ENAMETOOLONG. */
int container_identify_set_containerd_state(const char *dir);
const char *container_identify_containerd_state(void);

/* "docker", "containerd", "crio", "kubernetes", "podman", "lxc", "systemd-nspawn", "machine",
 * or "" for CT_RUNTIME_NONE. */
const char *container_runtime_name(container_runtime_t rt);

#endif
