/* Task states from cgroup.threads and /proc/TID/stat: see procstate.h. */
#define _GNU_SOURCE /* memrchr */
#include "procstate.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procstate_parse_stat(const char *line, size_t len, char *state) {
  if (line == NULL)
    return -EINVAL;
  const char *rp = memrchr(line, ')', len);
  if (rp == NULL)
    return -EINVAL;
  const char *p = rp + 1, *end = line + len;
  while (p < end && *p == ' ')
    p++;
  if (p >= end || *p == '\n' || *p == '\0')
    return -EINVAL;
  /* The state is a single letter followed by a space (or the end of a truncated line). */
  if (p + 1 < end && p[1] != ' ' && p[1] != '\n')
    return -EINVAL;
  *state = *p;
  return 0;
}

int procstate_parse_starttime(const char *line, size_t len, uint64_t *ticks) {
  const char *rp = line ? memrchr(line, ')', len) : NULL;
  if (rp == NULL)
    return -EINVAL;
  const char *p = rp + 1, *end = line + len;
  /* after ')': field 3 (state) ... field 22 (starttime) is the 20th token */
  for (int field = 3; field <= 22; field++) {
    while (p < end && *p == ' ')
      p++;
    const char *tok = p;
    while (p < end && *p != ' ' && *p != '\n')
      p++;
    if (p == tok || p == end)
      return -EINVAL; /* missing, or cut off by the end of what was read */
    if (field == 22) {
      uint64_t v = 0;
      for (const char *q = tok; q < p; q++) {
        if (*q < '0' || *q > '9' || v > (UINT64_MAX - 9) / 10)
          return -EINVAL;
        v = v * 10 + (uint64_t)(*q - '0');
      }
      *ticks = v;
      return 0;
    }
  }
  return -EINVAL;
}

static int compare_starts(const void *a, const void *b) {
  pid_t x = ((const procstate_start_t *)a)->tid, y = ((const procstate_start_t *)b)->tid;
  return (x > y) - (x < y);
}

void procstate_starts_sort(procstate_starts_t *s) {
  if (s->n > 1)
    qsort(s->v, s->n, sizeof(*s->v), compare_starts);
}

bool procstate_starts_find(const procstate_starts_t *s, pid_t tid, uint64_t *start_ticks) {
  if (s == NULL || s->n == 0)
    return false;
  procstate_start_t key = {.tid = tid};
  const procstate_start_t *hit = bsearch(&key, s->v, s->n, sizeof(*s->v), compare_starts);
  if (hit)
    *start_ticks = hit->start_ticks;
  return hit != NULL;
}

void procstate_starts_free(procstate_starts_t *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

static void starts_add(procstate_starts_t *s, pid_t tid, uint64_t ticks) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    procstate_start_t *v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL)
      return;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (procstate_start_t){.tid = tid, .start_ticks = ticks};
}

int procstate_classify(char st, task_counts_t *c) {
  switch (st) {
  case 'R':
    c->running++;
    return 1;
  case 'D':
    c->uninterruptible++;
    return 1;
  case 'S':
    c->sleeping++;
    return 1;
  case 'T':
  case 't':
    c->stopped++;
    return 1;
  default: /* I: TASK_IDLE (NOLOAD), Z/X: exiting, P: parked kthread */
    return 0;
  }
}

/* State of one TID: 0 and *st, 1 if the task is gone, or -errno. TID/task/TID/stat is the
 * per-thread file; TID/stat of a non-leader thread is the whole process's and costs O(threads)
 * in the kernel (it sums over the thread group), so a cgroup of N threads would cost O(N^2). */
static int read_tid_state(int proc_dirfd, const char *tid, char *st, uint64_t *start,
                          bool *has_start) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "%s/task/%s/stat", tid, tid);
  int fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    /* Gone, or a ProcRoot tree without task/ directories: the leader's file has the state. */
    snprintf(path, sizeof(path), "%s/stat", tid);
    fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0)
    return errno == ENOENT || errno == ESRCH ? 1 : -errno;
  /* The state sits right after comm (at most 64 bytes), the start time 19 numbers later: the
   * first 1024 bytes hold both. */
  ssize_t n = read(fd, buf, sizeof(buf));
  int err = errno;
  close(fd);
  if (n < 0)
    return err == ESRCH || err == ENOENT ? 1 : -err;
  if (n == 0)
    return 1; /* reaped between open and read */
  if (procstate_parse_stat(buf, (size_t)n, st) != 0)
    return -EBADMSG;
  *has_start = start && procstate_parse_starttime(buf, (size_t)n, start) == 0;
  return 0;
}

static int handle_tid(int proc_dirfd, const char *tid, size_t len, task_counts_t *c,
                      procstate_starts_t *starts) {
  char t[16];
  if (len == 0)
    return 0;
  if (len >= sizeof(t))
    return -EBADMSG;
  for (size_t i = 0; i < len; i++)
    if (tid[i] < '0' || tid[i] > '9')
      return -EBADMSG;
  memcpy(t, tid, len);
  t[len] = '\0';
  char st;
  uint64_t start = 0;
  bool has_start = false;
  int rc = read_tid_state(proc_dirfd, t, &st, starts ? &start : NULL, &has_start);
  if (rc < 0)
    return rc;
  if (rc == 0)
    procstate_classify(st, c);
  if (rc == 0 && has_start)
    starts_add(starts, (pid_t)atoi(t), start);
  return 0;
}

int procstate_count(int cgroup_dirfd, int proc_dirfd, task_counts_t *out,
                    procstate_starts_t *starts) {
  int fd = openat(cgroup_dirfd, "cgroup.threads", O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) /* cgroup v1 */
    fd = openat(cgroup_dirfd, "tasks", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;

  task_counts_t c = {0};
  char buf[4096];
  size_t have = 0; /* bytes of an unfinished line kept at the start of buf */
  int rc = 0;
  for (;;) {
    size_t asked = sizeof(buf) - have;
    ssize_t n = read(fd, buf + have, asked);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno; /* ENODEV: the cgroup was removed while open */
      break;
    }
    bool end = n == 0 || read_reached_end((size_t)n, asked);
    size_t total = have + (size_t)n, start = 0;
    for (size_t i = 0; i < total; i++) {
      if (buf[i] == '\n') {
        rc = handle_tid(proc_dirfd, buf + start, i - start, &c, starts);
        if (rc)
          break;
        start = i + 1;
      }
    }
    if (rc)
      break;
    if (end) { /* a last line without '\n' */
      rc = handle_tid(proc_dirfd, buf + start, total - start, &c, starts);
      break;
    }
    have = total - start;
    if (have == sizeof(buf)) {
      rc = -EBADMSG;
      break;
    }
    memmove(buf, buf + start, have);
  }
  close(fd);
  if (rc == 0)
    task_counts_add(out, &c);
  return rc;
}

int procstate_count_self(int proc_dirfd, task_counts_t *out) {
  int tasks = openat(proc_dirfd, "self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tasks < 0)
    return -errno;
  DIR *d = fdopendir(tasks);
  if (d == NULL) {
    int err = -errno;
    close(tasks);
    return err;
  }
  task_counts_t c = {0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char path[300], buf[512];
    snprintf(path, sizeof(path), "%s/stat", e->d_name);
    int fd = openat(tasks, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue; /* the thread ended */
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    char st;
    if (n > 0 && procstate_parse_stat(buf, (size_t)n, &st) == 0)
      procstate_classify(st, &c);
  }
  closedir(d);
  task_counts_add(out, &c);
  return 0;
}
