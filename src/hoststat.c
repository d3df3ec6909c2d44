/* ProcRoot/stat CPU times: see hoststat.h. */
#include "hoststat.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses up to max unsigned numbers from [p, end) on one line; returns how many. */
static int parse_numbers(const char *p, const char *end, uint64_t *vals, int max) {
  int n = 0;
  while (p < end && n < max) {
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    if (p >= end || *p < '0' || *p > '9')
      break;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      unsigned d = (unsigned)(*p - '0');
      if (v > (UINT64_MAX - d) / 10)
        return -1; /* overflow: the line is not trusted */
      v = v * 10 + d;
      p++;
    }
    if (p < end && *p != ' ' && *p != '\t')
      return -1;
    vals[n++] = v;
  }
  return n;
}

/* One unsigned decimal at *p: 0 and *p past it, or -1 (no digit, or overflow). */
static int parse_numbers_one(const char **p, const char *end, uint64_t *v) {
  const char *q = *p;
  uint64_t x = 0;
  if (q >= end || *q < '0' || *q > '9')
    return -1;
  while (q < end && *q >= '0' && *q <= '9') {
    unsigned d = (unsigned)(*q - '0');
    if (x > (UINT64_MAX - d) / 10)
      return -1;
    x = x * 10 + d;
    q++;
  }
  *v = x;
  *p = q;
  return 0;
}

static int cpu_times(const char *p, const char *end, hoststat_cpu_t *out) {
  uint64_t v[10] = {0};
  int n = parse_numbers(p, end, v, 10);
  if (n < 4)
    return -EINVAL;
  /* user nice system idle iowait irq softirq steal guest guest_nice */
  out->idle = v[3] + v[4];
  out->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  return 0;
}

int hoststat_parse(const char *text, size_t len, hoststat_t *out) {
  out->has_all = false;
  out->has_btime = false;
  out->has_procs = false;
  int procs = 0;
  out->n_cpus = 0;
  hs_cpumask_zero(&out->present);
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL)
      eol = end;
    size_t ll = (size_t)(eol - p);
    if (ll > 3 && memcmp(p, "cpu", 3) == 0) {
      const char *q = p + 3;
      if (*q == ' ') {
        if (cpu_times(q, eol, &out->all) == 0)
          out->has_all = true;
      } else if (*q >= '0' && *q <= '9') {
        unsigned long id = 0;
        while (q < eol && *q >= '0' && *q <= '9' && id < HOSTSTAT_MAX_CPUS)
          id = id * 10 + (unsigned long)(*q++ - '0');
        hoststat_cpu_t c;
        if (id < HOSTSTAT_MAX_CPUS && q < eol && *q == ' ' && cpu_times(q, eol, &c) == 0 &&
            !hs_cpumask_isset(&out->present, (unsigned)id)) {
          out->cpu[id] = c;
          hs_cpumask_set(&out->present, (unsigned)id);
          out->n_cpus++;
        }
      }
    } else if (ll > 14 && memcmp(p, "procs_running ", 14) == 0) {
      procs |= parse_numbers(p + 14, eol, &out->procs_running, 1) == 1 ? 1 : 0;
    } else if (ll > 14 && memcmp(p, "procs_blocked ", 14) == 0) {
      procs |= parse_numbers(p + 14, eol, &out->procs_blocked, 1) == 1 ? 2 : 0;
    } else if (ll > 6 && memcmp(p, "btime ", 6) == 0) {
      uint64_t v;
      if (parse_numbers(p + 6, eol, &v, 1) == 1) {
        out->btime = v;
        out->has_btime = true;
      }
    }
    p = eol < end ? eol + 1 : end;
  }
  out->has_procs = procs == 3;
  return out->has_all || out->n_cpus > 0 ? 0 : -EINVAL;
}

int hoststat_read(const char *proc_root, hoststat_t *out) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/stat", proc_root) >= (int)sizeof(path))
    return -ENAMETOOLONG;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t cap = 16384, len = 0;
  char *buf = malloc(cap);
  int rc = 0;
  for (;;) {
    if (buf == NULL) {
      rc = -ENOMEM;
      break;
    }
    if (len == cap) {
      if (cap >= (64u << 20)) {
        rc = -EFBIG;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        rc = -ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      break;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (rc == 0)
    rc = hoststat_parse(buf, len, out);
  free(buf);
  return rc;
}

int hoststat_sum(const hoststat_t *h, const hs_cpumask_t *mask, uint64_t *idle, uint64_t *total,
                 unsigned *ncpus) {
  *idle = *total = 0;
  *ncpus = 0;
  if (mask == NULL && h->has_all) {
    *idle = h->all.idle;
    *total = h->all.total;
    return 0;
  }
  for (unsigned i = 0; i < HOSTSTAT_MAX_CPUS; i++) {
    if (!hs_cpumask_isset(&h->present, i) || (mask && !hs_cpumask_isset(mask, i)))
      continue;
    *idle += h->cpu[i].idle;
    *total += h->cpu[i].total;
    (*ncpus)++;
  }
  if (*ncpus == 0 && mask != NULL && h->n_cpus == 0 && h->has_all) {
    /* No per-CPU lines (a container's view of /proc, some fixtures): the host as a whole. */
    *idle = h->all.idle;
    *total = h->all.total;
    return 0;
  }
  return *ncpus > 0 ? 0 : -ENOENT;
}

/* An unsigned decimal at *p (at least one digit, no overflow); advances *p. */
static bool take_number(const char **p, const char *end, uint64_t *v) {
  const char *q = *p;
  if (parse_numbers_one(&q, end, v) != 0)
    return false;
  *p = q;
  return true;
}

int hostload_parse(const char *text, size_t len, hostload_t *out) {
  const char *p = text, *end = text + len;
  for (int i = 0; i < 3; i++) {
    uint64_t whole, frac;
    if (!take_number(&p, end, &whole) || p + 3 > end || *p != '.' || p[1] < '0' || p[1] > '9' ||
        p[2] < '0' || p[2] > '9' || whole > UINT32_MAX / 100 - 1)
      return -EINVAL;
    frac = (uint64_t)(p[1] - '0') * 10 + (uint64_t)(p[2] - '0');
    p += 3;
    if (p >= end || *p != ' ')
      return -EINVAL;
    p++;
    out->hundredths[i] = (uint32_t)(whole * 100 + frac);
    out->avg[i] = (double)out->hundredths[i] / 100.0;
  }
  if (!take_number(&p, end, &out->running) || p >= end || *p++ != '/' ||
      !take_number(&p, end, &out->threads) || p >= end || *p++ != ' ' ||
      !take_number(&p, end, &out->last_pid))
    return -EINVAL;
  return p == end || *p == '\n' ? 0 : -EINVAL;
}

int hostload_read(const char *proc_root, hostload_t *out) {
  char path[PATH_MAX], buf[256];
  if (snprintf(path, sizeof(path), "%s/loadavg", proc_root) >= (int)sizeof(path))
    return -ENAMETOOLONG;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n;
  do
    n = read(fd, buf, sizeof(buf));
  while (n < 0 && errno == EINTR);
  int rc = n < 0 ? -errno : 0;
  close(fd);
  if (rc == 0)
    rc = n == (ssize_t)sizeof(buf) ? -EINVAL : hostload_parse(buf, (size_t)n, out);
  return rc;
}
