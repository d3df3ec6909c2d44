#include "cgroup_v2.h"

#include "cgread.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Buffer sizes: today's files are far smaller (memory.stat ~1 KiB, io.stat ~100-300 bytes per
 * device); the margin is for new keys and hosts with many devices. */
#define SMALL_BUF 128
#define STAT_BUF 8192
#define IO_STAT_BUF 65536

static void read_cpu(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  static const char *const keys[] = {"user_usec", "system_usec", "nr_periods", "nr_throttled",
                                     "throttled_usec"};
  char buf[STAT_BUF];
  uint64_t v[5];
  uint32_t seen;
  /* Without the cpu controller (hybrid unified tree, undelegated cgroup) only the usage keys
   * exist: that still gives CPU time. */
  if (cg_read_kv(r, dirfd, "cpu.stat", buf, sizeof(buf), keys, 5, v, &seen, 0x3)) {
    if ((seen & 0x1c) != 0 && !cg_has_all(seen, 0x1c)) {
      cg_report(r, "cpu.stat", EINVAL, "incomplete nr_periods/nr_throttled/throttled_usec");
    } else {
      m->has_cpu_time = true;
      m->cpu_user_us = v[0];
      m->cpu_system_us = v[1];
      if (cg_has_all(seen, 0x1c)) {
        m->has_cfs = true;
        m->cfs_periods = v[2];
        m->cfs_throttled_periods = v[3];
        m->cfs_throttled_us = v[4];
      }
    }
  }
}

static void read_cpu_limit(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  /* cpu.max: "$QUOTA $PERIOD", QUOTA may be "max". */
  char small[SMALL_BUF];
  if (cg_read_text(r, dirfd, "cpu.max", small, sizeof(small)) >= 0) {
    uint64_t quota = 0, period = 0;
    bool unlimited = false;
    char *sp = strchr(small, ' ');
    bool ok = sp != NULL;
    if (ok) {
      *sp = '\0';
      ok = parse_limit(small, &quota, &unlimited) == 0 && parse_u64(sp + 1, &period) == 0 &&
           period > 0;
    }
    if (!ok) {
      cg_report(r, "cpu.max", EINVAL, "expected \"QUOTA PERIOD\"");
    } else if (!unlimited) {
      m->limits.has_cpu_quota = true;
      m->limits.cpu_quota_us = quota;
      m->limits.cpu_period_us = period;
    }
  }
}

static void read_memory(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  uint64_t v;
  if (cg_read_u64(r, dirfd, "memory.current", &v)) {
    m->has_mem_usage = true;
    m->mem_usage = v;
  }
  if (cg_read_u64(r, dirfd, "memory.swap.current", &v)) {
    m->has_mem_swap = true;
    m->mem_swap = v;
  }

  static const char *const stat_keys[] = {"anon", "file", "pgfault", "pgmajfault"};
  char buf[STAT_BUF];
  uint64_t s[4];
  uint32_t seen;
  if (cg_read_kv(r, dirfd, "memory.stat", buf, sizeof(buf), stat_keys, 4, s, &seen, 0x3)) {
    m->has_mem_anon = m->has_mem_file = true;
    m->mem_anon = s[0];
    m->mem_file = s[1];
    if (cg_has_all(seen, 0xc)) {
      m->has_pgfaults = true;
      m->pgfault = s[2];
      m->pgmajfault = s[3];
    }
  }

  /* oom_kill appeared in 4.13; "oom" has always been there. */
  static const char *const ev_keys[] = {"oom", "oom_kill"};
  uint64_t e[2];
  if (cg_read_kv(r, dirfd, "memory.events", buf, sizeof(buf), ev_keys, 2, e, &seen, 0x1) &&
      (seen & 0x2)) {
    m->has_oom_kill = true;
    m->oom_kill = e[1];
  }
}

/* io.stat: a MAJ:MIN token starts a device (several can run together on one line when devices
 * without stats print only their id), key=value tokens belong to the last device. */
static int parse_io_stat(const char *text, cg_blkdev_t *tab, unsigned *n, const char **what) {
  static const struct {
    const char *key;
    size_t len;
    int field;
  } keys[] = {{"rbytes", 6, CG_BLK_READ_BYTES},
              {"wbytes", 6, CG_BLK_WRITE_BYTES},
              {"rios", 4, CG_BLK_READ_OPS},
              {"wios", 4, CG_BLK_WRITE_OPS}};
  enum { NONE, DEV, SKIP } state = NONE;
  uint32_t major = 0, minor = 0;
  const char *p = text;
  for (;;) {
    while (cg_is_space(*p))
      p++;
    if (*p == '\0')
      break;
    const char *tok = p;
    while (*p != '\0' && !cg_is_space(*p))
      p++;
    size_t len = (size_t)(p - tok);
    const char *eq = memchr(tok, '=', len);
    if (eq == NULL) {
      if (cg_parse_devno(tok, len, &major, &minor)) {
        state = DEV;
      } else if (len == 9 && memcmp(tok, "(unknown)", 9) == 0) {
        state = SKIP; /* NVMe multipath: no usable device number */
      } else {
        *what = "token is neither MAJ:MIN nor key=value";
        return -EINVAL;
      }
      continue;
    }
    if (state == NONE) {
      *what = "key=value before any device";
      return -EINVAL;
    }
    if (state == SKIP)
      continue;
    size_t klen = (size_t)(eq - tok);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
      if (klen != keys[i].len || memcmp(tok, keys[i].key, klen) != 0)
        continue;
      char num[24];
      size_t vlen = len - klen - 1;
      uint64_t v;
      if (vlen == 0 || vlen >= sizeof(num)) {
        *what = "bad counter value";
        return -EINVAL;
      }
      memcpy(num, eq + 1, vlen);
      num[vlen] = '\0';
      if (parse_u64(num, &v) != 0) {
        *what = "bad counter value";
        return -EINVAL;
      }
      cg_blkdev_add(tab, n, major, minor, keys[i].field, v);
      break;
    }
  }
  return 0;
}

