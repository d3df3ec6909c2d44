/* Task states from cgroup.threads and /proc/TID/stat: see procstate.h. */
#define _GNU_SOURCE /* memrchr */
#include "procstate.h"

#include "cgfiles.h"
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

static int compare_kept(const void *a, const void *b) {
  pid_t x = ((const procstate_kept_t *)a)->tid, y = ((const procstate_kept_t *)b)->tid;
  return (x > y) - (x < y);
}

static void kept_drop_fd(procstate_kept_t *e) {
  if (e->fd >= 0) {
    close(e->fd);
    cg_files_unreserve(1);
  }
  e->fd = -1;
}

void procstate_keep_begin(procstate_keep_t *k) {
  for (size_t i = 0; i < k->n; i++)
    k->v[i].seen = false;
  k->sorted = k->n;
}

void procstate_keep_end(procstate_keep_t *k) {
  size_t w = 0;
  for (size_t i = 0; i < k->n; i++) {
    if (!k->v[i].seen)
      kept_drop_fd(&k->v[i]);
    if (k->v[i].fd >= 0)
      k->v[w++] = k->v[i];
  }
  bool grew = w > 0 && k->sorted < k->n;
  k->n = k->sorted = w;
  if (grew)
    qsort(k->v, k->n, sizeof(*k->v), compare_kept);
}

void procstate_keep_close(procstate_keep_t *k) {
  for (size_t i = 0; i < k->n; i++)
    kept_drop_fd(&k->v[i]);
  free(k->v);
  *k = (procstate_keep_t){0};
}

/* The kept entry of tid from earlier counts, or NULL. */
static procstate_kept_t *kept_find(const procstate_keep_t *k, pid_t tid) {
  procstate_kept_t key = {.tid = tid};
  return k->sorted ? bsearch(&key, k->v, k->sorted, sizeof(*k->v), compare_kept) : NULL;
}

int procstate_keep_alive(const procstate_keep_t *k, pid_t tid) {
  const procstate_kept_t *e = kept_find(k, tid);
  if (e == NULL || e->fd < 0)
    return -1;
  char c;
  return pread(e->fd, &c, 1, 0) == 1 ? 1 : 0;
}

/* Keeps fd for tid if the cap, the budget and memory allow; otherwise closes it. */
static void kept_add(procstate_keep_t *k, pid_t tid, int fd) {
  if (k->n >= PROCSTATE_KEEP_MAX || !cg_files_reserve(1)) {
    close(fd);
    return;
  }
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 4;
    procstate_kept_t *v = realloc(k->v, cap * sizeof(*v));
    if (v == NULL) {
      close(fd);
      cg_files_unreserve(1);
      return;
    }
    k->v = v;
    k->cap = cap;
  }
  cg_files_move_high(&fd);
  k->v[k->n++] = (procstate_kept_t){.tid = tid, .fd = fd, .seen = true};
}

/* Reads the start of a stat file: the length, 0 when the task was reaped, or -errno. */
static ssize_t read_stat(int fd, char *buf, size_t size) {
  ssize_t n = pread(fd, buf, size, 0);
  return n < 0 ? -errno : n;
}

static bool task_gone(ssize_t n) {
  return n == 0 || n == -ESRCH || n == -ENOENT;
}

/* State of one TID: 0 and *st, 1 if the task is gone, or -errno. TID/task/TID/stat is the
 * per-thread file; TID/stat of a non-leader thread is the whole process's and costs O(threads)
 * in the kernel (it sums over the thread group), so a cgroup of N threads would cost O(N^2). */
