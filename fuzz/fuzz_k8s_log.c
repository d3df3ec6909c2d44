/* libFuzzer target: names_parse_k8s_log() (kubelet's /var/log/containers/ file names).
 * Input: the file name. It is tried against the id it carries (the 64 characters before ".log")
 * and against a fixed id. */
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *fn = malloc(size + 1);
  if (!fn)
    return 0;
  memcpy(fn, data, size);
  fn[size] = '\0';
  size_t len = strlen(fn);
  char ns[NAMES_K8S_FIELD_LEN], pod[NAMES_K8S_FIELD_LEN], ct[NAMES_K8S_FIELD_LEN];
  char id[CONTAINER_ID_SIZE];
  static const char fixed[] = "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496";
  names_parse_k8s_log(fn, fixed, ns, pod, ct, sizeof(ns));
  if (len >= 68) {
    memcpy(id, fn + len - 68, 64);
    id[64] = '\0';
    if (names_parse_k8s_log(fn, id, ns, pod, ct, sizeof(ns))) {
      if (!ns[0] || !pod[0] || !ct[0] || strchr(ns, '_') || strchr(pod, '_') || strchr(ct, '_'))
        abort();
      /* Small fields: refused, never overrun. */
      char a[8], b[8], c[8];
      names_parse_k8s_log(fn, id, a, b, c, sizeof(a));
    }
  }
  /* A short id must not be read past its end. */
  names_parse_k8s_log(fn, "abc", ns, pod, ct, sizeof(ns));
  free(fn);
  return 0;
}
