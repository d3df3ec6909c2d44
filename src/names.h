/* Container id -> the name its owner knows, cached. No collectd calls here.
 *
 * Where a name comes from (first that works):
 *   Docker        DOCKER_ROOT/containers/<id>/config.v2.json: with the dockershim / cri-dockerd
 *                 labels io.kubernetes.pod.namespace, .pod.name and .container.name the name is
 *                 NAMESPACE_POD_CONTAINER, else "Name" without its leading '/'.
 *   Kubernetes    (containerd, CRI-O, kubepods cgroupfs driver; Docker whose config gave no
 *                 name) NAMESPACE_POD_CONTAINER from kubelet's log symlinks
 *                 K8S_LOG_DIR/<pod>_<namespace>_<container>-<id>.log. Parsed from the right: the
 *                 id is the 64 hex digits before ".log", preceded by '-'; what is left must
 *                 hold exactly two '_', because pod names (DNS subdomains), namespaces and
 *                 container names (DNS labels) cannot contain '_'. Anything else is ignored.
 *   Podman        "names"[0] of the entry whose "id" matches in PODMAN_JSON (rootful
 *                 /var/lib/containers/storage/overlay-containers/containers.json by default;
 *                 rootless containers keep theirs under the user's home and get the short id).
 *   containerd    a "<ns>/<id>" task (`ctr run`, nerdctl with cgroupfs): the annotation
 *                 "nerdctl/name" of CONTAINERD_STATE/io.containerd.runtime.v2.task/<ns>/<id>/
 *                 config.json (nerdctl copies its labels there), else the id (12 digits when it
 *                 is 64 hex digits). The namespace is not in the name: it is in the id.
 *   LXC, nspawn, machine: the name from the cgroup path.
 *   Otherwise     the 12-digit short id (64-hex ids), else the top cgroup's last element.
 * Every name goes through sanitize_name() and is cut to NAME_MAX_LEN-1 bytes (never inside a
 * UTF-8 sequence).
 *
 * Collision rule: names are unique among cached entries. A container whose name is already held
 * by another live entry (a Kubernetes container restarted while the old cgroup lingers, a Docker
 * name taken by a new container before the old cgroup is gone) gets "<name>_<short id>" (non-hex
 * ids: "<name>_<runtime>"), then "_2", "_3"... if that is taken too; the base is cut so the
 * result still fits. The first holder keeps its name, and a name once given is kept for the
 * entry's life (series stay continuous). Once the holder is forgotten, the plain name goes to the
 * next entry created with it.
 *
 * Retries: when a name source exists but did not answer yet (config.v2.json or containers.json
 * missing or unparsable, no log symlink yet: kubelet creates it only after the container has
 * started), the short id is returned with provisional = true, and later lookups of that id try
 * again, at most NAMES_RETRIES times; a resolved name replaces the provisional one.
 *
 * The cache holds one entry per looked-up id until names_forget(id) (call it when the container
 * is gone) or names_shutdown(). All functions are thread-safe (one mutex); file reads happen
 * outside the lock. */
#ifndef CONTAINER_NAMES_H
#define CONTAINER_NAMES_H

#include "identify.h"

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_LEN 128        /* collectd's DATA_MAX_NAME_LEN, without including collectd */
#define NAMES_K8S_FIELD_LEN 256 /* pod names may be 253 chars */
#define NAMES_RETRIES 5

#define NAMES_DEFAULT_DOCKER_ROOT "/var/lib/docker"
#define NAMES_DEFAULT_K8S_LOG_DIR "/var/log/containers"
#define NAMES_DEFAULT_PODMAN_JSON "/var/lib/containers/storage/overlay-containers/containers.json"

typedef struct {
  const char *docker_root; /* NULL: the default above; "" disables that source */
  const char *k8s_log_dir;
  const char *podman_json;
  const char *containerd_state; /* containerd's state directory ("<ns>/<id>" tasks) */
} names_config_t;

typedef struct {
  char name[NAME_MAX_LEN]; /* sanitised, unique: the plugin instance */
  /* Kubernetes coordinates as found (not sanitised), "" if unknown: for meta data. */
  char k8s_namespace[NAMES_K8S_FIELD_LEN];
  char k8s_pod[NAMES_K8S_FIELD_LEN];
  char k8s_container[NAMES_K8S_FIELD_LEN];
  const char *source; /* "docker", "docker-labels", "k8s-log", "podman", "nerdctl", "path",
                         "short-id" */
  bool provisional;   /* a fallback that a later lookup may replace */
  char note[192];     /* why a source gave no name ("" if none failed): for a DEBUG/INFO log */
} container_names_t;

/* Copies the paths (the cache is kept). Returns 0 or -ENOMEM / -ENAMETOOLONG. */
int names_configure(const names_config_t *cfg);

/* The name of the container ident describes (from container_identify). Returns 0, or -EINVAL
 * for a non-container ident, -ENOMEM. */
int names_lookup(const container_ident_t *ident, container_names_t *out);

/* Drops the cached entries for id (entries are keyed by runtime and id; this drops all). */
void names_forget(const char *id);

/* Drops the cache and the configuration. */
void names_shutdown(void);

size_t names_cache_size(void);

/* Pure helpers, exposed for the tests. */

/* Parses config.v2.json text. Fills name ("Name" without the leading '/') and the three
 * io.kubernetes.* labels when present ("" otherwise). Returns 0 when a name or all three labels
 * were found, -ENODATA when the JSON is valid but has neither, -EINVAL (err filled) when it is
 * not valid JSON. */
typedef struct {
  char name[NAMES_K8S_FIELD_LEN];
  char k8s_namespace[NAMES_K8S_FIELD_LEN];
  char k8s_pod[NAMES_K8S_FIELD_LEN];
  char k8s_container[NAMES_K8S_FIELD_LEN];
} docker_info_t;
int names_parse_docker_config(const char *text, size_t len, docker_info_t *out, char *err,
                              size_t errlen);

/* Parses one kubelet log file name; true when it is well formed and its id equals id. */
bool names_parse_k8s_log(const char *filename, const char *id, char *ns, char *pod, char *container,
                         size_t size);

/* First name of the entry with this id in containers.json text: 0, -ENOENT (no such id or no
 * name), -EINVAL (err filled) when the text is not a JSON array. */
int names_parse_podman_json(const char *text, size_t len, const char *id, char *name, size_t size,
                            char *err, size_t errlen);

/* Sanitises src and cuts it to fit dst (NAME_MAX_LEN), never inside a UTF-8 sequence. */
void names_fit(char dst[NAME_MAX_LEN], const char *src);

#endif
