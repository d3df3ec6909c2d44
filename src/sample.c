/* One container's read for one interval, without collectd (see sample.h). */
#include "sample.h"

#include "cgroup_v1.h"
#include "cgroup_v2.h"
#include "freezer.h"
#include "hoststat.h"
#include "proccgroup.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HOST_NETNS_RECHECK 10
#define FIRST_PIDS_DEPTH 3

double sample_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sample_state_init(sample_state_t *st, const sample_host_t *h) {
  for (int i = 0; i < CG_V1_COUNT; i++)
    st->dir_v1[i] = -1;
  st->dir_v2 = -1;
  st->proc_path = h->proc_path;
  loadstate_init(&st->load); /* starts at 0, like a freshly booted kernel */
  st->task_method.kind = h->task_method;
  st->files = cg_files_create(); /* NULL: files are opened for each read, nothing else changes */
  diag_tracker_init(&st->diag);
  if (!st->is_host && h->collect_delay && !(st->delay = delay_state_create()))
    return -ENOMEM;
  return 0;
}

void sample_state_free(sample_state_t *st) {
  loadstate_destroy(&st->load);
  delay_state_destroy(st->delay);
  st->delay = NULL;
  pid_list_free(&st->tgids);
  procstate_starts_free(&st->starts);
  procstate_keep_close(&st->task_keep);
  if (st->dirs_open)
    sample_state_close(st);
  cg_files_destroy(st->files);
  st->files = NULL;
}

/* ---- the cgroup directories ---- */

