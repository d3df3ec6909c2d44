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

/* ---- Helpers shared with cgroup_v1.c (not meant for the glue) ---- */

typedef struct {
  cg_error_fn on_error;
  void *ctx;
  int files;         /* files that existed */
  bool gone;         /* a read returned ENODEV: the cgroup was removed */
  cg_files_t *cache; /* kept-open files, or NULL: open/read/close each time */
} cg_reader_t;

/* Calls r->on_error (if set) for a file that exists but is unusable. */
void cg_report(cg_reader_t *r, const char *name, int err, const char *what);

/* Reads name (relative to dirfd) into buf, through r->cache. Returns its length, or -1 when it is
 * absent (ENOENT, ENODEV, EOPNOTSUPP; silent) or could not be read (reported). */
ssize_t cg_read_text(cg_reader_t *r, int dirfd, const char *name, char *buf, size_t size);

/* A file holding one unsigned decimal. Returns true and sets *out when read and valid. */
bool cg_read_u64(cg_reader_t *r, int dirfd, const char *name, uint64_t *out);

/* A number or "max". Returns true when read and valid; *unlimited tells which. */
bool cg_read_limit(cg_reader_t *r, int dirfd, const char *name, uint64_t *out, bool *unlimited);

/* Flat-keyed "key value" text: stores the value of keys[i] in vals[i] and sets bit i of *seen
 * (at most 32 keys). Unknown keys are ignored. Returns 0, or -EINVAL when a wanted key has a
 * value that is not an unsigned decimal (*bad_key names it). */
int cg_parse_kv(const char *text, const char *const *keys, unsigned n, uint64_t *vals,
                uint32_t *seen, const char **bad_key);

/* Reads a flat-keyed file with cg_parse_kv. Reports (once) and returns false when it cannot be
 * read, a wanted key has a bad value, or a key in the required bit mask is missing (the file
 * always has it: truncated). */
bool cg_read_kv(cg_reader_t *r, int dirfd, const char *name, char *buf, size_t size,
                const char *const *keys, unsigned n, uint64_t *vals, uint32_t *seen,
                uint32_t required);

/* Per-device block I/O table (m->blkdev / m->n_blkdev). */
enum { CG_BLK_READ_BYTES, CG_BLK_WRITE_BYTES, CG_BLK_READ_OPS, CG_BLK_WRITE_OPS };

/* Adds v to one counter of device major:minor, creating the entry. When the table is full, a
 * non-zero value takes the slot of a device without any I/O; otherwise it is dropped. */
void cg_blkdev_add(cg_blkdev_t *tab, unsigned *n, uint32_t major, uint32_t minor, int field,
                   uint64_t v);

/* Drops devices whose four counters are zero (idle loop devices, sr0...): they would cost
 * value lists and say nothing. Keeps the order of the others. */
void cg_blkdev_compact(cg_blkdev_t *tab, unsigned *n);

/* Parses "MAJ:MIN" (exactly the len bytes at tok). Returns true on success. */
bool cg_parse_devno(const char *tok, size_t len, uint32_t *major, uint32_t *minor);

#endif
