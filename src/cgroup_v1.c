#include "cgroup_v1.h"

#include "cgread.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STAT_BUF 8192
#define BLKIO_BUF 65536

/* USER_HZ ticks (cpuacct.stat) to µs without overflow. */
static uint64_t ticks_to_us(uint64_t ticks) {
  long hz = sysconf(_SC_CLK_TCK);
  uint64_t h = hz > 0 ? (uint64_t)hz : 100;
  return ticks / h * 1000000 + ticks % h * 1000000 / h;
}

static void read_cpu_time(cg_reader_t *r, int fd, cg_metrics_t *m) {
  /* ns counters (Linux 4.7+) are exact; cpuacct.stat is in ticks. */
  uint64_t user, sys;
  if (cg_read_u64(r, fd, "cpuacct.usage_user", &user) &&
      cg_read_u64(r, fd, "cpuacct.usage_sys", &sys)) {
    m->has_cpu_time = true;
    m->cpu_user_us = user / 1000;
    m->cpu_system_us = sys / 1000;
    return;
  }
  static const char *const keys[] = {"user", "system"};
  char buf[256];
  uint64_t v[2];
  uint32_t seen;
  if (!cg_read_kv(r, fd, "cpuacct.stat", buf, sizeof(buf), keys, 2, v, &seen, 0x3))
    return;
  m->has_cpu_time = true;
  m->cpu_user_us = ticks_to_us(v[0]);
  m->cpu_system_us = ticks_to_us(v[1]);
}

static void read_cfs(cg_reader_t *r, int fd, cg_metrics_t *m) {
  static const char *const keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
  char buf[1024];
  uint64_t v[3];
  uint32_t seen;
  if (cg_read_kv(r, fd, "cpu.stat", buf, sizeof(buf), keys, 3, v, &seen, 0x7)) {
    m->has_cfs = true;
    m->cfs_periods = v[0];
    m->cfs_throttled_periods = v[1];
    m->cfs_throttled_us = v[2] / 1000; /* ns */
  }
}

static void read_cfs_limit(cg_reader_t *r, int fd, cg_metrics_t *m) {
  /* cpu.cfs_quota_us is -1 when unlimited; then the period does not matter. */
  char q[64];
  if (cg_read_text(r, fd, "cpu.cfs_quota_us", q, sizeof(q)) < 0)
    return;
  const char *s = q;
  while (*s == ' ' || *s == '\t')
    s++;
  if (strncmp(s, "-1", 2) == 0 && (s[2] == '\0' || s[2] == '\n'))
    return;
  uint64_t quota, period;
  if (parse_u64(s, &quota) != 0) {
    cg_report(r, "cpu.cfs_quota_us", EINVAL, "neither a number nor -1");
    return;
  }
  if (!cg_read_u64(r, fd, "cpu.cfs_period_us", &period))
    return;
  if (period == 0) {
    cg_report(r, "cpu.cfs_period_us", EINVAL, "period 0");
  } else {
    m->limits.has_cpu_quota = true;
    m->limits.cpu_quota_us = quota;
    m->limits.cpu_period_us = period;
  }
}

static void read_memory(cg_reader_t *r, int fd, cg_metrics_t *m) {
  uint64_t v;
  if (cg_read_u64(r, fd, "memory.usage_in_bytes", &v)) {
    m->has_mem_usage = true;
    m->mem_usage = v;
  }

  /* total_* include the descendants' pages (hierarchical); the plain keys are the fallback.
   * swap is absent when swap accounting is off. */
  enum { T_RSS, T_CACHE, T_SWAP, T_PGF, T_PGMAJ, RSS, CACHE, SWAP, PGF, PGMAJ, NKEYS };
  static const char *const keys[NKEYS] = {
      "total_rss", "total_cache", "total_swap", "total_pgfault", "total_pgmajfault",
      "rss",       "cache",       "swap",       "pgfault",       "pgmajfault"};
  char buf[STAT_BUF];
  uint64_t s[NKEYS];
  uint32_t seen;
  if (cg_read_kv(r, fd, "memory.stat", buf, sizeof(buf), keys, NKEYS, s, &seen, 0)) {
    uint64_t val[5];
    bool got[5];
    for (int i = 0; i < 5; i++) {
      got[i] = (seen & (1u << i)) || (seen & (1u << (i + 5)));
      val[i] = (seen & (1u << i)) ? s[i] : s[i + 5];
    }
    if (!got[T_RSS] || !got[T_CACHE]) {
      cg_report(r, "memory.stat", EINVAL, "missing key \"rss\" or \"cache\"");
    } else {
      m->has_mem_anon = m->has_mem_file = true;
      m->mem_anon = val[T_RSS];
      m->mem_file = val[T_CACHE];
      if (got[T_SWAP]) {
        m->has_mem_swap = true;
        m->mem_swap = val[T_SWAP];
      }
      if (got[T_PGF] && got[T_PGMAJ]) {
        m->has_pgfaults = true;
        m->pgfault = val[T_PGF];
        m->pgmajfault = val[T_PGMAJ];
      }
    }
  }

  /* oom_kill appeared in 4.13. */
  static const char *const oom_keys[] = {"under_oom", "oom_kill"};
  uint64_t o[2];
  if (cg_read_kv(r, fd, "memory.oom_control", buf, sizeof(buf), oom_keys, 2, o, &seen, 0x1) &&
      (seen & 0x2)) {
    m->has_oom_kill = true;
    m->oom_kill = o[1];
  }
}

/* blkio.throttle.*: "MAJ:MIN Op N" rows (Op Read/Write/Sync/Async/Discard/Total) and a final
 * device-less "Total N". Only Read and Write are kept. */
