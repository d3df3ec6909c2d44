/* What the cgroup v1 and v2 readers share (see cgread.h). */
#include "cgread.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SMALL_BUF 128 /* one number, "max" */

void cg_report(cg_reader_t *r, const char *name, int err, const char *what) {
  if (r->on_error)
    r->on_error(r->ctx, name, err, what);
}

ssize_t cg_read_text(cg_reader_t *r, int dirfd, const char *name, char *buf, size_t size) {
  ssize_t n = cg_files_read(r->cache, dirfd, name, buf, size);
  if (n >= 0) {
    r->files++;
    return n;
  }
  switch (-n) {
  case ENODEV: /* open file of a removed cgroup */
    r->gone = true;
    return -1;
  case ENOENT:
  case EOPNOTSUPP:
    return -1;
  case EFBIG:
    r->files++;
    cg_report(r, name, EFBIG, "file larger than the read buffer");
    return -1;
  default:
    r->files++;
    cg_report(r, name, (int)-n, "read failed");
    return -1;
  }
}

bool cg_read_u64(cg_reader_t *r, int dirfd, const char *name, uint64_t *out) {
  char buf[SMALL_BUF];
  if (cg_read_text(r, dirfd, name, buf, sizeof(buf)) < 0)
    return false;
  int err = parse_u64(buf, out);
  if (err) {
    cg_report(r, name, -err, "not an unsigned number");
    return false;
  }
  return true;
}

bool cg_read_limit(cg_reader_t *r, int dirfd, const char *name, uint64_t *out, bool *unlimited) {
  char buf[SMALL_BUF];
  if (cg_read_text(r, dirfd, name, buf, sizeof(buf)) < 0)
    return false;
  int err = parse_limit(buf, out, unlimited);
  if (err) {
    cg_report(r, name, -err, "neither a number nor \"max\"");
    return false;
  }
  return true;
}

int cg_parse_kv(const char *text, const char *const *keys, unsigned n, uint64_t *vals,
                uint32_t *seen, const char **bad_key) {
  kv_iter_t it;
  const char *key, *value;
  *seen = 0;
  kv_iter_init(&it, text);
  while (kv_iter_next(&it, &key, &value)) {
    for (unsigned i = 0; i < n && i < 32; i++) {
      if (strcmp(key, keys[i]) != 0)
        continue;
      if (parse_u64(value, &vals[i]) != 0) {
        *bad_key = keys[i];
        return -EINVAL;
      }
      *seen |= 1u << i;
      break;
    }
  }
  return 0;
}

bool cg_read_kv(cg_reader_t *r, int dirfd, const char *name, char *buf, size_t size,
                const char *const *keys, unsigned n, uint64_t *vals, uint32_t *seen,
                uint32_t required) {
  if (cg_read_text(r, dirfd, name, buf, size) < 0)
    return false;
  const char *bad = NULL;
  char what[96];
  if (cg_parse_kv(buf, keys, n, vals, seen, &bad) != 0) {
    snprintf(what, sizeof(what), "bad value for key \"%s\"", bad);
    cg_report(r, name, EINVAL, what);
    return false;
  }
  /* A key the file always has is missing: truncated, or not the expected file. */
  for (unsigned i = 0; i < n && i < 32; i++) {
    if ((required & (1u << i)) && !(*seen & (1u << i))) {
      snprintf(what, sizeof(what), "missing key \"%s\"", keys[i]);
      cg_report(r, name, EINVAL, what);
      return false;
    }
  }
  return true;
}

bool cg_has_all(uint32_t seen, uint32_t mask) {
  return (seen & mask) == mask;
}

bool cg_parse_devno(const char *tok, size_t len, uint32_t *major, uint32_t *minor) {
  uint64_t v[2] = {0, 0};
  int part = 0;
  size_t digits = 0;
  for (size_t i = 0; i < len; i++) {
    char c = tok[i];
    if (c == ':' && part == 0 && digits > 0) {
      part = 1;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      v[part] = v[part] * 10 + (uint64_t)(c - '0');
      if (v[part] > UINT32_MAX)
        return false;
      digits++;
    } else {
      return false;
    }
  }
  if (part != 1 || digits == 0)
    return false;
  *major = (uint32_t)v[0];
  *minor = (uint32_t)v[1];
  return true;
}

static uint64_t *blk_field(cg_blkdev_t *d, int field) {
  switch (field) {
  case CG_BLK_READ_BYTES:
    return &d->read_bytes;
  case CG_BLK_WRITE_BYTES:
    return &d->write_bytes;
  case CG_BLK_READ_OPS:
    return &d->read_ops;
  default:
    return &d->write_ops;
  }
}

static bool blk_idle(const cg_blkdev_t *d) {
  return (d->read_bytes | d->write_bytes | d->read_ops | d->write_ops) == 0;
}

void cg_blkdev_add(cg_blkdev_t *tab, unsigned *n, uint32_t major, uint32_t minor, int field,
                   uint64_t v) {
  cg_blkdev_t *d = NULL;
  for (unsigned i = 0; i < *n; i++) {
    if (tab[i].major == major && tab[i].minor == minor) {
      d = &tab[i];
      break;
    }
  }
  if (d == NULL) {
    if (*n < CG_MAX_BLKDEV) {
      d = &tab[(*n)++];
    } else {
      if (v == 0)
        return;
      for (unsigned i = 0; i < *n && d == NULL; i++)
        if (blk_idle(&tab[i]))
          d = &tab[i];
      if (d == NULL)
        return;
    }
    memset(d, 0, sizeof(*d));
    d->major = major;
    d->minor = minor;
  }
  *blk_field(d, field) += v;
}

void cg_blkdev_compact(cg_blkdev_t *tab, unsigned *n) {
  unsigned out = 0;
  for (unsigned i = 0; i < *n; i++)
    if (!blk_idle(&tab[i]))
      tab[out++] = tab[i];
  *n = out;
}

/* ---- cgroup v2 files ---- */

bool cg_is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool cg_is_space(char c) {
  return c == '\n' || cg_is_blank(c);
}

bool cg_next_token(const char **p, const char *end, const char **tok, size_t *len) {
  const char *s = *p;
  while (s < end && cg_is_blank(*s))
    s++;
  if (s == end)
    return false;
  *tok = s;
  while (s < end && !cg_is_blank(*s))
    s++;
  *len = (size_t)(s - *tok);
  *p = s;
  return true;
}

void cg_read_pids(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  uint64_t v;
  if (cg_read_u64(r, dirfd, "pids.current", &v)) {
    m->has_pids_current = true;
    m->pids_current = v;
  }
}

void cg_read_pids_max(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  uint64_t v;
  bool unlimited;
  if (cg_read_limit(r, dirfd, "pids.max", &v, &unlimited) && !unlimited) {
    m->limits.has_pids_max = true;
    m->limits.pids_max = v;
  }
}