static void read_io(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  char buf[IO_STAT_BUF];
  if (cg_read_text(r, dirfd, "io.stat", buf, sizeof(buf)) < 0)
    return;
  cg_blkdev_t tab[CG_MAX_BLKDEV];
  unsigned n = 0;
  const char *what = NULL;
  if (parse_io_stat(buf, tab, &n, &what) != 0) {
    cg_report(r, "io.stat", EINVAL, what);
    return;
  }
  cg_blkdev_compact(tab, &n);
  memcpy(m->blkdev, tab, n * sizeof(tab[0]));
  m->n_blkdev = n;
  m->has_blkio = true;
}

static void read_limits(cg_reader_t *r, int dirfd, unsigned groups, cg_metrics_t *m) {
  uint64_t v;
  bool unlimited;
  if (groups & CG_GROUP_CPU)
    read_cpu_limit(r, dirfd, m);
  if (groups & CG_GROUP_MEMORY) {
    if (cg_read_limit(r, dirfd, "memory.max", &v, &unlimited) && !unlimited) {
      m->limits.has_mem_limit = true;
      m->limits.mem_limit = v;
    }
    if (cg_read_u64(r, dirfd, "memory.peak", &v)) {
      m->limits.has_mem_peak = true;
      m->limits.mem_peak = v;
    }
  }
  if (groups & CG_GROUP_PIDS)
    cg_read_pids_max(r, dirfd, m);
}

/* One PSI file: "some avg10=.. avg60=.. avg300=.. total=N" and/or "full ...". */
static int parse_psi(const char *text, cg_psi_t *out, const char **what) {
  kv_iter_t it;
  const char *key, *rest;
  kv_iter_init(&it, text);
  while (kv_iter_next(&it, &key, &rest)) {
    bool some = strcmp(key, "some") == 0;
    if (!some && strcmp(key, "full") != 0)
      continue;
    const char *t = strstr(rest, "total=");
    while (t != NULL && t != rest && !cg_is_space(t[-1]))
      t = strstr(t + 1, "total=");
    uint64_t v;
    if (t == NULL || parse_u64_token(t + 6, &v, NULL) != 0 || cg_is_space(t[6])) {
      *what = "bad or missing total=";
      return -EINVAL;
    }
    if (some) {
      out->has_some = true;
      out->some_total_us = v;
    } else {
      out->has_full = true;
      out->full_total_us = v;
    }
  }
  if (!out->has_some && !out->has_full) {
    *what = "no some/full line";
    return -EINVAL;
  }
  return 0;
}

static void read_psi(cg_reader_t *r, int dirfd, cg_metrics_t *m) {
  static const char *const files[CG_PSI_COUNT] = {[CG_PSI_CPU] = "cpu.pressure",
                                                  [CG_PSI_MEMORY] = "memory.pressure",
                                                  [CG_PSI_IO] = "io.pressure"};
  char buf[512];
  for (int i = 0; i < CG_PSI_COUNT; i++) {
    if (cg_read_text(r, dirfd, files[i], buf, sizeof(buf)) < 0)
      continue;
    cg_psi_t psi = {0};
    const char *what = NULL;
    if (parse_psi(buf, &psi, &what) != 0) {
      cg_report(r, files[i], EINVAL, what);
      continue;
    }
    m->psi[i] = psi;
  }
}

static int result(const cg_reader_t *r) {
  return r->gone ? -ENODEV : r->files;
}

int cg_psi_read_files(int dirfd, cg_metrics_t *m, cg_error_fn on_error, void *ctx,
                      cg_files_t *files) {
  cg_reader_t r = {.on_error = on_error, .ctx = ctx, .cache = files};
  read_psi(&r, dirfd, m);
  return result(&r);
}

int cg_psi_read(int dirfd, cg_metrics_t *m, cg_error_fn on_error, void *ctx) {
  return cg_psi_read_files(dirfd, m, on_error, ctx, NULL);
}

int cgv2_read_files(int dirfd, unsigned groups, cg_metrics_t *m, cg_error_fn on_error, void *ctx,
                    cg_files_t *files) {
  cg_reader_t r = {.on_error = on_error, .ctx = ctx, .cache = files};
  if (groups & CG_GROUP_CPU)
    read_cpu(&r, dirfd, m);
  if (groups & CG_GROUP_MEMORY)
    read_memory(&r, dirfd, m);
  if (groups & CG_GROUP_BLKIO)
    read_io(&r, dirfd, m);
  if (groups & CG_GROUP_PIDS)
    cg_read_pids(&r, dirfd, m);
  if (groups & CG_GROUP_PRESSURE)
    read_psi(&r, dirfd, m);
  if (groups & CG_READ_LIMITS) {
    r.cache = NULL; /* see CG_READ_LIMITS */
    read_limits(&r, dirfd, groups, m);
  }
  return result(&r);
}

int cgv2_read(int dirfd, unsigned groups, cg_metrics_t *m, cg_error_fn on_error, void *ctx) {
  return cgv2_read_files(dirfd, groups, m, on_error, ctx, NULL);
}
