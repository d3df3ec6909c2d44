/* libFuzzer target: hoststat_parse(), the /proc/stat parser (cpu and cpuN lines, btime), and
 * hoststat_sum() over what it found. The input is not NUL-terminated (exact-size buffer). */
#include "hoststat.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hoststat_t *h = malloc(sizeof(*h));
  if (!h)
    return 0;
  int rc = hoststat_parse((const char *)data, size, h);
  if (rc != 0 && rc != -EINVAL)
    abort();
  if (rc == 0) {
    if (h->n_cpus > HOSTSTAT_MAX_CPUS)
      abort();
    uint64_t idle, total;
    unsigned n;
    if (hoststat_sum(h, NULL, &idle, &total, &n) == 0 && idle > total)
      abort();
    hs_cpumask_t m;
    hs_cpumask_zero(&m);
    hs_cpumask_set(&m, 0);
    hs_cpumask_set(&m, 3);
    hoststat_sum(h, &m, &idle, &total, &n);
    hoststat_sum(h, &h->present, &idle, &total, &n);
  }
  free(h);
  return 0;
}