static int parse_blkio(const char *text, int read_field, int write_field, cg_blkdev_t *tab,
                       unsigned *n, const char **what) {
  const char *line = text;
  while (*line) {
    const char *nl = strchr(line, '\n');
    const char *end = nl ? nl : line + strlen(line);
    const char *p = line, *t[4];
    size_t l[4];
    int nt = 0;
    while (nt < 4 && cg_next_token(&p, end, &t[nt], &l[nt]))
      nt++;
    line = nl ? nl + 1 : end;
    if (nt == 0)
      continue;
    if (l[0] == 5 && memcmp(t[0], "Total", 5) == 0 && nt == 2)
      continue;
    uint32_t major, minor;
    char num[24];
    uint64_t v;
    if (nt != 3 || !cg_parse_devno(t[0], l[0], &major, &minor) || l[2] >= sizeof(num)) {
      *what = "expected \"MAJ:MIN Op N\"";
      return -EINVAL;
    }
    memcpy(num, t[2], l[2]);
    num[l[2]] = '\0';
    if (parse_u64(num, &v) != 0) {
      *what = "bad counter value";
      return -EINVAL;
    }
    if (l[1] == 4 && memcmp(t[1], "Read", 4) == 0)
      cg_blkdev_add(tab, n, major, minor, read_field, v);
    else if (l[1] == 5 && memcmp(t[1], "Write", 5) == 0)
      cg_blkdev_add(tab, n, major, minor, write_field, v);
  }
  return 0;
}

static void read_blkio(cg_reader_t *r, int fd, cg_metrics_t *m) {
  static const struct {
    const char *recursive, *plain;
    int read_field, write_field;
  } files[] = {{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes",
                CG_BLK_READ_BYTES, CG_BLK_WRITE_BYTES},
               {"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced",
                CG_BLK_READ_OPS, CG_BLK_WRITE_OPS}};
  char buf[BLKIO_BUF];
  cg_blkdev_t tab[CG_MAX_BLKDEV];
  unsigned n = 0;
  bool any = false;
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    /* The _recursive files (4.x+) include the descendants' I/O, like v2 io.stat. */
    const char *name = files[i].recursive;
    int before = r->files;
    ssize_t len = cg_read_text(r, fd, name, buf, sizeof(buf));
    if (len < 0 && r->files == before) {
      name = files[i].plain;
      len = cg_read_text(r, fd, name, buf, sizeof(buf));
    }
    if (len < 0)
      continue;
    /* Parse into a copy so a malformed file contributes nothing. */
    cg_blkdev_t tmp[CG_MAX_BLKDEV];
    unsigned tn = n;
    memcpy(tmp, tab, n * sizeof(tab[0]));
    const char *what = NULL;
    if (parse_blkio(buf, files[i].read_field, files[i].write_field, tmp, &tn, &what) != 0) {
      cg_report(r, name, EINVAL, what);
      continue;
    }
    memcpy(tab, tmp, tn * sizeof(tab[0]));
    n = tn;
    any = true;
  }
  if (!any)
    return;
  cg_blkdev_compact(tab, &n);
  memcpy(m->blkdev, tab, n * sizeof(tab[0]));
  m->n_blkdev = n;
  m->has_blkio = true;
}

static void read_limits(cg_reader_t *r, const cgv1_dirs_t *dirs, unsigned groups, cg_metrics_t *m) {
  uint64_t v;
  if ((groups & CG_GROUP_CPU) && dirs->cpu >= 0)
    read_cfs_limit(r, dirs->cpu, m);
  if ((groups & CG_GROUP_MEMORY) && dirs->memory >= 0) {
    if (cg_read_u64(r, dirs->memory, "memory.limit_in_bytes", &v) && v < CGV1_MEM_UNLIMITED_MIN) {
      m->limits.has_mem_limit = true;
      m->limits.mem_limit = v;
    }
    if (cg_read_u64(r, dirs->memory, "memory.max_usage_in_bytes", &v)) {
      m->limits.has_mem_peak = true;
      m->limits.mem_peak = v;
    }
  }
  if ((groups & CG_GROUP_PIDS) && dirs->pids >= 0)
    cg_read_pids_max(r, dirs->pids, m);
}

int cgv1_read_files(const cgv1_dirs_t *dirs, unsigned groups, cg_metrics_t *m, cg_error_fn on_error,
                    void *ctx, cg_files_t *files) {
  cg_reader_t r = {.on_error = on_error, .ctx = ctx, .cache = files};
  if (groups & CG_GROUP_CPU) {
    if (dirs->cpuacct >= 0 && !dirs->skip_cpu_time)
      read_cpu_time(&r, dirs->cpuacct, m);
    if (dirs->cpu >= 0 && !dirs->cfs_idle)
      read_cfs(&r, dirs->cpu, m);
  }
  if ((groups & CG_GROUP_MEMORY) && dirs->memory >= 0)
    read_memory(&r, dirs->memory, m);
  if ((groups & CG_GROUP_BLKIO) && dirs->blkio >= 0)
    read_blkio(&r, dirs->blkio, m);
  if ((groups & CG_GROUP_PIDS) && dirs->pids >= 0)
    cg_read_pids(&r, dirs->pids, m);
  if (groups & CG_READ_LIMITS) {
    r.cache = NULL; /* see CG_READ_LIMITS */
    if ((groups & CG_GROUP_CPU) && dirs->cpu >= 0 && dirs->cfs_idle)
      read_cfs(&r, dirs->cpu, m);
    read_limits(&r, dirs, groups, m);
  }
  return r.gone ? -ENODEV : r.files;
}

int cgv1_read(const cgv1_dirs_t *dirs, unsigned groups, cg_metrics_t *m, cg_error_fn on_error,
              void *ctx) {
  return cgv1_read_files(dirs, groups, m, on_error, ctx, NULL);
}
