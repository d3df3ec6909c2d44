/* cgroup v2 accounting files (and PSI files, also found in a hybrid host's unified tree).
 * Parsers only: no collectd calls. */
#ifndef CONTAINER_CGROUP_V2_H
#define CONTAINER_CGROUP_V2_H

#include "cgfiles.h"
#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the files of the groups (CG_GROUP_* bits) from the cgroup v2 directory dirfd into m,
 * including PSI (cg_psi_read) when CG_GROUP_PRESSURE is set, and cpu.max, memory.max, memory.peak
 * and pids.max only with CG_READ_LIMITS (metrics.h). m must be zeroed by the caller:
 * readers only set the fields (and has_* flags) of what they read, so several readers can fill
 * one struct (hybrid host: cgv1_read, then cg_psi_read on the unified dir).
 * A missing file (controller absent, old kernel) leaves its values unset silently. A file that
 * exists but cannot be read or parsed calls on_error(ctx, file name, positive errno, what) once
 * (EINVAL: malformed content, EFBIG: larger than the buffer) and none of its values are used;
 * the other files are still read. on_error may be NULL.
 * Returns the number of files that existed (0: nothing there, maybe the cgroup is gone), or
 * -ENODEV if a read saw the cgroup being removed. */
int cgv2_read(int dirfd, unsigned groups, cg_metrics_t *m, cg_error_fn on_error, void *ctx);

/* cgv2_read through a cache of kept-open files (cgfiles.h); files == NULL is cgv2_read. */
int cgv2_read_files(int dirfd, unsigned groups, cg_metrics_t *m, cg_error_fn on_error, void *ctx,
                    cg_files_t *files);

/* Reads cpu.pressure, memory.pressure and io.pressure ("some"/"full" total=, µs) from dirfd into
 * m->psi. The cgroup cpu.pressure has no "full" line before Linux 5.13 (has_full stays false).
 * Same conventions and return value as cgv2_read; EOPNOTSUPP (PSI disabled) counts as absent. */
int cg_psi_read(int dirfd, cg_metrics_t *m, cg_error_fn on_error, void *ctx);

/* cg_psi_read through a cache of kept-open files; files == NULL is cg_psi_read. */
int cg_psi_read_files(int dirfd, cg_metrics_t *m, cg_error_fn on_error, void *ctx,
                      cg_files_t *files);

#endif
