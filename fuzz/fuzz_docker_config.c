/* libFuzzer target: names_parse_docker_config() (Docker's config.v2.json), and names_fit() on the
 * names it returns. */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_str(const char *s, size_t size) {
  if (memchr(s, '\0', size) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  docker_info_t info;
  char err[160];
  int rc = names_parse_docker_config((const char *)data, size, &info, err, sizeof(err));
  if (rc != 0 && rc != -ENODATA && rc != -EINVAL)
    abort();
  check_str(info.name, sizeof(info.name));
  check_str(info.k8s_namespace, sizeof(info.k8s_namespace));
  check_str(info.k8s_pod, sizeof(info.k8s_pod));
  check_str(info.k8s_container, sizeof(info.k8s_container));
  if (rc == -EINVAL)
    check_str(err, sizeof(err));
  char fit[NAME_MAX_LEN];
  names_fit(fit, info.name);
  if (strlen(fit) >= NAME_MAX_LEN)
    abort();
  names_fit(fit, info.k8s_pod);
  return 0;
}
