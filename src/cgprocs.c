/* The processes of a cgroup subtree and the subtree walker (see cgprocs.h). */
#include "cgprocs.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool cg_gone(int err) {
  return err == -ENOENT || err == -ENODEV || err == -ESTALE;
}

typedef struct {
  int max_depth;
  int (*visit)(int dirfd, int depth, void *ctx);
  void *ctx;
} walker_t;

static int walk(const walker_t *w, int dirfd, int depth) {
  int step = w->visit(dirfd, depth, w->ctx);
  if (step < 0 || step == CG_SUBTREE_STOP)
    return step;
  if (step == CG_SUBTREE_SKIP || depth >= w->max_depth || !cg_dir_may_have_children(dirfd))
    return 0;
  /* A fresh open file description: a dup would share (and move) the caller's fd's offset. */
  int lfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
  if (d == NULL) {
    int err = -errno;
    if (lfd >= 0)
      close(lfd);
    return err;
  }
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
    /* Only "." and "..": LXC 5 keeps a container's processes in the child ".lxc" of its
     * lxc.payload.NAME cgroup on the unified tree. */
    bool dots = e->d_name[0] == '.' &&
                (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'));
    if (dots || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
      continue;
    int cfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (cfd < 0) {
      if (errno != ENOENT && errno != ENOTDIR) /* else removed since readdir, or a file */
        rc = -errno;
      continue;
    }
    rc = walk(w, cfd, depth + 1);
    close(cfd);
    if (rc < 0 && cg_gone(rc))
      rc = 0; /* a child cgroup removed during the walk */
  }
  if (rc == 0 && e == NULL && errno != 0 && !cg_gone(-errno))
    rc = -errno;
  closedir(d);
  return rc;
}

int cg_subtree_walk(int dirfd, int max_depth, int (*visit)(int dirfd, int depth, void *ctx),
                    void *ctx) {
  walker_t w = {.max_depth = max_depth, .visit = visit, .ctx = ctx};
  return walk(&w, dirfd, 0);
}

/* ---- cgroup.procs ---- */

static int push(pid_list_t *l, pid_t pid) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    pid_t *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = pid;
  return 0;
}

/* Reads cgroup.procs (opened per read, never kept: it is read only now and then) into l, up to
 * max entries in all (0: no limit). */
static int read_procs(int dirfd, pid_list_t *l, size_t max) {
  int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  char buf[4096], part[32];
  size_t plen = 0;
  off_t offset = 0;
  int rc = 0;
  for (bool end = false; rc == 0 && !end && (max == 0 || l->n < max);) {
    ssize_t r = pread(fd, buf, sizeof(buf), offset);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      rc = r < 0 ? -errno : 0;
      break;
    }
    offset += r;
    end = read_reached_end((size_t)r, sizeof(buf));
    for (ssize_t i = 0; i < r && rc == 0 && (max == 0 || l->n < max); i++) {
      if (buf[i] != '\n') {
        if (plen < sizeof(part) - 1)
          part[plen++] = buf[i];
        continue;
      }
      part[plen] = '\0';
      uint64_t pid;
      if (plen > 0 && parse_u64(part, &pid) == 0 && pid > 0 && pid <= INT32_MAX)
        rc = push(l, (pid_t)pid);
      plen = 0;
    }
  }
  close(fd);
  return rc == -ENODEV ? -ENOENT : rc; /* ENODEV: removed meanwhile */
}

typedef struct {
  const cgprocs_opts_t *o;
  pid_list_t *out;
  int top_rc;
} collect_t;

static int collect_visit(int dirfd, int depth, void *ctx) {
  collect_t *c = ctx;
  int rc = read_procs(dirfd, c->out, c->o->max);
  if (rc == -ENOMEM)
    return rc;
  if (depth == 0)
    c->top_rc = rc; /* below the top, a cgroup that cannot be read is left out */
  if (c->o->max > 0 && c->out->n >= c->o->max)
    return CG_SUBTREE_STOP;
  if (c->o->until_found && c->out->n > 0)
    return CG_SUBTREE_STOP;
  return CG_SUBTREE_DESCEND;
}

static int cmp_pid(const void *a, const void *b) {
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

int cgprocs_collect(int dirfd, const cgprocs_opts_t *o, pid_list_t *out) {
  size_t first = out->n;
  collect_t c = {.o = o, .out = out};
  int rc = cg_subtree_walk(dirfd, o->max_depth, collect_visit, &c);
  if (rc == -ENOMEM)
    return rc;
  size_t m = out->n - first;
  if (o->sorted_unique && m > 1) {
    pid_t *v = out->v + first;
    qsort(v, m, sizeof(*v), cmp_pid);
    size_t w = 1;
    for (size_t r = 1; r < m; r++)
      if (v[r] != v[w - 1])
        v[w++] = v[r];
    out->n = first + w;
  }
  return c.top_rc;
}

void pid_list_free(pid_list_t *l) {
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