/* Opens the container's directory below a hierarchy root; -1 when it is not there. */
static int open_cgroup_dir(int root_fd, const char *relpath) {
  if (root_fd < 0)
    return -1;
  if (relpath[0] == '\0')
    return fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  return openat(root_fd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Hybrid: whether the load sample lists the unified tree's cgroup.threads. runc and systemd
 * put a container's tasks in both trees; the unified list can stay open and be re-read, while
 * v1's tasks file is cached by the kernel for a second after a read, so opened at every read. */
static bool tasks_from_unified(const sample_host_t *h, const sample_state_t *st) {
  return h->kind == CG_LAYOUT_HYBRID && !st->is_host && h->collect_load &&
         h->task_method == TASK_METHOD_PROCSTATE;
}

/* Kept open between reads (with their files, see cgfiles.h) while the fd budget allows, else
 * opened for this read only. -1: not in that hierarchy. */
static void dirs_open(const sample_host_t *h, sample_state_t *st, unsigned groups) {
  if (st->dirs_open)
    return;
  st->limits_age = 0; /* maybe a new cgroup at this path (a restarted container): its own limits */
  st->cfs_idle = false;
  st->tasks_not_in_unified = false;
  /* v2: the container's directory; hybrid: its unified-tree one (PSI, exact CPU time). */
  st->dir_v2 = -1;
  if (h->kind == CG_LAYOUT_V2)
    st->dir_v2 = open_cgroup_dir(h->primary_root, st->relpath);
  else if ((groups & (CG_GROUP_PRESSURE | CG_GROUP_CPU)) || tasks_from_unified(h, st))
    st->dir_v2 = open_cgroup_dir(h->v2_root, st->relpath);
  int opened = st->dir_v2 >= 0;
  for (int i = 0; i < CG_V1_COUNT; i++) {
    st->dir_v1[i] = -1;
    if (h->kind == CG_LAYOUT_V2)
      continue;
    /* cpuacct holds only CPU time: not opened where the unified tree has it (one fd fewer). The
     * cpu hierarchy, opened first, stays the one for the tasks. */
    if (i == CG_V1_CPUACCT && st->dir_v1[CG_V1_CPU] >= 0 &&
        (!(groups & CG_GROUP_CPU) || (h->unified_cpu_time && st->dir_v2 >= 0)))
      continue;
    st->dir_v1[i] = open_cgroup_dir(h->v1_root[i], st->relpath);
    opened += st->dir_v1[i] >= 0;
  }
  st->dirs_open = true;
  st->dirs_kept = opened > 0 && st->files != NULL && cg_files_reserve(opened);
  if (st->dirs_kept) {
    st->dirs_reserved = opened;
    for (int i = 0; i < CG_V1_COUNT; i++)
      if (st->dir_v1[i] >= 0)
        cg_files_move_high(&st->dir_v1[i]);
    if (st->dir_v2 >= 0)
      cg_files_move_high(&st->dir_v2);
  }
}

void sample_state_close(sample_state_t *st) {
  cg_files_close_all(st->files); /* before the directory fd numbers can be reused */
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (st->dir_v1[i] >= 0) {
      close(st->dir_v1[i]);
      st->dir_v1[i] = -1;
    }
  if (st->dir_v2 >= 0)
    close(st->dir_v2);
  st->dir_v2 = -1;
  if (st->dirs_kept)
    cg_files_unreserve(st->dirs_reserved);
  st->dirs_kept = false;
  st->dirs_reserved = 0;
  st->dirs_open = false;
}

/* The v1 tasks directory of open directories (cpu, else cpuacct, else the first), -1: none. */
static int v1_tasks_dir(const sample_state_t *st) {
  if (st->dir_v1[CG_V1_CPU] >= 0)
    return st->dir_v1[CG_V1_CPU];
  if (st->dir_v1[CG_V1_CPUACCT] >= 0)
    return st->dir_v1[CG_V1_CPUACCT];
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (st->dir_v1[i] >= 0)
      return st->dir_v1[i];
  return -1;
}

/* ---- cgroup accounting ---- */

/* Files of the container a reader found (>= 0), or a kept file of a removed cgroup (< 0). */
typedef struct {
  int found;
  bool gone;
} files_seen_t;

static void files_seen(files_seen_t *f, int n) {
  if (n < 0)
    f->gone = true;
  else
    f->found += n;
}

static void read_hybrid_unified(const sample_host_t *h, sample_state_t *st, unsigned groups,
                                cg_metrics_t *m, cgv1_dirs_t *dirs, cg_files_t *files,
                                files_seen_t *seen) {
  int unified = st->dir_v2;
  if (unified < 0)
    return;
  (void)h;
  if (groups & CG_GROUP_PRESSURE)
    files_seen(seen, cg_psi_read_files(unified, m, st->on_error, st->error_ctx, files));
  /* v1 cpuacct.usage_user/_sys are tick samples on current kernels; the unified tree's cpu.stat
   * splits the exact usage (it is there even without the cpu controller). */
  if (groups & CG_GROUP_CPU) {
    int n = cgv2_read_files(unified, CG_GROUP_CPU, m, NULL, NULL, files);
    files_seen(seen, n);
    dirs->skip_cpu_time = n > 0 && m->has_cpu_time;
    m->has_cfs = false; /* v1's cpu controller has the CFS numbers (and the quota) */
  }
}

/* Reads the accounting files into s->cg. Returns the directory whose subtree holds the tasks,
 * -1 when the container's cgroup is not there (or was removed: the next read opens afresh). */
static int read_cgroups(const sample_host_t *h, sample_state_t *st, container_sample_t *s,
                        int *primary_out, bool *reopen) {
  unsigned groups = st->is_host ? 0 : h->groups;
  dirs_open(h, st, groups);
  /* Limits rarely change and cost a read each: read on fresh directories (at every read when
   * they are not kept), then every SAMPLE_LIMITS_RECHECK reads; the others reuse them. */
  bool read_limits = st->limits_age == 0;
  unsigned read_groups = read_limits ? groups | CG_READ_LIMITS : groups;
  cg_files_t *files = st->dirs_kept ? st->files : NULL;
  cgv1_dirs_t dirs = {.cpu = st->dir_v1[CG_V1_CPU],
                      .cpuacct = st->dir_v1[CG_V1_CPUACCT],
                      .memory = st->dir_v1[CG_V1_MEMORY],
                      .blkio = st->dir_v1[CG_V1_BLKIO],
                      .pids = st->dir_v1[CG_V1_PIDS],
                      .cfs_idle = st->cfs_idle};
  int primary = -1, tasks = -1;
  if (h->kind == CG_LAYOUT_V2) {
    primary = tasks = st->dir_v2;
  } else {
    for (int i = 0; i < CG_V1_COUNT && primary < 0; i++)
      primary = st->dir_v1[i];
    tasks = v1_tasks_dir(st);
  }
  if (primary < 0) {
    sample_state_close(st); /* gone since discovery: normal, discovery removes it */
    return -1;
  }
  cg_metrics_t *m = &s->cg;
  files_seen_t seen = {0, false};
  if (h->kind == CG_LAYOUT_V2) {
    if (groups) /* + PSI */
      files_seen(&seen,
                 cgv2_read_files(primary, read_groups, m, st->on_error, st->error_ctx, files));
  } else if (groups) {
    read_hybrid_unified(h, st, groups, m, &dirs, files, &seen);
    files_seen(&seen, cgv1_read_files(&dirs, read_groups, m, st->on_error, st->error_ctx, files));
  }
  if (seen.gone) {
    sample_state_close(st); /* removed: the next read opens again (a new cgroup), or stops */
    return -1;
  }
  if (read_limits)
    st->limits = m->limits;
  else if (seen.found > 0) /* a read that found nothing reports no limit either */
    m->limits = st->limits;
  if (st->cfs_idle && !read_limits) {
    m->has_cfs = seen.found > 0; /* still 0, as the last read found */
  } else if (h->kind != CG_LAYOUT_V2) {
    bool was_idle = st->cfs_idle;
    st->cfs_idle = m->has_cfs && !m->limits.has_cpu_quota && m->cfs_periods == 0 &&
                   m->cfs_throttled_periods == 0 && m->cfs_throttled_us == 0;
    if (st->cfs_idle && !was_idle)
      cg_files_forget(files, dirs.cpu, "cpu.stat"); /* read rarely now: see CG_READ_LIMITS */
  }
  st->limits_age = (st->limits_age + 1) % SAMPLE_LIMITS_RECHECK;
  /* Nothing found through kept directories: they may be those of a removed cgroup whose path
   * exists again (a restarted LXC container); the next read opens them afresh. */
  *reopen = groups && seen.found == 0 && st->dirs_kept;
  *primary_out = primary;
  return tasks;
}

/* Keeps what the "gone" notification needs; m holds only what this read found. */
static void remember_totals(sample_state_t *st, const cg_metrics_t *m) {
  if (m->has_mem_usage && m->mem_usage > st->usage_high)
    st->usage_high = m->mem_usage;
  if (!m->has_cpu_time && !m->has_mem_usage)
    return;
  sample_totals_t t = {.cpu_us = m->cpu_user_us + m->cpu_system_us,
                       .memory_peak = m->limits.has_mem_peak ? m->limits.mem_peak : 0,
                       .oom_kills = m->oom_kill};
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    t.io_read += m->blkdev[i].read_bytes;
    t.io_write += m->blkdev[i].write_bytes;
  }
  st->last = t;
}

sample_totals_t sample_totals(const sample_state_t *st) {
  sample_totals_t t = st->last;
  /* The peak file is read every SAMPLE_LIMITS_RECHECK reads: a usage seen since may be higher. */
  if (t.memory_peak < st->usage_high)
    t.memory_peak = st->usage_high;
  return t;
}

/* ---- task states and load ---- */

static int sample_tasks(const sample_host_t *h, sample_state_t *st, int dirfd,
                        task_counts_t *counts) {
  /* The start times go to the delay accounting (not for the host: no delays). */
  procstate_starts_t *starts = st->is_host ? NULL : &st->starts;
  st->task_keep.list_files = st->dirs_kept ? st->files : NULL;
  if (h->proc_root < 0)
    return task_sample_subtree(dirfd, h->proc_path, &st->task_method, counts);
  task_budget_t budget = {0}; /* the defaults: TASK_MAX_DIRS directories, TASK_MAX_MS */
  int rc = task_sample_subtree_budget(dirfd, h->proc_root, &st->task_method, counts, starts,
                                      &st->task_keep, &budget);
  if (budget.cut && st->on_error) /* said once per container, as for a file */
    st->on_error(st->error_ctx, "task states (limit)", -E2BIG,
                 budget.cut == TASK_CUT_DIRS
                     ? "more child cgroups than one sample reads (the first counted)"
                     : "its tasks took longer than one sample may (those counted so far)");
  return rc;
}

static uint64_t task_counts_total(const task_counts_t *t) {
  return t->running + t->sleeping + t->uninterruptible + t->stopped;
}

/* The directory whose subtree holds the container's tasks (and processes): v1's cpu hierarchy
 * (v1_tasks), or on a hybrid host the unified tree's, unless that cgroup was found empty while
 * v1's was not. */
static int tasks_dir(const sample_host_t *h, const sample_state_t *st, int v1_tasks) {
  if (h->kind == CG_LAYOUT_V2)
    return st->dir_v2;
  bool unified = tasks_from_unified(h, st) && st->dir_v2 >= 0 && !st->tasks_not_in_unified;
  return unified ? st->dir_v2 : v1_tasks;
}

/* Counts the tasks of the container's subtree; hybrid: the unified tree's, falling back to v1's
 * where that cgroup is empty or gone. Returns 0 or -errno. */
static int count_tasks(const sample_host_t *h, sample_state_t *st, int v1_tasks,
                       task_counts_t *counts) {
  int dirfd = tasks_dir(h, st, v1_tasks);
  if (dirfd < 0)
    return -ENOENT; /* the cgroup is gone (removed since discovery) */
  int err = sample_tasks(h, st, dirfd, counts);
  st->tasks_hierarchy = dirfd == st->dir_v2;
  if (dirfd != st->dir_v2 || h->kind == CG_LAYOUT_V2 || v1_tasks < 0)
    return err;
  if (err == -ENOENT || (err == 0 && task_counts_total(counts) == 0)) {
    task_counts_t v1;
    int v1_err = sample_tasks(h, st, v1_tasks, &v1);
    if (v1_err == 0 && (err != 0 || task_counts_total(&v1) > 0)) {
      st->tasks_not_in_unified = task_counts_total(&v1) > 0;
      *counts = v1;
      st->tasks_hierarchy = 0;
      return 0;
    }
  }
  return err;
}

/* Samples the task states now and folds them into the load: under the caller's lock. */
static void load_sample_now(const sample_host_t *h, sample_state_t *st) {
  st->starts.n = 0;
  task_counts_t counts;
  int err = count_tasks(h, st, v1_tasks_dir(st), &counts);
  if (err != 0) {
    if (err != -ENOENT && st->on_error)
      st->on_error(st->error_ctx, "task states", err, "cannot count the cgroup's tasks");
    return;
  }
  int freezer = open_cgroup_dir(h->freezer_root, st->relpath);
  int fz_err = 0;
  bool frozen = freezer_is_frozen(freezer, st->dir_v2, &fz_err);
  if (freezer >= 0)
    close(freezer);
  if (fz_err && st->on_error)
    st->on_error(st->error_ctx, "freezer state", fz_err, "cannot tell whether it is frozen");
  loadstate_sample(&st->load, &counts, frozen, sample_now());
}

void sample_load(const sample_host_t *h, sample_state_t *st) {
  if (st->is_host || !h->collect_load)
    return;
  dirs_open(h, st, h->groups);
  load_sample_now(h, st);
  if (!st->dirs_kept)
    sample_state_close(st);
}

/* The host's load is the kernel's own: /proc/loadavg's averages, /proc/stat's runnable and
 * I/O-blocked counts (procs_running includes the reading thread, as /proc/loadavg's does). */
static void read_host_load(const sample_host_t *h, container_sample_t *s);

/* ---- processes: delays and network ---- */

/* Up to max PIDs from cgroup.procs of the cgroup open as dirfd or, if it has none, of its
 * descendants (a few levels down). */
static size_t first_pids(int dirfd, pid_t *pids, size_t max) {
  if (max == 0)
    return 0;
  /* The caller's array as the list: the read stops at max, so it is never grown. */
  pid_list_t l = {.v = pids, .cap = max};
  cgprocs_opts_t o = {.max = max, .max_depth = FIRST_PIDS_DEPTH, .until_found = true};
  cgprocs_collect(dirfd, &o, &l);
  return l.n;
}

/* Lists the processes for the batched delay query, at every read: the task states are sampled
 * every 5 s, at another moment, so no sample can tell that no process started since, and one
 * seen late has its delays counted from then only. Returns how many it listed (0: none). */
static size_t prepare_delay(const sample_host_t *h, sample_state_t *st, container_sample_t *s,
                            int procs_dir) {
  s->delay_rc = 1;
  if (!(st->delay && h->collect_delay && procs_dir >= 0))
    return 0;
  cgprocs_opts_t o = {.max_depth = CG_SUBTREE_MAX_DEPTH, .sorted_unique = true};
  st->tgids.n = 0;
  int rc = cgprocs_collect(procs_dir, &o, &st->tgids);
  size_t n = st->tgids.n;
  if (rc != 0 && rc != -ENOENT) {
    s->delay_rc = rc;
    return 0;
  }
  s->delay_asked = true;
  s->delay_job = (delay_job_t){.st = st->delay, .tgids = st->tgids.v, .n = n, .known = &st->starts};
  return rc == 0 ? n : 0;
}

/* Whether pid, listed by this read, still is the container's process (not a reused PID). */
static bool pid_still_member(const sample_state_t *st, const char *proc_path, pid_t pid) {
  /* The load sample kept its /proc stat open: alive now means the same process. Else the
   * dearer check of /proc/PID/cgroup. */
  int alive = procstate_keep_alive(&st->task_keep, pid);
  if (alive >= 0)
    return alive == 1;
  return proc_pid_in_cgroup(proc_path, pid, st->relpath);
}

/* On the namespace worker, while the read that listed pid waits for it (nothing else uses st). */
static bool net_still_member(pid_t pid, void *ctx) {
  const sample_state_t *st = ctx;
  return pid_still_member(st, st->proc_path, pid);
}

static bool net_claim(netns_id_t id, void *ctx) {
  const sample_state_t *st = ctx;
  return st->claim == NULL || st->claim(id, st->claim_ctx);
}

/* A container seen in the host's namespace stays there while that process does: one stat and
 * one membership check instead of a round trip to the namespace worker. */
static bool still_in_host_netns(const sample_host_t *h, sample_state_t *st) {
  if (st->host_netns_pid <= 0)
    return false;
  /* Checked every HOST_NETNS_RECHECK reads: a container's processes do not change namespace
   * (runtimes create it before the first process starts), and a PID in the host's namespace
   * stays there until it exits. The check: the namespace, and the PID's membership (reuse). */
  if (++st->host_netns_reads % HOST_NETNS_RECHECK != 0)
    return true;
  char path[PATH_MAX];
  struct stat sb;
  netns_id_t host = netns_host_id();
  if (snprintf(path, sizeof(path), "%s/%d/ns/net", h->proc_path, (int)st->host_netns_pid) <
          (int)sizeof(path) &&
      stat(path, &sb) == 0 && (uint64_t)sb.st_dev == host.dev && (uint64_t)sb.st_ino == host.ino &&
      pid_still_member(st, h->proc_path, st->host_netns_pid))
    return true;
  st->host_netns_pid = 0;
  return false;
}

static netns_request_t net_request(const sample_host_t *h, sample_state_t *st, pid_t *pids,
                                   size_t n) {
  return (netns_request_t){.proc_root = h->proc_path,
                           .pids = pids,
                           .n_pids = n,
                           .still_member = net_still_member,
                           .claim = net_claim,
                           .ctx = st};
}

/* The namespace worker's request. known/n_known: the processes the delays listed, if any. */
static void prepare_network(const sample_host_t *h, sample_state_t *st, container_sample_t *s,
                            int dirfd, size_t n_known) {
  if (!h->collect_network || st->is_host || still_in_host_netns(h, st))
    return;
  size_t n;
  if (n_known > 0) {
    n = n_known < SAMPLE_NET_MAX_PIDS ? n_known : SAMPLE_NET_MAX_PIDS;
    memcpy(s->net_pids, st->tgids.v, n * sizeof(*s->net_pids));
  } else {
    n = first_pids(dirfd, s->net_pids, SAMPLE_NET_MAX_PIDS);
  }
  if (n == 0)
    return;
  s->net_req = net_request(h, st, s->net_pids, n);
  s->net_asked = true;
}

int sample_identify_netns(const sample_host_t *h, sample_state_t *st, netns_id_t *id) {
  int dirfd = open_cgroup_dir(h->primary_root, st->relpath);
  if (dirfd < 0)
    return -ENOENT;
  pid_t pids[SAMPLE_NET_MAX_PIDS];
  size_t n = first_pids(dirfd, pids, SAMPLE_NET_MAX_PIDS);
  close(dirfd);
  if (n == 0)
    return NETNS_NO_PID;
  st->proc_path = h->proc_path;
  netns_request_t req = net_request(h, st, pids, n);
  req.claim = NULL;
  netns_result_t res;
  int status = netns_identify(&req, &res);
  if (status == NETNS_OK)
    *id = res.id;
  netns_result_free(&res);
  return status;
}

void sample_read(const sample_host_t *h, sample_state_t *st, container_sample_t *s) {
  memset(s, 0, sizeof(*s));
  s->time = sample_now();
  s->delay_rc = 1;
  s->diag_code = -1;
  s->diag_changed_from = -2;
  int primary = -1;
  bool reopen = false;
  int tasks = read_cgroups(h, st, s, &primary, &reopen);
  if (tasks < 0 && primary < 0)
    return;
  s->found = true;
  const cg_metrics_t *m = &s->cg;
  remember_totals(st, m);
  s->cpu = (sample_cpu_t){.has_cfs = m->has_cfs,
                          .has_quota = m->limits.has_cpu_quota,
                          .has_cpu_time = m->has_cpu_time,
                          .throttled_us = m->cfs_throttled_us,
                          .throttled_periods = m->cfs_throttled_periods,
                          .periods = m->cfs_periods,
                          .cpu_usage_us = m->cpu_user_us + m->cpu_system_us};
  if (st->is_host) {
    if (h->collect_load)
      read_host_load(h, s);
  } else if (h->collect_load && tasks >= 0) {
    /* The latest 5 s sample; a container's first read takes one (its averages start there). */
    if (!st->load.have)
      load_sample_now(h, st);
    s->has_tasks = loadstate_get(&st->load, &s->tasks, s->load, NULL);
    s->tasks_hierarchy = st->tasks_hierarchy;
  }
  if (tasks >= 0)
    tasks = tasks_dir(h, st, tasks); /* where the delays list the processes */
  size_t listed = 0;
  if (!st->is_host)
    listed = prepare_delay(h, st, s, tasks);
  prepare_network(h, st, s, primary, listed);
  if (!st->dirs_kept || reopen)
    sample_state_close(st);
}

/* ---- the diagnosis ---- */

/* The host's /proc/stat, shared by every container's read: read again when older than
 * HOST_STAT_MAX_AGE of the Interval, so a container's CPU counters and the host's cover the same
 * window within that (the diagnosis compares them). */
#define HOST_STAT_MAX_AGE 0.04
static pthread_mutex_t host_cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static hoststat_t host_cpu;
static double host_cpu_time = -1;
static int host_cpu_err;

void sample_host_cpu_reset(void) {
  pthread_mutex_lock(&host_cpu_lock);
  host_cpu_time = -1;
  pthread_mutex_unlock(&host_cpu_lock);
}

/* Under host_cpu_lock: /proc/stat as read at most HOST_STAT_MAX_AGE of the Interval ago. */
static void host_stat_fresh(const sample_host_t *h) {
  double now = sample_now();
  if (host_cpu_time < 0 || now - host_cpu_time >= HOST_STAT_MAX_AGE * h->interval) {
    host_cpu_err = hoststat_read(h->proc_path, &host_cpu);
    host_cpu_time = now;
  }
}

/* Idle and total CPU ticks of the CPUs in mask (NULL: all), and when they were read. */
static bool host_cpu_ticks(const sample_host_t *h, const hs_cpumask_t *mask, uint64_t *idle,
                           uint64_t *total, double *when) {
  pthread_mutex_lock(&host_cpu_lock);
  host_stat_fresh(h);
  unsigned n;
  bool ok = host_cpu_err == 0 && hoststat_sum(&host_cpu, mask, idle, total, &n) == 0;
  *when = host_cpu_time;
  pthread_mutex_unlock(&host_cpu_lock);
  return ok;
}

static void read_host_load(const sample_host_t *h, container_sample_t *s) {
  hostload_t hl;
  if (hostload_read(h->proc_path, &hl) != 0)
    return;
  pthread_mutex_lock(&host_cpu_lock);
  host_stat_fresh(h);
  bool have = host_cpu_err == 0 && host_cpu.has_procs;
  s->tasks =
      (task_counts_t){.running = host_cpu.procs_running, .uninterruptible = host_cpu.procs_blocked};
  pthread_mutex_unlock(&host_cpu_lock);
  s->has_tasks = have;
  for (int i = 0; i < 3; i++)
    s->load[i] = hl.avg[i];
}

/* The CPU diagnosis of this read: s->diag_code (-1: none yet), s->diag_changed_from. t: the
 * delays, NULL when not read. */
static void diagnose_cpu(const sample_host_t *h, sample_state_t *st, container_sample_t *s,
                         const delay_totals_t *t) {
  const sample_cpu_t *m = &s->cpu;
  /* The container's counters were read when the read began. */
  diag_sample_t d = {.time_s = s->time, .ticks_per_s = sysconf(_SC_CLK_TCK)};
  if (m->has_cfs) {
    d.has_throttling = true;
    d.throttled_us = m->throttled_us;
    d.throttled_periods = m->throttled_periods;
    d.periods = m->periods;
  }
  d.has_quota = m->has_quota;
  if (t && (t->present & TS_F_CTXSW)) {
    d.has_nivcsw = true;
    d.nivcsw = t->nivcsw;
  }
  if (t && t->delay_on && (t->present & TS_F_DELAY(TS_DELAY_CPU))) {
    d.has_cpu_delay = true;
    d.cpu_delay_ns = t->delay_ns[TS_DELAY_CPU];
  }
  if (m->has_cpu_time) {
    d.has_cpu_usage = true;
    d.cpu_usage_us = m->cpu_usage_us;
  }
  const hs_cpumask_t *mask = t && t->has_cpus ? &t->cpus : NULL;
  d.has_host = host_cpu_ticks(h, mask, &d.host_idle_ticks, &d.host_total_ticks, &d.host_time_s);
  d.host_cpus_sig = mask ? fnv1a64(mask, sizeof(*mask)) : 0;
  int code = diag_track(&st->diag, &d, &s->diag_changed_from, s->diag_why, sizeof(s->diag_why));
  s->diag_code = code < 0 ? -1 : code;
  if (code < 0)
    s->diag_changed_from = -2;
}

void sample_finish(const sample_host_t *h, sample_state_t *st, container_sample_t *s) {
  if (!s->found)
    return;
  if (s->delay_asked)
    s->delay_rc = s->delay_job.rc;
  if (h->collect_diagnosis && !st->is_host)
    diagnose_cpu(h, st, s, s->delay_rc == 0 ? &s->delay_job.out : NULL);
  if (s->net_asked && s->net_status == NETNS_HOST)
    st->host_netns_pid = s->net.pid;
}

void sample_release(container_sample_t *s) {
  if (s->net_asked)
    netns_result_free(&s->net);
  s->net_asked = false;
}
