/* libFuzzer target: the cgroup v1 readers (cpuacct, cpu CFS, memory, blkio throttle files, pids)
 * through cgv1_read(). Files come from the input (fakefs.h). */
#include "cgroup_v1.h"
#include "cgroup_files.h"
#include "fakefs.h"

#include <stdlib.h>

static void on_error(void *ctx, const char *file, int err, const char *what) {
  (void)ctx;
  if (file[0] == '\0' || what == NULL || what[0] == '\0' || err <= 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fakefs_load(cgroup_v1_files, CGROUP_V1_NFILES, data, size);
  cgv1_dirs_t dirs = {.cpu = 3, .cpuacct = 3, .memory = 4, .blkio = 5, .pids = 6};
  cg_metrics_t m;
  memset(&m, 0, sizeof(m));
  int rc = cgv1_read(
      &dirs, CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_READ_LIMITS, &m,
      on_error, NULL);
  if (rc < 0 && rc != -ENODEV)
    abort();
  if (m.n_blkdev > CG_MAX_BLKDEV)
    abort();
  if (m.limits.has_mem_limit && m.limits.mem_limit >= CGV1_MEM_UNLIMITED_MIN)
    abort();
  if (m.limits.has_cpu_quota && m.limits.cpu_period_us == 0)
    abort();
  return 0;
}