static int read_tid_state(int proc_dirfd, const char *tid, pid_t tid_num, char *st, uint64_t *start,
                          bool *has_start, procstate_keep_t *kept) {
  /* The state sits right after comm (at most 64 bytes), the start time 19 numbers later: the
   * first 1024 bytes hold both. */
  char buf[1024];
  ssize_t n = -ENOENT;
  procstate_kept_t *e = kept ? kept_find(kept, tid_num) : NULL;
  if (e != NULL && e->fd >= 0) {
    e->seen = true;
    n = read_stat(e->fd, buf, sizeof(buf));
    if (n <= 0)
      kept_drop_fd(e); /* exited, and the TID listed again is a new thread: open afresh */
  }
  if (n <= 0) {
    char path[64];
    snprintf(path, sizeof(path), "%s/task/%s/stat", tid, tid);
    int fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      /* Gone, or a ProcRoot tree without task/ directories: the leader's file has the state. */
      snprintf(path, sizeof(path), "%s/stat", tid);
      fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
      return errno == ENOENT || errno == ESRCH ? 1 : -errno;
    n = read_stat(fd, buf, sizeof(buf));
    if (kept != NULL && n > 0)
      kept_add(kept, tid_num, fd);
    else
      close(fd);
  }
  if (task_gone(n))
    return 1; /* exited, or reaped between open and read */
  if (n < 0)
    return (int)n;
  if (procstate_parse_stat(buf, (size_t)n, st) != 0)
    return -EBADMSG;
  *has_start = start && procstate_parse_starttime(buf, (size_t)n, start) == 0;
  return 0;
}

static int handle_tid(int proc_dirfd, const char *tid, size_t len, task_counts_t *c,
                      procstate_starts_t *starts, procstate_keep_t *kept) {
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
  pid_t tid_num = (pid_t)atoi(t);
  char st;
  uint64_t start = 0;
  bool has_start = false;
  int rc = read_tid_state(proc_dirfd, t, tid_num, &st, starts ? &start : NULL, &has_start, kept);
  if (rc < 0)
    return rc;
  if (rc == 0)
    procstate_classify(st, c);
  if (rc == 0 && has_start)
    starts_add(starts, tid_num, start);
  return 0;
}

/* The cgroup's thread list, open: cgroup.threads (kept when list_files allows), or v1's tasks
 * (with list_files, v1's missing cgroup.threads is known without a syscall). Returns the fd or
 * -errno; *list names the file. */
static int open_thread_list(int cgroup_dirfd, cg_files_t *list_files, bool *kept_fd,
                            const char **list) {
  *list = "cgroup.threads";
  int fd = cg_files_open_for_read(list_files, cgroup_dirfd, *list, kept_fd);
  if (fd != -ENOENT)
    return fd;
  *list = "tasks";
  return cg_files_open_for_read(NULL, cgroup_dirfd, *list, kept_fd); /* never kept, see .h */
}

int procstate_count(int cgroup_dirfd, int proc_dirfd, task_counts_t *out,
                    procstate_starts_t *starts, procstate_keep_t *kept) {
  bool kept_fd;
  const char *list;
  cg_files_t *list_files = kept ? kept->list_files : NULL;
  int fd = open_thread_list(cgroup_dirfd, list_files, &kept_fd, &list);
  if (fd < 0)
    return fd;

  task_counts_t c = {0};
  char buf[4096];
  size_t have = 0; /* bytes of an unfinished line kept at the start of buf */
  off_t offset = 0;
  int rc = 0, read_err = 0;
  for (;;) {
    size_t asked = sizeof(buf) - have;
    ssize_t n = pread(fd, buf + have, asked, offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = read_err = -errno; /* ENODEV: the cgroup was removed while open */
      break;
    }
    offset += n;
    bool end = n == 0 || read_reached_end((size_t)n, asked);
    size_t total = have + (size_t)n, start = 0;
    for (size_t i = 0; i < total; i++) {
      if (buf[i] == '\n') {
        rc = handle_tid(proc_dirfd, buf + start, i - start, &c, starts, kept);
        if (rc)
          break;
        start = i + 1;
      }
    }
    if (rc)
      break;
    if (end) { /* a last line without '\n' */
      rc = handle_tid(proc_dirfd, buf + start, total - start, &c, starts, kept);
      break;
    }
    have = total - start;
    if (have == sizeof(buf)) {
      rc = -EBADMSG;
      break;
    }
    memmove(buf, buf + start, have);
  }
  if (cg_files_end_read(list_files, cgroup_dirfd, list, fd, kept_fd, read_err) != read_err)
    rc = -ENOENT; /* the kept list of a removed cgroup */
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
