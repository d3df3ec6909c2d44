/* cgroup v1 accounting files. Parsers only: no collectd calls. */
#ifndef CONTAINER_CGROUP_V1_H
#define CONTAINER_CGROUP_V1_H

#include "cgfiles.h"
#include "metrics.h"

#include <stdbool.h>

/* Open directory fds of one cgroup in each v1 hierarchy, -1 where the controller is not
 * mounted. cpu and cpuacct may be the same directory (co-mounted "cpu,cpuacct"). */
typedef struct {
  int cpu, cpuacct, memory, blkio, pids;
  bool skip_cpu_time; /* leave CPU time out: a hybrid host's unified tree has it exact */
  bool cfs_idle;      /* cpu.stat (only CFS counters) only with CG_READ_LIMITS, not kept open */
} cgv1_dirs_t;

#define CGV1_DIRS_NONE ((cgv1_dirs_t){-1, -1, -1, -1, -1, false, false})

/* memory.limit_in_bytes at or above this is "unlimited": the kernel shows LONG_MAX rounded down
 * to the page size (9223372036854771712 with 4 KiB pages); rounding down to 1 MiB covers every
 * page size. */
#define CGV1_MEM_UNLIMITED_MIN 0x7FFFFFFFFFF00000ULL

/* Reads the files of the groups (CG_GROUP_CPU, _MEMORY, _BLKIO, _PIDS; _PRESSURE is ignored: on a
 * hybrid host call cg_psi_read on the unified-tree dir) into m; cpu.cfs_quota_us,
 * cpu.cfs_period_us, memory.limit_in_bytes, memory.max_usage_in_bytes and pids.max only with
 * CG_READ_LIMITS (metrics.h).
 * Same conventions as cgv2_read (cgroup_v2.h): m zeroed by the caller, missing files silent, one
 * on_error per unusable file whose values are then not used, returns the number of files that
 * existed or -ENODEV. */
int cgv1_read(const cgv1_dirs_t *dirs, unsigned groups, cg_metrics_t *m, cg_error_fn on_error,
              void *ctx);

/* cgv1_read through a cache of kept-open files (cgfiles.h); files == NULL is cgv1_read. */
int cgv1_read_files(const cgv1_dirs_t *dirs, unsigned groups, cg_metrics_t *m, cg_error_fn on_error,
                    void *ctx, cg_files_t *files);

#endif
