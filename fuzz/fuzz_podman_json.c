/* libFuzzer target: names_parse_podman_json() (podman's containers.json).
 * Input: the container id to look up, a newline, then the JSON text. */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t il = nl ? (size_t)(nl - data) : 0;
  size_t off = nl ? il + 1 : 0;
  char id[CONTAINER_ID_SIZE];
  if (il >= sizeof(id))
    il = sizeof(id) - 1;
  memcpy(id, data, il);
  id[il] = '\0';
  char name[NAME_MAX_LEN], err[160];
  memset(name, 'x', sizeof(name));
  int rc = names_parse_podman_json((const char *)data + off, size - off, id, name, sizeof(name),
                                   err, sizeof(err));
  if (rc != 0 && rc != -ENOENT && rc != -EINVAL)
    abort();
  if (rc == 0 && (memchr(name, '\0', sizeof(name)) == NULL || name[0] == '\0'))
    abort();
  /* A tiny output buffer must be cut, not overrun. */
  char small[4];
  names_parse_podman_json((const char *)data + off, size - off, id, small, sizeof(small), NULL, 0);
  return 0;
}
