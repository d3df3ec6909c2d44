/* libFuzzer target: cgroupstats_parse(), the payload of a CGROUPSTATS_CMD_GET reply. */
#include "cgroupstats.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  task_counts_t c;
  int n = cgroupstats_parse(data, size, &c);
  if (n < 0 || n > 5 || (size_t)n > size / 8)
    abort();
  if (size == 0 && (c.running | c.sleeping | c.uninterruptible | c.stopped | c.iowait) != 0)
    abort();
  if (cgroupstats_parse(NULL, 0, &c) != 0)
    abort();
  return 0;
}
