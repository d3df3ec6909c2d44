/* libFuzzer target: container_identify() (cgroup paths), and names_lookup() on what it finds
 * (with every file source disabled, so only the naming and collision rules run). */
#include "identify.h"
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  names_config_t nc = {
      .docker_root = "", .k8s_log_dir = "", .podman_json = "", .containerd_state = ""};
  if (names_configure(&nc) != 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192)
    return 0;
  char *path = malloc(size + 1);
  if (!path)
    return 0;
  memcpy(path, data, size);
  path[size] = '\0';
  container_ident_t id;
  bool found = container_identify(path, &id);
  if (!found) {
    if (id.runtime != CT_RUNTIME_NONE)
      abort();
    free(path);
    return 0;
  }
  if (id.runtime == CT_RUNTIME_NONE || id.top_len > strlen(path) ||
      memchr(id.id, '\0', sizeof(id.id)) == NULL ||
      memchr(id.name, '\0', sizeof(id.name)) == NULL ||
      memchr(id.pod_uid, '\0', sizeof(id.pod_uid)) == NULL)
    abort();
  if (id.hex_id && strlen(id.id) != CONTAINER_HEX_ID_LEN)
    abort();
  /* The top cgroup's own path identifies the same container, as its top. Known exception
   * (reported, low severity): " (deleted)" is stripped only at the very end of a path, so a top
   * element ending in it is read with the suffix when more path follows and without it alone. */
  const char *del = strstr(path, " (deleted)");
  char *top = del && del[10] != '\0' ? NULL : strndup(path, id.top_len);
  if (top) {
    container_ident_t t;
    if (!container_identify(top, &t) || !t.is_top || strcmp(t.id, id.id) != 0 ||
        t.runtime != id.runtime)
      abort();
    free(top);
  }
  container_names_t n1, n2;
  if (id.id[0] && names_lookup(&id, &n1) == 0) {
    if (n1.name[0] == '\0' || memchr(n1.name, '\0', sizeof(n1.name)) == NULL)
      abort();
    /* A second lookup of the same id gives the same name (cached). */
    if (names_lookup(&id, &n2) != 0 || strcmp(n1.name, n2.name) != 0)
      abort();
    names_forget(id.id);
    if (names_cache_size() != 0)
      abort();
  }
  free(path);
  return 0;
}
