/* What the cgroup v1 and v2 readers share: reading a file through the kept-file cache and
 * reporting what cannot be used, flat-keyed files, tokens, the block-device table, pids. No
 * collectd calls. */
#ifndef CONTAINER_CGREAD_H
#define CONTAINER_CGREAD_H

#include "cgfiles.h"
#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* True when every bit of mask is in seen. */
bool cg_has_all(uint32_t seen, uint32_t mask);

/* Blanks between tokens: space, tab, CR, VT, FF (a newline ends a line, see cg_is_space). */
bool cg_is_blank(char c);
/* Any white space, newline included. */
bool cg_is_space(char c);
/* The next blank-delimited token within the line [*p, end): *tok and *len; false at the end. */
bool cg_next_token(const char **p, const char *end, const char **tok, size_t *len);

/* pids.current, and pids.max (absent when "max"); the files are named the same in v1 and v2. */
void cg_read_pids(cg_reader_t *r, int dirfd, cg_metrics_t *m);
void cg_read_pids_max(cg_reader_t *r, int dirfd, cg_metrics_t *m);

#endif
