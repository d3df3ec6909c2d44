/* Task state counts of a cgroup and all its descendant cgroups. No collectd calls.
 *
 * Which method to use (measured on Linux 6.18, tests/integration/taskstate_root.c):
 * - PROCSTATE matches what the kernel's load average counts: R + D, where D includes
 *   TASK_KILLABLE waits and excludes TASK_IDLE ('I'). It is the load-average feed (loadavg.h)
 *   and gives the right sleeping count. Cost: one open+read+close of TID/task/TID/stat per
 *   thread, about 8-25 us per thread here (1001 threads: ~24 ms).
 * - CGROUPSTATS is one netlink round trip per cgroup directory (~25-40 us, ~0.4 ms for 1000
 *   threads) but switches on the exact task state: a vfork parent (killable, counted by the
 *   kernel's load) reads 0 uninterruptible, and freezable sleeps (nanosleep, futex waits since
 *   Linux 6.1) are not sleeping. Good enough for ps_state-running only.
 * So a caller that computes load averages starts with kind = TASK_METHOD_PROCSTATE; AUTO is for
 * callers that only want the cheap running count and accept the gaps above. */
#ifndef CONTAINER_TASKSAMPLE_H
#define CONTAINER_TASKSAMPLE_H

#include "procstate.h"
#include "taskcount.h"

typedef enum {
  TASK_METHOD_AUTO = 0,    /* not decided yet: try cgroupstats, fall back to procstate */
  TASK_METHOD_CGROUPSTATS, /* CGROUPSTATS_CMD_GET per cgroup directory */
  TASK_METHOD_PROCSTATE,   /* cgroup.threads (or v1 tasks) + /proc/TID/stat */
} task_method_kind_t;

/* One per cgroup hierarchy, kept by the caller between samples (zero-initialise it). */
typedef struct {
  task_method_kind_t kind; /* what answered; set by the first successful sample */
  int fallback_reason;     /* the -errno that made AUTO fall back to procstate, else 0 */
} task_method_t;

const char *task_method_name(task_method_kind_t kind);

/* True for the errors after which cgroupstats will not work for this hierarchy: -EINVAL (a v2
 * directory), -ENOENT from genl_init (no TASKSTATS family), -EPERM/-EACCES, -EOPNOTSUPP,
 * -ESHUTDOWN. */
int task_method_should_fall_back(int err);

/* Sums the task states of the cgroup open as cgroup_dirfd and of every cgroup below it
 * (cgroupstats and cgroup.threads list only a cgroup's own tasks; a pod or a systemd unit with
 * child cgroups must not read 0). With kind AUTO it resolves the TASKSTATS family if needed,
 * tries cgroupstats, and on a fall-back error switches *method to PROCSTATE for good (the caller
 * logs the change once). Cgroups removed during the walk are skipped. proc_root is the /proc to
 * read (ProcRoot). *out is overwritten. Returns 0 or -errno (-ENOENT if the top cgroup is
 * gone). Opens a few fds per directory level and closes them all before returning. */
int task_sample_subtree(int cgroup_dirfd, const char *proc_root, task_method_t *method,
                        task_counts_t *out);

/* The same with /proc already open as proc_dirfd (a caller sampling every second keeps it).
 * Both walk within the default budget below (TASK_MAX_DIRS, TASK_MAX_MS). */
/* starts (may be NULL): emptied, then filled with the start times of the threads whose /proc
 * stat the sample read (none when cgroupstats answered), sorted by TID. kept (may be NULL): the
 * threads' stat fds kept from the last sample of this subtree (see procstate_keep_t). */
int task_sample_subtree_at(int cgroup_dirfd, int proc_dirfd, task_method_t *method,
                           task_counts_t *out, procstate_starts_t *starts, procstate_keep_t *kept);

/* Per-sample limits of one subtree walk: a container with a runaway cgroup tree (thousands of
 * child cgroups) must not stall the reader that samples it and the containers after it. */
#define TASK_MAX_DIRS 1024 /* cgroup directories counted per sample */
#define TASK_MAX_MS 250    /* wall-clock milliseconds per sample */
typedef struct {
  unsigned max_dirs; /* in: 0 is TASK_MAX_DIRS */
  unsigned max_ms;   /* in: 0 is TASK_MAX_MS */
  unsigned dirs;     /* out: directories counted */
  int cut;           /* out: 0, or TASK_CUT_DIRS / TASK_CUT_TIME: the limit that ended the walk,
                      * whose counts then cover only the directories counted (a lower bound) */
} task_budget_t;
#define TASK_CUT_DIRS 1
#define TASK_CUT_TIME 2

/* task_sample_subtree_at within a budget (NULL: the defaults, and no report): the walk stops at
 * the limit and returns 0 with what it counted so far; budget->cut says so (log it once). The
 * threads of one directory are all counted (procstate.c has no budget of its own yet). */
int task_sample_subtree_budget(int cgroup_dirfd, int proc_dirfd, task_method_t *method,
                               task_counts_t *out, procstate_starts_t *starts,
                               procstate_keep_t *kept, task_budget_t *budget);

#endif
