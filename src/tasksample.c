/* Subtree walk over cgroup directories: see tasksample.h. */
#include "tasksample.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgprocs.h"
#include "cgroupstats.h"
#include "genl.h"
#include "procstate.h"

const char *task_method_name(task_method_kind_t kind) {
  switch (kind) {
  case TASK_METHOD_CGROUPSTATS:
    return "cgroupstats";
  case TASK_METHOD_PROCSTATE:
    return "/proc (cgroup.threads + /proc/TID/stat)";
  default:
    return "auto";
  }
}

int task_method_should_fall_back(int err) {
  return err == -EINVAL || err == -ENOENT || err == -EPERM || err == -EACCES ||
         err == -EOPNOTSUPP || err == -ESHUTDOWN || err == -EPROTONOSUPPORT;
}

typedef struct {
  int proc_dirfd;
  task_method_t *method;
  procstate_starts_t *starts;
  procstate_keep_t *kept;
  task_budget_t *budget;
  struct timespec deadline;
  task_counts_t sum;
} walk_t;

static bool past(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Takes one directory from the budget; false (and the reason in budget->cut) when it is spent. */
static bool budget_take(walk_t *w) {
  task_budget_t *b = w->budget;
  if (b->cut)
    return false;
  if (b->dirs >= b->max_dirs)
    b->cut = TASK_CUT_DIRS;
  else if (b->dirs > 0 && past(&w->deadline))
    b->cut = TASK_CUT_TIME;
  else
    b->dirs++;
  return !b->cut;
}

static int count_own(walk_t *w, int dirfd, int depth, task_counts_t *sum) {
  task_method_t *m = w->method;
  if (m->kind != TASK_METHOD_PROCSTATE) {
    task_counts_t c = {0};
    int rc = cgroupstats_query(dirfd, &c);
    if (rc == 0) {
      m->kind = TASK_METHOD_CGROUPSTATS;
      task_counts_add(sum, &c);
      return 0;
    }
    /* -ENOENT here means a dead cgroup, not a missing family (that fails genl_init). */
    if (rc == -ENOENT)
      return rc;
    if (m->kind == TASK_METHOD_CGROUPSTATS || !task_method_should_fall_back(rc))
      return rc;
    m->kind = TASK_METHOD_PROCSTATE;
    m->fallback_reason = rc;
  }
  /* list_files is keyed by the caller's directory fd: only the top cgroup's list is kept. */
  procstate_keep_t *k = w->kept;
  cg_files_t *top_files = k ? k->list_files : NULL;
  if (k && depth > 0)
    k->list_files = NULL;
  int rc = procstate_count(dirfd, w->proc_dirfd, sum, w->starts, k);
  if (k)
    k->list_files = top_files;
  return rc;
}

/* Counts each cgroup's own tasks, within the budget; a cgroup removed during the walk took its
 * tasks with it. */
static int count_visit(int dirfd, int depth, void *ctx) {
  walk_t *w = ctx;
  if (!budget_take(w))
    return CG_SUBTREE_STOP;
  task_counts_t c = {0};
  int rc = count_own(w, dirfd, depth, &c);
  if (rc == 0)
    task_counts_add(&w->sum, &c);
  return rc;
}

int task_sample_subtree_at(int cgroup_dirfd, int proc_dirfd, task_method_t *method,
                           task_counts_t *out, procstate_starts_t *starts, procstate_keep_t *kept) {
  return task_sample_subtree_budget(cgroup_dirfd, proc_dirfd, method, out, starts, kept, NULL);
}

int task_sample_subtree_budget(int cgroup_dirfd, int proc_dirfd, task_method_t *method,
                               task_counts_t *out, procstate_starts_t *starts,
                               procstate_keep_t *kept, task_budget_t *budget) {
  task_budget_t defaults = {0};
  if (budget == NULL)
    budget = &defaults;
  budget->dirs = 0;
  budget->cut = 0;
  if (budget->max_dirs == 0)
    budget->max_dirs = TASK_MAX_DIRS;
  if (budget->max_ms == 0)
    budget->max_ms = TASK_MAX_MS;
  if (starts)
    starts->n = 0;
  if (cgroup_dirfd < 0 || proc_dirfd < 0 || method == NULL || out == NULL)
    return -EINVAL;
  if (method->kind != TASK_METHOD_PROCSTATE && genl_family_id() < 0) {
    int rc = genl_init(); /* cached after the first success */
    if (rc) {
      if (method->kind == TASK_METHOD_CGROUPSTATS)
        return rc;
      method->kind = TASK_METHOD_PROCSTATE;
      method->fallback_reason = rc;
    }
  }
  walk_t w = {
      .method = method, .proc_dirfd = proc_dirfd, .starts = starts, .kept = kept, .budget = budget};
  clock_gettime(CLOCK_MONOTONIC, &w.deadline);
  w.deadline.tv_sec += budget->max_ms / 1000;
  w.deadline.tv_nsec += (long)(budget->max_ms % 1000) * 1000000L;
  if (w.deadline.tv_nsec >= 1000000000L) {
    w.deadline.tv_sec++;
    w.deadline.tv_nsec -= 1000000000L;
  }
  if (kept)
    procstate_keep_begin(kept);
  int rc = cg_subtree_walk(cgroup_dirfd, CG_SUBTREE_MAX_DEPTH, count_visit, &w);
  if (rc == CG_SUBTREE_STOP)
    rc = 0; /* the budget ran out: what was counted so far (budget->cut says why) */
  if (kept)
    procstate_keep_end(kept);
  if (rc == 0)
    *out = w.sum;
  if (starts)
    procstate_starts_sort(starts);
  return rc;
}

int task_sample_subtree(int cgroup_dirfd, const char *proc_root, task_method_t *method,
                        task_counts_t *out) {
  if (cgroup_dirfd < 0 || proc_root == NULL || method == NULL || out == NULL)
    return -EINVAL;
  int proc_dirfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_dirfd < 0)
    return -errno;
  int rc = task_sample_subtree_at(cgroup_dirfd, proc_dirfd, method, out, NULL, NULL);
  close(proc_dirfd);
  return rc;
}
