/* What the cgroup readers (cgroup_v1.c, cgroup_v2.c) fill in and the glue dispatches.
 * Every field has a has_* flag: a value is dispatched only when it was read. Units are the
 * dispatched units (µs, bytes, counts), whatever the source file used. */
#ifndef CONTAINER_METRICS_H
#define CONTAINER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#define CG_MAX_BLKDEV 32

/* Metric groups, matching the Collect* switches. */
enum {
  CG_GROUP_CPU = 1u << 0,
  CG_GROUP_MEMORY = 1u << 1,
  CG_GROUP_BLKIO = 1u << 2,
  CG_GROUP_PIDS = 1u << 3,
  CG_GROUP_PRESSURE = 1u << 4,
};

/* Not a group: with it the readers also read the limit files of the groups asked for (CPU quota
 * and period, memory limit, pids.max) and the memory peak. Limits rarely change, and the peak
 * only goes into the "gone" notification, so the glue asks for them only now and then (and at a
 * container's final read); without it these fields stay unset. The readers open these files for
 * the read and never keep them: a kept cgroup file holds its read buffer, a page of kernel
 * memory charged to collectd's cgroup, to save two system calls once in a while. */
enum { CG_READ_LIMITS = 1u << 5 };

typedef struct {
  uint32_t major, minor;
  uint64_t read_bytes, write_bytes, read_ops, write_ops;
} cg_blkdev_t;

typedef struct {
  bool has_some, has_full;
  uint64_t some_total_us, full_total_us;
} cg_psi_t;

enum { CG_PSI_CPU, CG_PSI_MEMORY, CG_PSI_IO, CG_PSI_COUNT };

/* The fields CG_READ_LIMITS fills in (metrics.h's CG_READ_LIMITS), kept between the reads that
 * read them. */
typedef struct {
  bool has_cpu_quota; /* absent when unlimited */
  uint64_t cpu_quota_us, cpu_period_us;
  bool has_mem_limit, has_pids_max, has_mem_peak;
  uint64_t mem_limit, pids_max, mem_peak;
} cg_limits_t;

typedef struct {
  /* CPU */
  bool has_cpu_time;
  uint64_t cpu_user_us, cpu_system_us;
  bool has_cfs;
  uint64_t cfs_periods, cfs_throttled_periods, cfs_throttled_us;

  /* memory (bytes) */
  bool has_mem_usage, has_mem_anon, has_mem_file, has_mem_swap;
  uint64_t mem_usage, mem_anon, mem_file, mem_swap;
  bool has_pgfaults;
  uint64_t pgfault, pgmajfault;
  bool has_oom_kill;
  uint64_t oom_kill;

  /* block I/O */
  unsigned n_blkdev;
  bool has_blkio; /* the file was read, even if no device had any I/O */
  cg_blkdev_t blkdev[CG_MAX_BLKDEV];

  /* pids */
  bool has_pids_current;
  uint64_t pids_current;

  /* PSI stall time (µs) */
  cg_psi_t psi[CG_PSI_COUNT];

  /* CPU quota, memory and pids limits, memory peak: only with CG_READ_LIMITS */
  cg_limits_t limits;
} cg_metrics_t;

/* Called by the readers for a file that exists but could not be parsed or read (not for a
 * missing file, which is normal when a controller is absent). */
typedef void (*cg_error_fn)(void *ctx, const char *file, int err, const char *what);

#endif
