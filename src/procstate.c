/* Task states from cgroup.threads and /proc/TID/stat: see procstate.h. */
#define _GNU_SOURCE /* memrchr */
#include "procstate.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
static int read_tid_state(int proc_dirfd, const char *tid, char *st) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "%s/task/%s/stat", tid, tid);
  int fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    /* Gone, or a ProcRoot tree without task/ directories: the leader's file has the state. */
    snprintf(path, sizeof(path), "%s/stat", tid);
    fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0)
    return errno == ENOENT || errno == ESRCH ? 1 : -errno;
  /* The state sits right after comm (at most 64 bytes): the first 512 bytes always hold it. */
  ssize_t n = read(fd, buf, sizeof(buf));
  int err = errno;
  close(fd);
  if (n < 0)
    return err == ESRCH || err == ENOENT ? 1 : -err;
  if (n == 0)
    return 1; /* reaped between open and read */
  return procstate_parse_stat(buf, (size_t)n, st) == 0 ? 0 : -EBADMSG;
}

static int handle_tid(int proc_dirfd, const char *tid, size_t len, task_counts_t *c) {
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
  int rc = read_tid_state(proc_dirfd, t, &st);
  if (rc < 0)
    return rc;
  if (rc == 0)
    procstate_classify(st, c);
  return 0;
}

int procstate_count(int cgroup_dirfd, int proc_dirfd, task_counts_t *out) {
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
        rc = handle_tid(proc_dirfd, buf + start, i - start, &c);
        if (rc)
          break;
        start = i + 1;
      }
    }
    if (rc)
      break;
    if (end) { /* a last line without '\n' */
      rc = handle_tid(proc_dirfd, buf + start, total - start, &c);
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
