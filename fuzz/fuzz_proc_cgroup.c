/* libFuzzer target: proc_cgroup_text_has(), the /proc/PID/cgroup parser.
 * Input: the cgroup path to look for, a newline, then the file's text. */
#include "proccgroup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t rl = nl ? (size_t)(nl - data) : 0;
  size_t off = nl ? rl + 1 : 0;
  /* Exact-size copies: an over-read by one byte is an ASan report. */
  char *rel = malloc(rl + 1);
  char *text = malloc(size - off + 1);
  if (!rel || !text) {
    free(rel);
    free(text);
    return 0;
  }
  memcpy(rel, data, rl);
  rel[rl] = '\0';
  memcpy(text, data + off, size - off);
  text[size - off] = '\0';
  bool below = proc_cgroup_text_has(text, rel);
  /* "/" (or "") matches any process that has at least one absolute path. */
  bool any = proc_cgroup_text_has(text, "/");
  if (below && !any)
    abort();
  proc_cgroup_text_has(text, NULL);
  free(rel);
  free(text);
  return 0;
}
