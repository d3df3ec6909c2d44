/* collectd glue: configuration, discovery of containers, read callbacks for groups of containers
 * (see "read callbacks: containers in shards"), and dispatch. Everything that parses or computes
 * lives in the other modules, which know nothing of collectd. */
#include "collectd.h"
#include "configfile.h"
#include "plugin.h"
#include "utils/common/common.h"
#include "utils/metadata/meta_data.h"

#include "blockdev.h"
#include "cgroup_v1.h"
#include "cgfiles.h"
#include "cgroup_v2.h"
#include "cgroupfs.h"
#include "delayacct.h"
#include "diagnosis.h"
#include "identify.h"
#include "genl.h"
#include "hoststat.h"
#include "loadavg.h"
#include "metrics.h"
#include "names.h"
#include "netns.h"
#include "netns_registry.h"
#include "proccgroup.h"
#include "procstate.h"
#include "select.h"
#include "tasksample.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PLUGIN_NAME "container"
#define READ_GROUP "container"
#define HOST_INSTANCE "_host"
#define WALK_MAX_DEPTH 10
#define MAX_COMPLAINTS 8
#define NET_MAX_PIDS 4
#define HOST_NETNS_RECHECK 10
#define LIMITS_RECHECK 10
#ifndef CONTAINER_TYPES_DB
#define CONTAINER_TYPES_DB "/usr/share/collectd-container/container-types.db"
#endif

/* ---- configuration ---- */

static char conf_cgroup_root[PATH_MAX] = "/sys/fs/cgroup";
static char conf_proc_root[PATH_MAX] = "/proc";
static char conf_docker_root[PATH_MAX] = "/var/lib/docker";
static char conf_k8s_log_dir[PATH_MAX] = "/var/log/containers";
static char conf_podman_json[PATH_MAX] =
    "/var/lib/containers/storage/overlay-containers/containers.json";
static select_list_t *conf_containers;
static bool conf_ignore_selected;
static unsigned conf_groups =
    CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;
static bool conf_collect_load = true;
static bool conf_collect_all_states = false;
/* /proc R+D by default: that is what the kernel's load average counts. cgroupstats (v1 only) is
 * cheaper but misses killable and freezable waits (see loadavg.h). */
static task_method_kind_t conf_task_method = TASK_METHOD_PROCSTATE;
static bool conf_collect_host = false;
static bool conf_notifications = true;
static bool conf_collect_network = true;
static select_list_t *conf_interfaces;
static bool conf_ignore_selected_interface = true;
static bool conf_interface_given;
static bool conf_failed; /* a configuration error: init refuses to start the plugin */
static bool conf_collect_delay = true;
static bool conf_enable_delayacct = false;
static bool conf_collect_diagnosis = true;
/* Meta data (container id, runtime, cgroup) on the first list of each read, on every list or
 * on none: collectd clones it for every list it queues, which doubles its cost per list. */
typedef enum { META_FIRST, META_ALL, META_NONE } meta_mode_t;
static meta_mode_t conf_meta = META_FIRST;
/* One value list per metric group, with the types of contrib/container-types.db. */
static bool conf_compact = false;
/* File descriptors of cgroup directories and files kept open between reads (0: none). */
static long conf_max_open_files = 65536;
static long conf_per_callback = 64; /* ContainersPerCallback, see shard_add() */

/* ---- state shared by the callbacks ---- */

static cg_layout_t layout;
static int v1_root_fd[CG_V1_COUNT] = {-1, -1, -1, -1, -1};
static int v2_root_fd = -1;
static int primary_root_fd = -1;
static int proc_root_fd = -1; /* ProcRoot, for the task states */
/* Hybrid: the unified tree's cpu.stat splits CPU time (its root shows it: kernels since 5.x; on
 * older ones only the children had it, so the plugin does not count on it there). */
static bool unified_cpu_time;
static bool initialized;

/* Network: off for good after a missing privilege or a worker that could not return home. */
static atomic_bool network_on;
static netns_registry_t *netns_owners;

/* Delay accounting: off for good after a missing CAP_NET_ADMIN or a kernel without taskstats. */
static atomic_bool delay_on;
static atomic_bool delay_off_warned;

/* The host's CPU times, read once per interval for all containers (the diagnosis). */
static pthread_mutex_t hoststat_lock = PTHREAD_MUTEX_INITIALIZER;
static hoststat_t hoststat_cache;
static double hoststat_time = -1;
static int hoststat_err;

/* What the "gone" notification reports. */
typedef struct {
  uint64_t cpu_us, memory_peak, oom_kills, io_read, io_write;
} totals_t;

/* The value lists of a read callback's containers, handed to collectd in bursts. collectd wakes
 * a sleeping writer thread for each list it queues: lists dispatched one at a time between file
 * reads cost a wake-up (two context switches) each; lists queued back to back find the writers
 * awake. */
#define BATCH_VALUES 11 /* the widest list: container_delay */
struct container_s;
typedef struct {
  const struct container_s *c;
  cdtime_t time;
  char type[DATA_MAX_NAME_LEN];
  char type_instance[DATA_MAX_NAME_LEN];
  value_t values[BATCH_VALUES];
  size_t n_values;
  bool meta;
} batch_list_t;
/* The network requests of a read callback's containers, sent to the namespace worker as one
 * batch after their other reads: a round trip per container cost two thread wake-ups. Sized once
 * for every member of the callback. */
typedef struct {
  struct container_s **owners;
  pid_t (*pids)[NET_MAX_PIDS];
  netns_request_t *reqs;
  netns_result_t *results;
  int *statuses;
  size_t n, cap;
} net_pending_t;
/* The delay reads of a read callback's containers: their processes' taskstats are asked in one
 * batched query after the other reads (two system calls per 32 processes instead of two per
 * process). Sized once for every member of the callback. */
typedef struct {
  struct container_s **owners;
  delay_job_t *jobs;
  size_t n, cap;
} delay_pending_t;
typedef struct {
  batch_list_t *lists;
  size_t n, cap;
  net_pending_t net;
  delay_pending_t delay;
} batch_t;

/* What the CPU diagnosis needs of a read's cgroup values, kept while its delays wait for the
 * batched query. */
typedef struct {
  bool has_cfs, has_quota, has_cpu_time;
  uint64_t throttled_us, throttled_periods, periods, cpu_usage_us;
} cpu_inputs_t;

struct shard_s;

typedef struct container_s {
  char *relpath; /* below the hierarchy roots, "" for the host */
  char id[128];
  char name[DATA_MAX_NAME_LEN];
  char runtime[32];
  char cb_name[DATA_MAX_NAME_LEN + 16];
  bool is_host;
  bool seen; /* by the current discovery pass */
  bool host_netns_noted;
  pid_t host_netns_pid; /* the process last seen in the host's network namespace, 0 if none */
  unsigned host_netns_reads;
  bool provisional_name; /* a fallback name that discovery keeps trying to resolve */
  int name_attempts;
  /* Serialises a collectd read and the final read the exit watcher may start. */
  pthread_mutex_t read_lock;
  /* What the "gone" notification reports: the last values read, the highest usage seen. */
  totals_t last;
  uint64_t usage_high;
  int events_wd; /* inotify watch on the unified tree's cgroup.events, -1 if none */
  /* When this read started: the values' time, so a late dispatch on a busy host does not skew
   * the rates computed from them. */
  cdtime_t sample_time;
  bool final_read_done;
  meta_data_t *meta;
  bool meta_due;         /* the next list of this read carries the meta data */
  batch_t *batch;        /* during a read: where its lists and network request wait */
  struct shard_s *shard; /* the read callback that reads it, see shard_add() */
  size_t shard_index;
  uint32_t delays_shown; /* TS_F_DELAY bits of the rarer delay kinds once they moved */
  loadavg_t load;
  task_method_t task_method;
  delay_state_t *delay; /* NULL when delay collection is off */
  diag_tracker_t diag;
  cg_limits_t limits;  /* of the last read that read the limit files */
  unsigned limits_age; /* reads since then, modulo LIMITS_RECHECK; 0: read them now */
  /* v1: the last cpu.stat read had no CFS period yet and there is no quota (see
   * container_read_locked: it is then read with the limits only) */
  bool cfs_idle;
  int dir_v1[CG_V1_COUNT]; /* see dirs_open() */
  int dir_v2;
  bool dirs_open, dirs_kept;
  /* Hybrid: the unified tree's cgroup was empty while the v1 one had tasks, so the load sample
   * reads v1's list while these directories stay open. */
  bool tasks_not_in_unified;
  int dirs_reserved; /* fds taken from the budget for them */
  cg_files_t *files;
  pid_t *tgids;
  size_t tgids_cap;
  /* The threads' digest when c->tgids was read (0: none), and how many it listed: the same
   * threads mean the same processes, so the list is not read again. */
  uint64_t tgids_digest;
  size_t tgids_n;
  bool starts_sampled;        /* this read's load sample listed every thread in c->starts */
  cpu_inputs_t delay_cpu;     /* this read's, for the diagnosis after the delays */
  procstate_starts_t starts;  /* thread start times the load sample read, for the delays */
  procstate_keep_t task_keep; /* kept /proc stat fds of the load sample's threads */
  char complained[MAX_COMPLAINTS][64];
  int n_complained;
  struct container_s *next;
  struct container_s *hnext; /* registry_hash chain */
} container_t;

/* Containers with a registered read callback. Only discovery changes the list; the read
 * callbacks never look at it, so only discovery, the exit watcher and shutdown take the lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static container_t *registry;

/* The method (cgroupstats or /proc) each hierarchy uses for task states, said once at INFO. */
static pthread_mutex_t method_lock = PTHREAD_MUTEX_INITIALIZER;
static bool method_logged[2];

/* ---- helpers ---- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dirs_close(container_t *c);

static void container_free(void *arg) {
  container_t *c = arg;
  if (!c)
    return;
  pthread_mutex_destroy(&c->read_lock);
  meta_data_destroy(c->meta);
  delay_state_destroy(c->delay);
  free(c->tgids);
  procstate_starts_free(&c->starts);
  procstate_keep_close(&c->task_keep);
  if (c->dirs_open)
    dirs_close(c);
  cg_files_destroy(c->files);
  free(c->relpath);
  free(c);
}

/* A container found by discovery, not registered yet. */
static container_t *container_new(const char *relpath) {
  container_t *c = calloc(1, sizeof(*c));
  if (c && !(c->relpath = strdup(relpath))) {
    free(c);
    c = NULL;
  }
  return c;
}

/* Frees a container that never had a read callback. */
static void container_discard(container_t *c) {
  free(c->relpath);
  free(c);
}

/* Malformed files are reported once per container and file, not every interval. */
static void report_file_error(void *ctx, const char *file, int err, const char *what) {
  container_t *c = ctx;
  for (int i = 0; i < c->n_complained; i++)
    if (strcmp(c->complained[i], file) == 0)
      return;
  if (c->n_complained < MAX_COMPLAINTS)
    snprintf(c->complained[c->n_complained++], sizeof(c->complained[0]), "%s", file);
  WARNING(PLUGIN_NAME " plugin: container %s: cannot use %s/%s: %s (%s); the container's other "
                      "values are still collected.",
          c->name, c->relpath, file, what, err ? strerror(err < 0 ? -err : err) : "bad format");
}

static void dispatch_list(batch_list_t *l) {
  value_list_t vl = VALUE_LIST_INIT;
  vl.values = l->values;
  vl.values_len = l->n_values;
  vl.meta = l->meta ? l->c->meta : NULL;
  vl.time = l->time;
  sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, l->c->name, sizeof(vl.plugin_instance));
  memcpy(vl.type, l->type, sizeof(vl.type));
  memcpy(vl.type_instance, l->type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

/* The lists' containers stay valid meanwhile: the read callback holds its shard's lock. */
static void batch_flush(batch_t *b) {
  for (size_t i = 0; i < b->n; i++)
    dispatch_list(&b->lists[i]);
  b->n = 0;
}

/* Queued in the read's batch; outside one (the exit watcher's final read), at once. Every list
 * has at most BATCH_VALUES values (the compact types' widest). */
static void dispatch(container_t *c, const char *type, const char *type_instance, value_t *values,
                     size_t n) {
  if (n > BATCH_VALUES) { /* a list type this file defines: a bug, not an input */
    ERROR(PLUGIN_NAME " plugin: %s: %zu values, more than %d.", type, n, BATCH_VALUES);
    return;
  }
  batch_t *b = c->batch;
  if (b != NULL && b->n == b->cap)
    batch_flush(b);
  batch_list_t now, *l = b != NULL ? &b->lists[b->n++] : &now;
  l->c = c;
  l->time = c->sample_time;
  sstrncpy(l->type, type, sizeof(l->type));
  sstrncpy(l->type_instance, type_instance ? type_instance : "", sizeof(l->type_instance));
  memcpy(l->values, values, n * sizeof(*values));
  l->n_values = n;
  l->meta = c->meta_due;
  if (c->meta_due)
    c->meta_due = conf_meta == META_ALL;
  if (b == NULL)
    dispatch_list(l);
}

static void dispatch_derive(container_t *c, const char *type, const char *ti, uint64_t v) {
  value_t value = {.derive = (derive_t)v};
  dispatch(c, type, ti, &value, 1);
}

static void dispatch_gauge(container_t *c, const char *type, const char *ti, double v) {
  value_t value = {.gauge = v};
  dispatch(c, type, ti, &value, 1);
}

static void dispatch_pair(container_t *c, const char *type, const char *ti, uint64_t a,
                          uint64_t b) {
  value_t values[2] = {{.derive = (derive_t)a}, {.derive = (derive_t)b}};
  dispatch(c, type, ti, values, 2);
}

/* ---- compact mode: one list per group; the types are in contrib/container-types.db ---- */

typedef struct {
  const char *type;
  size_t n_values;
} compact_type_t;

enum { CT_CPU, CT_MEMORY, CT_BLKIO, CT_PIDS, CT_PRESSURE, CT_LOAD, CT_DELAY, CT_IF, CT_COUNT };
static const compact_type_t compact_types[CT_COUNT] = {
    {"container_cpu", 5},    {"container_memory", 8},   {"container_blkio", 4},
    {"container_pids", 2},   {"container_pressure", 6}, {"container_load", 8},
    {"container_delay", 11}, {"container_if", 8}};

/* Absent values: NaN for gauges; counters the kernel does not have read 0. */
static value_t gauge_or_nan(bool has, uint64_t v) {
  return (value_t){.gauge = has ? (double)v : NAN};
}

static value_t derive_or_zero(bool has, uint64_t v) {
  return (value_t){.derive = has ? (derive_t)v : 0};
}

static void dispatch_compact(container_t *c, int kind, const char *ti, value_t *values) {
  dispatch(c, compact_types[kind].type, ti, values, compact_types[kind].n_values);
}

static void dispatch_metrics_compact(container_t *c, const cg_metrics_t *m) {
  if (m->has_cpu_time || m->has_cfs) {
    value_t v[5] = {derive_or_zero(m->has_cpu_time, m->cpu_user_us),
                    derive_or_zero(m->has_cpu_time, m->cpu_system_us),
                    derive_or_zero(m->has_cfs, m->cfs_periods),
                    derive_or_zero(m->has_cfs, m->cfs_throttled_periods),
                    derive_or_zero(m->has_cfs, m->cfs_throttled_us / 1000)};
    dispatch_compact(c, CT_CPU, NULL, v);
  }
  if (m->has_mem_usage || m->has_mem_anon) {
    value_t v[8] = {gauge_or_nan(m->has_mem_usage, m->mem_usage),
                    gauge_or_nan(m->has_mem_limit, m->mem_limit),
                    gauge_or_nan(m->has_mem_anon, m->mem_anon),
                    gauge_or_nan(m->has_mem_file, m->mem_file),
                    gauge_or_nan(m->has_mem_swap, m->mem_swap),
                    derive_or_zero(m->has_pgfaults, m->pgfault),
                    derive_or_zero(m->has_pgfaults, m->pgmajfault),
                    derive_or_zero(m->has_oom_kill, m->oom_kill)};
    dispatch_compact(c, CT_MEMORY, NULL, v);
  }
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    const cg_blkdev_t *d = &m->blkdev[i];
    char dev[64];
    blockdev_name(d->major, d->minor, dev, sizeof(dev));
    value_t v[4] = {{.derive = (derive_t)d->read_bytes},
                    {.derive = (derive_t)d->write_bytes},
                    {.derive = (derive_t)d->read_ops},
                    {.derive = (derive_t)d->write_ops}};
    dispatch_compact(c, CT_BLKIO, dev, v);
  }
  if (m->has_pids_current) {
    value_t v[2] = {gauge_or_nan(true, m->pids_current),
                    gauge_or_nan(m->has_pids_max, m->pids_max)};
    dispatch_compact(c, CT_PIDS, NULL, v);
  }
  bool any_psi = false;
  value_t psi[6];
  for (int r = 0; r < CG_PSI_COUNT; r++) {
    any_psi = any_psi || m->psi[r].has_some;
    psi[2 * r] = derive_or_zero(m->psi[r].has_some, m->psi[r].some_total_us / 1000);
    psi[2 * r + 1] = derive_or_zero(m->psi[r].has_full, m->psi[r].full_total_us / 1000);
  }
  if (any_psi)
    dispatch_compact(c, CT_PRESSURE, NULL, psi);
}

static void dispatch_metrics(container_t *c, const cg_metrics_t *m) {
  if (conf_compact) {
    dispatch_metrics_compact(c, m);
    return;
  }
  if (m->has_cpu_time)
    dispatch_pair(c, "ps_cputime", NULL, m->cpu_user_us, m->cpu_system_us);
  /* Without a quota CFS never throttles: three lists of zeros until one is set. */
  if (m->has_cfs && (m->has_cpu_quota || m->cfs_periods > 0)) {
    dispatch_derive(c, "operations", "cfs_periods", m->cfs_periods);
    dispatch_derive(c, "operations", "cfs_throttled", m->cfs_throttled_periods);
    dispatch_derive(c, "total_time_in_ms", "cfs_throttled", m->cfs_throttled_us / 1000);
  }
  if (m->has_mem_usage)
    dispatch_gauge(c, "memory", "usage", (double)m->mem_usage);
  if (m->has_mem_limit)
    dispatch_gauge(c, "memory", "limit", (double)m->mem_limit);
  if (m->has_mem_anon)
    dispatch_gauge(c, "memory", "anon", (double)m->mem_anon);
  if (m->has_mem_file)
    dispatch_gauge(c, "memory", "file", (double)m->mem_file);
  if (m->has_mem_swap)
    dispatch_gauge(c, "memory", "swap", (double)m->mem_swap);
  if (m->has_pgfaults)
    dispatch_pair(c, "vmpage_faults", NULL, m->pgfault, m->pgmajfault);
  if (m->has_oom_kill)
    dispatch_derive(c, "total_events", "oom_kill", m->oom_kill);
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    const cg_blkdev_t *d = &m->blkdev[i];
    char dev[64];
    blockdev_name(d->major, d->minor, dev, sizeof(dev));
    dispatch_pair(c, "disk_octets", dev, d->read_bytes, d->write_bytes);
    dispatch_pair(c, "disk_ops", dev, d->read_ops, d->write_ops);
  }
  if (m->has_pids_current)
    dispatch_gauge(c, "count", "pids", (double)m->pids_current);
  if (m->has_pids_max)
    dispatch_gauge(c, "count", "pids_max", (double)m->pids_max);
  static const char *const psi_names[CG_PSI_COUNT] = {"cpu", "memory", "io"};
  for (int r = 0; r < CG_PSI_COUNT; r++) {
    char ti[DATA_MAX_NAME_LEN];
    if (m->psi[r].has_some) {
      snprintf(ti, sizeof(ti), "pressure_%s_some", psi_names[r]);
      dispatch_derive(c, "total_time_in_ms", ti, m->psi[r].some_total_us / 1000);
    }
    if (m->psi[r].has_full) {
      snprintf(ti, sizeof(ti), "pressure_%s_full", psi_names[r]);
      dispatch_derive(c, "total_time_in_ms", ti, m->psi[r].full_total_us / 1000);
    }
  }
}

/* Opens the container's directory below a hierarchy root; -1 when it is not there. */
static int open_cgroup_dir(int root_fd, const char *relpath) {
  if (root_fd < 0)
    return -1;
  if (relpath[0] == '\0')
    return fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  return openat(root_fd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void log_task_method_once(int hierarchy, const task_method_t *method) {
  pthread_mutex_lock(&method_lock);
  if (!method_logged[hierarchy]) {
    method_logged[hierarchy] = true;
    if (method->fallback_reason)
      INFO(PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s (cgroupstats: %s).",
           hierarchy ? "cgroup v2" : "cgroup v1 cpu", task_method_name(method->kind),
           strerror(-method->fallback_reason));
    else
      INFO(PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s.",
           hierarchy ? "cgroup v2" : "cgroup v1 cpu", task_method_name(method->kind));
  }
  pthread_mutex_unlock(&method_lock);
}

/* Hybrid: whether the load sample lists the unified tree's cgroup.threads. runc and systemd
 * put a container's tasks in both trees; the unified list can stay open and be re-read, while
 * v1's tasks file is cached by the kernel for a second after a read, so opened at every read. */
static bool tasks_from_unified(const container_t *c) {
  return layout.kind == CG_LAYOUT_HYBRID && !c->is_host && conf_collect_load &&
         conf_task_method == TASK_METHOD_PROCSTATE;
}

static int sample_tasks(container_t *c, int dirfd, task_counts_t *counts) {
  /* The start times go to the delay accounting, read next (not for the host: no delays). */
  procstate_starts_t *starts = c->is_host ? NULL : &c->starts;
  c->task_keep.list_files = c->dirs_kept ? c->files : NULL;
  return proc_root_fd >= 0 ? task_sample_subtree_at(dirfd, proc_root_fd, &c->task_method, counts,
                                                    starts, &c->task_keep)
                           : task_sample_subtree(dirfd, conf_proc_root, &c->task_method, counts);
}

static uint64_t task_counts_total(const task_counts_t *t) {
  return t->running + t->sleeping + t->uninterruptible + t->stopped;
}

/* Samples the tasks of dirfd's subtree; v1_dirfd >= 0: dirfd is the hybrid unified tree's, and
 * v1_dirfd the fallback where that cgroup is empty or gone. Returns the directory counted: the
 * delays list its processes. */
static int read_load(container_t *c, int dirfd, int hierarchy, int v1_dirfd) {
  task_counts_t counts;
  int err = sample_tasks(c, dirfd, &counts);
  if (v1_dirfd >= 0 && (err == -ENOENT || (err == 0 && task_counts_total(&counts) == 0))) {
    task_counts_t v1;
    int v1_err = sample_tasks(c, v1_dirfd, &v1);
    if (v1_err == 0 && (err != 0 || task_counts_total(&v1) > 0)) {
      c->tasks_not_in_unified = task_counts_total(&v1) > 0;
      counts = v1;
      err = 0;
      dirfd = v1_dirfd;
      hierarchy = 0;
    }
  }
  if (err != 0) {
    if (err != -ENOENT)
      report_file_error(c, "task states", err, "cannot count the cgroup's tasks");
    return dirfd;
  }
  log_task_method_once(hierarchy, &c->task_method);
  c->starts_sampled = !c->is_host && c->task_method.kind == TASK_METHOD_PROCSTATE;
  /* The host's subtree holds collectd, busy right now because of this read: this thread, and
   * often other read and write threads. The kernel samples at moments unrelated to collectd's
   * work, where they are rarely runnable: collectd's threads are left out. */
  if (c->is_host) {
    task_counts_t self = {0};
    if (proc_root_fd < 0 || procstate_count_self(proc_root_fd, &self) != 0)
      self.running = 1; /* at least this thread */
    counts.running -= self.running < counts.running ? self.running : counts.running;
    counts.uninterruptible -= self.uninterruptible < counts.uninterruptible
                                  ? self.uninterruptible
                                  : counts.uninterruptible;
  }
  loadavg_update(&c->load, now_seconds(), (double)task_counts_load(&counts));
  if (conf_compact) {
    bool all = conf_collect_all_states;
    value_t v[8] = {gauge_or_nan(true, counts.running), gauge_or_nan(true, counts.uninterruptible),
                    gauge_or_nan(all, counts.sleeping), gauge_or_nan(all, counts.stopped),
                    gauge_or_nan(all, counts.iowait),   {.gauge = c->load.avg[0]},
                    {.gauge = c->load.avg[1]},          {.gauge = c->load.avg[2]}};
    dispatch_compact(c, CT_LOAD, NULL, v);
    return dirfd;
  }
  dispatch_gauge(c, "ps_state", "running", (double)counts.running);
  dispatch_gauge(c, "ps_state", "blocked", (double)counts.uninterruptible);
  if (conf_collect_all_states) {
    dispatch_gauge(c, "ps_state", "sleeping", (double)counts.sleeping);
    dispatch_gauge(c, "ps_state", "stopped", (double)counts.stopped);
    dispatch_gauge(c, "ps_state", "iowait", (double)counts.iowait);
  }
  value_t load[3] = {
      {.gauge = c->load.avg[0]}, {.gauge = c->load.avg[1]}, {.gauge = c->load.avg[2]}};
  dispatch(c, "load", NULL, load, 3);
  return dirfd;
}

/* Up to max PIDs from cgroup.procs of the cgroup and, if it has none, of its descendants. */
static size_t collect_pids(int dirfd, pid_t *pids, size_t max, int depth) {
  char buf[512]; /* only the first few PIDs are needed: one read, complete lines only */
  size_t n = 0;
  int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0)
    close(fd);
  if (len > 0) {
    buf[len] = '\0';
    for (char *line = buf, *next; (next = strchr(line, '\n')) != NULL && n < max; line = next) {
      *next++ = '\0';
      uint64_t pid;
      if (parse_u64(line, &pid) == 0 && pid > 0)
        pids[n++] = (pid_t)pid;
    }
  }
  if (n > 0 || depth >= 3 || !cg_dir_may_have_children(dirfd))
    return n;
  /* A fresh open file description: a dup would share (and move) the kept fd's offset. */
  int dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = dup >= 0 ? fdopendir(dup) : NULL;
  if (!dir) {
    if (dup >= 0)
      close(dup);
    return 0;
  }
  struct dirent *de;
  while (n == 0 && (de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)
      continue;
    int child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (child >= 0) {
      n = collect_pids(child, pids, max, depth + 1);
      close(child);
    }
  }
  closedir(dir);
  return n;
}

/* Whether pid, listed by this read, still is the container's process (not a reused PID). */
static bool still_member(const container_t *c, pid_t pid) {
  /* The load sample kept its /proc stat open: alive now means the same process. Else the
   * dearer check of /proc/PID/cgroup. */
  int alive = procstate_keep_alive(&c->task_keep, pid);
  if (alive >= 0)
    return alive == 1;
  return proc_pid_in_cgroup(conf_proc_root, pid, c->relpath);
}

/* On the namespace worker, while the read that listed pid waits for it (nothing else uses c). */
static bool net_still_member(pid_t pid, void *ctx) {
  return still_member(ctx, pid);
}

static bool net_claim(netns_id_t id, void *ctx) {
  const container_t *c = ctx;
  return netns_registry_see(netns_owners, id, c->id, cdtime());
}

static void network_off(const char *why) {
  bool was_on = atomic_exchange(&network_on, false);
  if (was_on)
    ERROR(PLUGIN_NAME " plugin: %s; network collection is now off, everything else goes on.", why);
}

/* A container seen in the host's namespace stays there while that process does: one stat and
 * one membership check instead of a round trip to the namespace worker. */
static bool still_in_host_netns(container_t *c) {
  if (c->host_netns_pid <= 0)
    return false;
  /* Checked every HOST_NETNS_RECHECK reads: a container's processes do not change namespace
   * (runtimes create it before the first process starts), and a PID in the host's namespace
   * stays there until it exits. The check: the namespace, and the PID's membership (reuse). */
  if (++c->host_netns_reads % HOST_NETNS_RECHECK != 0)
    return true;
  char path[PATH_MAX];
  struct stat st;
  netns_id_t host = netns_host_id();
  if (snprintf(path, sizeof(path), "%s/%d/ns/net", conf_proc_root, (int)c->host_netns_pid) <
          (int)sizeof(path) &&
      stat(path, &st) == 0 && (uint64_t)st.st_dev == host.dev && (uint64_t)st.st_ino == host.ino &&
      still_member(c, c->host_netns_pid))
    return true;
  c->host_netns_pid = 0;
  return false;
}

/* Fills req, whose candidates go to pids, for the namespace worker; false when there is nothing to
 * ask. known/n_known: the container's processes if this read already listed them (delays). */
static bool net_request_prepare(container_t *c, int dirfd, const pid_t *known, size_t n_known,
                                pid_t *pids, netns_request_t *req) {
  if (still_in_host_netns(c))
    return false;
  size_t n;
  if (n_known > 0) {
    n = n_known < NET_MAX_PIDS ? n_known : NET_MAX_PIDS;
    memcpy(pids, known, n * sizeof(*pids));
  } else {
    n = collect_pids(dirfd, pids, NET_MAX_PIDS, 0);
  }
  if (n == 0)
    return false;
  *req = (netns_request_t){.proc_root = conf_proc_root,
                           .pids = pids,
                           .n_pids = n,
                           .still_member = net_still_member,
                           .claim = net_claim,
                           .ctx = c};
  return true;
}

/* Dispatches what the worker found in c's namespace, or notes why there is nothing. */
static void net_result_handle(container_t *c, int status, const netns_result_t *res) {
  switch (status) {
  case NETNS_OK:
    for (size_t i = 0; i < res->n_ifs; i++) {
      const netns_if_stats_t *s = &res->ifs[i];
      if (!select_matches(conf_interfaces, s->name))
        continue;
      char ifname[DATA_MAX_NAME_LEN];
      sanitize_name(ifname, s->name, sizeof(ifname));
      if (conf_compact) {
        value_t v[8] = {{.derive = (derive_t)s->rx_bytes},   {.derive = (derive_t)s->tx_bytes},
                        {.derive = (derive_t)s->rx_packets}, {.derive = (derive_t)s->tx_packets},
                        {.derive = (derive_t)s->rx_errors},  {.derive = (derive_t)s->tx_errors},
                        {.derive = (derive_t)s->rx_dropped}, {.derive = (derive_t)s->tx_dropped}};
        dispatch_compact(c, CT_IF, ifname, v);
        continue;
      }
      dispatch_pair(c, "if_octets", ifname, s->rx_bytes, s->tx_bytes);
      dispatch_pair(c, "if_packets", ifname, s->rx_packets, s->tx_packets);
      dispatch_pair(c, "if_errors", ifname, s->rx_errors, s->tx_errors);
      dispatch_pair(c, "if_dropped", ifname, s->rx_dropped, s->tx_dropped);
    }
    break;
  case NETNS_HOST:
    c->host_netns_pid = res->pid;
    if (!c->host_netns_noted) {
      c->host_netns_noted = true;
      DEBUG(PLUGIN_NAME " plugin: container %s uses the host's network namespace: no interface "
                        "values of its own.",
            c->name);
      if (c->meta)
        meta_data_add_string(c->meta, "network_namespace", "host");
    }
    break;
  case NETNS_NOPERM:
    network_off(res->errmsg[0] ? res->errmsg : NETNS_PERM_HINT);
    break;
  case NETNS_POISONED:
    network_off(res->errmsg[0] ? res->errmsg
                               : "the namespace worker cannot return to the host "
                                 "namespace");
    break;
  case NETNS_NO_PID:
  case NETNS_SKIPPED:
  case NETNS_STOPPED:
    break;
  default:
    report_file_error(c, "ns/net", status, res->errmsg[0] ? res->errmsg : "network read failed");
  }
}

/* Within a read callback's pass the request waits in its batch (see net_pending_read()); outside
 * one (the exit watcher's final read) it is read at once. */
static void read_network(container_t *c, int dirfd, const pid_t *known, size_t n_known) {
  net_pending_t *p = c->batch != NULL ? &c->batch->net : NULL;
  if (p != NULL && p->n < p->cap) {
    if (net_request_prepare(c, dirfd, known, n_known, p->pids[p->n], &p->reqs[p->n]))
      p->owners[p->n++] = c;
    return;
  }
  pid_t pids[NET_MAX_PIDS];
  netns_request_t req;
  if (!net_request_prepare(c, dirfd, known, n_known, pids, &req))
    return;
  netns_result_t res;
  int status = netns_read(&req, &res);
  net_result_handle(c, status, &res);
  netns_result_free(&res);
}

/* Keeps what the "gone" notification needs; m holds only what this read found. */
static void remember_totals(container_t *c, const cg_metrics_t *m) {
  if (m->has_mem_usage && m->mem_usage > c->usage_high)
    c->usage_high = m->mem_usage;
  if (!m->has_cpu_time && !m->has_mem_usage)
    return;
  totals_t t = {.cpu_us = m->cpu_user_us + m->cpu_system_us,
                .memory_peak = m->has_mem_peak ? m->mem_peak : 0,
                .oom_kills = m->oom_kill};
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    t.io_read += m->blkdev[i].read_bytes;
    t.io_write += m->blkdev[i].write_bytes;
  }
  c->last = t;
}

/* Idle and total CPU ticks of the CPUs in mask (NULL: all), from a /proc/stat read at most
 * every half second for all containers. */
static bool host_cpu_ticks(const hs_cpumask_t *mask, uint64_t *idle, uint64_t *total) {
  pthread_mutex_lock(&hoststat_lock);
  double now = now_seconds();
  if (hoststat_time < 0 || now - hoststat_time >= 0.5) {
    hoststat_err = hoststat_read(conf_proc_root, &hoststat_cache);
    hoststat_time = now;
  }
  unsigned n;
  bool ok = hoststat_err == 0 && hoststat_sum(&hoststat_cache, mask, idle, total, &n) == 0;
  pthread_mutex_unlock(&hoststat_lock);
  return ok;
}

static uint64_t cpuset_signature(const hs_cpumask_t *mask) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a over the set's bytes */
  const unsigned char *p = (const unsigned char *)mask;
  for (size_t i = 0; i < sizeof(*mask); i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* The fields every notification about a container has; the caller adds a message. */
static void container_notification(notification_t *n, const container_t *c, int severity,
                                   const char *type, const char *type_instance) {
  memset(n, 0, sizeof(*n));
  n->severity = severity;
  n->time = cdtime();
  sstrncpy(n->host, hostname_g, sizeof(n->host));
  sstrncpy(n->plugin, PLUGIN_NAME, sizeof(n->plugin));
  sstrncpy(n->plugin_instance, c->name, sizeof(n->plugin_instance));
  sstrncpy(n->type, type, sizeof(n->type));
  if (type_instance)
    sstrncpy(n->type_instance, type_instance, sizeof(n->type_instance));
  plugin_notification_meta_add_string(n, "container_id", c->id);
  plugin_notification_meta_add_string(n, "cgroup", c->relpath);
}

static void notify_diagnosis(const container_t *c, int severity, const char *message) {
  if (!conf_notifications)
    return;
  notification_t n;
  container_notification(&n, c, severity, "gauge", "cpu_diagnosis");
  ssnprintf(n.message, sizeof(n.message), "container %s: %s", c->name, message);
  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
}

static void delay_off(const char *why) {
  bool was_on = atomic_exchange(&delay_on, false);
  if (was_on)
    ERROR(PLUGIN_NAME " plugin: %s; delay accounting collection is now off, everything else "
                      "goes on.",
          why);
}

static cpu_inputs_t cpu_inputs(const cg_metrics_t *m) {
  return (cpu_inputs_t){.has_cfs = m->has_cfs,
                        .has_quota = m->has_cpu_quota,
                        .has_cpu_time = m->has_cpu_time,
                        .throttled_us = m->cfs_throttled_us,
                        .throttled_periods = m->cfs_throttled_periods,
                        .periods = m->cfs_periods,
                        .cpu_usage_us = m->cpu_user_us + m->cpu_system_us};
}

/* The CPU diagnosis code of this read (-1: none yet), with its WARNING/OKAY notification when
 * it changes. t: the delays, NULL when not read. */
static int diagnose_cpu(container_t *c, const delay_totals_t *t, const cpu_inputs_t *m) {
  diag_sample_t s = {.time_s = now_seconds(), .ticks_per_s = sysconf(_SC_CLK_TCK)};
  if (m->has_cfs) {
    s.has_throttling = true;
    s.throttled_us = m->throttled_us;
    s.throttled_periods = m->throttled_periods;
    s.periods = m->periods;
  }
  s.has_quota = m->has_quota;
  if (t && (t->present & TS_F_CTXSW)) {
    s.has_nivcsw = true;
    s.nivcsw = t->nivcsw;
  }
  if (t && t->delay_on && (t->present & TS_F_DELAY(TS_DELAY_CPU))) {
    s.has_cpu_delay = true;
    s.cpu_delay_ns = t->delay_ns[TS_DELAY_CPU];
  }
  if (m->has_cpu_time) {
    s.has_cpu_usage = true;
    s.cpu_usage_us = m->cpu_usage_us;
  }
  const hs_cpumask_t *mask = t && t->has_cpus ? &t->cpus : NULL;
  s.has_host = host_cpu_ticks(mask, &s.host_idle_ticks, &s.host_total_ticks);
  s.host_cpus_sig = mask ? cpuset_signature(mask) : 0;
  int from;
  char why[192];
  int code = diag_track(&c->diag, &s, &from, why, sizeof(why));
  if (code < 0 || from == -2 || (from == -1 && code == DIAG_NOT_THROTTLED))
    return code;
  char msg[NOTIF_MAX_MSG_LEN];
  if (code != DIAG_NOT_THROTTLED) {
    snprintf(msg, sizeof(msg), "CPU %s (%s)", diag_name(code), why);
    notify_diagnosis(c, NOTIF_WARNING, msg);
  } else {
    snprintf(msg, sizeof(msg), "CPU not_throttled again, was %s (%s)", diag_name(from), why);
    notify_diagnosis(c, NOTIF_OKAY, msg);
  }
  return code;
}

/* The common delay kinds (CPU, block I/O, swap-in) are always sent; the rarer ones from the
 * first time they are not 0, so an idle container does not cost five lists of zeros. */
static bool delay_kind_shown(container_t *c, const delay_totals_t *t, int kind) {
  if (!(t->present & TS_F_DELAY(kind)))
    return false;
  if (kind <= TS_DELAY_SWAPIN || (c->delays_shown & TS_F_DELAY(kind)))
    return true;
  if (t->delay_ns[kind] == 0)
    return false;
  c->delays_shown |= TS_F_DELAY(kind);
  return true;
}

/* t: NULL when the delays were not read; code: the diagnosis, -1 when none. */
static void dispatch_delay(container_t *c, const delay_totals_t *t, int code) {
  bool delays = t && t->delay_on;
  bool ctxsw = t && (t->present & TS_F_CTXSW);
  if (conf_compact) {
    if (!t && code < 0)
      return;
    value_t v[11];
    for (int k = 0; k < TS_DELAY_COUNT; k++)
      v[k] = derive_or_zero(delays && (t->present & TS_F_DELAY(k)),
                            delays ? t->delay_ns[k] / 1000000 : 0);
    v[8] = derive_or_zero(ctxsw, ctxsw ? t->nvcsw : 0);
    v[9] = derive_or_zero(ctxsw, ctxsw ? t->nivcsw : 0);
    v[10] = gauge_or_nan(code >= 0, (uint64_t)(code >= 0 ? code : 0));
    dispatch_compact(c, CT_DELAY, NULL, v);
    return;
  }
  if (delays)
    for (int k = 0; k < TS_DELAY_COUNT; k++) {
      if (!delay_kind_shown(c, t, k))
        continue;
      char ti[DATA_MAX_NAME_LEN];
      snprintf(ti, sizeof(ti), "delay_%s", taskstats_delay_name(k));
      dispatch_derive(c, "total_time_in_ms", ti, t->delay_ns[k] / 1000000);
    }
  if (ctxsw) {
    dispatch_derive(c, "contextswitch", "voluntary", t->nvcsw);
    dispatch_derive(c, "contextswitch", "involuntary", t->nivcsw);
  }
  if (code >= 0)
    dispatch_gauge(c, "gauge", "cpu_diagnosis", (double)code);
}

/* The delays' result (rc of delay_sample_container, t when 0; rc 1: not asked), the warnings it
 * calls for, the CPU diagnosis and the lists. */
static void delay_finish(container_t *c, int rc, const delay_totals_t *t) {
  bool have = rc == 0;
  if (rc == -EPERM) {
    delay_off("taskstats (TASKSTATS_CMD_GET) needs CAP_NET_ADMIN, which collectd does not have "
              "(run it as root or grant it CAP_NET_ADMIN)");
  } else if (rc == -ENOENT || rc == -ESHUTDOWN) {
    delay_off("the kernel's taskstats interface is gone");
  } else if (rc < 0) {
    report_file_error(c, "taskstats", rc, "cannot read the delays of its processes");
  }
  if (have && !t->delay_on && !atomic_exchange(&delay_off_warned, true))
    WARNING(PLUGIN_NAME " plugin: delay accounting is off in the kernel (kernel.task_delayacct "
                        "= 0): the delay_* values are not collected, everything else is. Turn "
                        "it on with \"sysctl kernel.task_delayacct=1\", the \"delayacct\" boot "
                        "parameter, or \"EnableDelayAccounting true\" in the plugin's "
                        "configuration.");
  int code = -1;
  if (conf_collect_diagnosis && !c->is_host)
    code = diagnose_cpu(c, have ? t : NULL, &c->delay_cpu);
  dispatch_delay(c, have ? t : NULL, code);
}

/* Delay accounting, context switches and the CPU diagnosis. procs_dir: the cgroup directory
 * whose subtree holds the container's processes. Within a read callback the taskstats query
 * waits for the callback's batch (delay_pending_read), else it is made at once. Returns how
 * many processes it listed into c->tgids (0: none listed), so the network read need not list
 * them again. */
static size_t read_delay(container_t *c, int procs_dir, const cg_metrics_t *m) {
  c->delay_cpu = cpu_inputs(m);
  if (!(c->delay && atomic_load(&delay_on) && procs_dir >= 0)) {
    delay_finish(c, 1, NULL);
    return 0;
  }
  size_t n = 0;
  int rc = 0;
  uint64_t digest = c->starts_sampled ? procstate_starts_digest(&c->starts) : 0;
  if (digest != 0 && digest == c->tgids_digest) {
    n = c->tgids_n; /* the threads the load sample listed did not change: nor did the list */
  } else {
    rc = delay_collect_tgids(procs_dir, &c->tgids, &n, &c->tgids_cap);
    c->tgids_digest = rc == 0 ? digest : 0;
    c->tgids_n = n;
  }
  if (rc != 0 && rc != -ENOENT) {
    delay_finish(c, rc, NULL);
    return 0;
  }
  size_t listed = rc == 0 ? n : 0;
  delay_job_t job = {.st = c->delay, .tgids = c->tgids, .n = n, .known = &c->starts};
  delay_pending_t *p = c->batch != NULL ? &c->batch->delay : NULL;
  if (p != NULL && p->n < p->cap) {
    p->owners[p->n] = c;
    p->jobs[p->n++] = job;
    return listed;
  }
  delay_sample_containers(&job, 1);
  delay_finish(c, job.rc, &job.out);
  return listed;
}

/* The container's directories: kept open between reads (with its files, see cgfiles.h) while
 * the fd budget allows, else opened for this read only. -1: not in that hierarchy. */
static void dirs_open(container_t *c, unsigned groups) {
  if (c->dirs_open)
    return;
  c->limits_age = 0; /* maybe a new cgroup at this path (a restarted container): its own limits */
  c->cfs_idle = false;
  c->tasks_not_in_unified = false;
  /* v2: the container's directory; hybrid: its unified-tree one (PSI, exact CPU time). */
  c->dir_v2 = -1;
  if (layout.kind == CG_LAYOUT_V2)
    c->dir_v2 = open_cgroup_dir(primary_root_fd, c->relpath);
  else if ((groups & (CG_GROUP_PRESSURE | CG_GROUP_CPU)) || tasks_from_unified(c))
    c->dir_v2 = open_cgroup_dir(v2_root_fd, c->relpath);
  int opened = c->dir_v2 >= 0;
  for (int i = 0; i < CG_V1_COUNT; i++) {
    c->dir_v1[i] = -1;
    if (layout.kind == CG_LAYOUT_V2)
      continue;
    /* cpuacct holds only CPU time: not opened where the unified tree has it (one fd fewer). The
     * cpu hierarchy, opened first, stays the one for the tasks. */
    if (i == CG_V1_CPUACCT && c->dir_v1[CG_V1_CPU] >= 0 &&
        (!(groups & CG_GROUP_CPU) || (unified_cpu_time && c->dir_v2 >= 0)))
      continue;
    c->dir_v1[i] = open_cgroup_dir(v1_root_fd[i], c->relpath);
    opened += c->dir_v1[i] >= 0;
  }
  c->dirs_open = true;
  c->dirs_kept = opened > 0 && c->files != NULL && cg_files_reserve(opened);
  if (c->dirs_kept) {
    c->dirs_reserved = opened;
    for (int i = 0; i < CG_V1_COUNT; i++)
      if (c->dir_v1[i] >= 0)
        cg_files_move_high(&c->dir_v1[i]);
    if (c->dir_v2 >= 0)
      cg_files_move_high(&c->dir_v2);
  }
}

static void dirs_close(container_t *c) {
  cg_files_close_all(c->files); /* before the directory fd numbers can be reused */
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (c->dir_v1[i] >= 0) {
      close(c->dir_v1[i]);
      c->dir_v1[i] = -1;
    }
  if (c->dir_v2 >= 0)
    close(c->dir_v2);
  c->dir_v2 = -1;
  if (c->dirs_kept)
    cg_files_unreserve(c->dirs_reserved);
  c->dirs_kept = false;
  c->dirs_reserved = 0;
  c->dirs_open = false;
}

static void container_read_locked(container_t *c) {
  cg_metrics_t m;
  memset(&m, 0, sizeof(m));
  c->sample_time = cdtime();
  c->meta_due = conf_meta != META_NONE;
  unsigned groups = c->is_host ? 0 : conf_groups;

  /* v1: the primary (discovery's) hierarchy is one of the controllers'; the tasks (load,
   * delays) are read from the cpu hierarchy. */
  dirs_open(c, groups);
  /* Limits rarely change and cost a read each: read on fresh directories (at every read when
   * they are not kept), then every LIMITS_RECHECK reads; the reads in between reuse them. */
  bool read_limits = c->limits_age == 0;
  unsigned read_groups = read_limits ? groups | CG_READ_LIMITS : groups;
  cg_files_t *files = c->dirs_kept ? c->files : NULL;
  cgv1_dirs_t dirs = {.cpu = c->dir_v1[CG_V1_CPU],
                      .cpuacct = c->dir_v1[CG_V1_CPUACCT],
                      .memory = c->dir_v1[CG_V1_MEMORY],
                      .blkio = c->dir_v1[CG_V1_BLKIO],
                      .pids = c->dir_v1[CG_V1_PIDS]};
  /* v1's cpu.stat holds only the CFS bandwidth counters, which stay 0 until the cgroup gets a
   * quota: while they are 0 and there is none, it is read with the limits only. */
  dirs.cfs_idle = c->cfs_idle;
  int primary = -1, tasks = -1;
  if (layout.kind == CG_LAYOUT_V2) {
    primary = tasks = c->dir_v2;
  } else {
    for (int i = 0; i < CG_V1_COUNT && primary < 0; i++)
      primary = c->dir_v1[i];
    tasks = dirs.cpu >= 0 ? dirs.cpu : dirs.cpuacct >= 0 ? dirs.cpuacct : primary;
  }
  if (primary < 0) {
    dirs_close(c); /* gone since discovery: normal, discovery removes the callback */
    return;
  }

  /* Files of the container this read found; a kept file of a removed cgroup answers ENODEV. */
  int found = 0;
  bool gone = false;
#define COUNT_FILES(expr)                                                                          \
  do {                                                                                             \
    int files_ = (expr);                                                                           \
    if (files_ < 0)                                                                                \
      gone = true;                                                                                 \
    else                                                                                           \
      found += files_;                                                                             \
  } while (0)
  if (layout.kind == CG_LAYOUT_V2) {
    if (groups) /* + PSI */
      COUNT_FILES(cgv2_read_files(primary, read_groups, &m, report_file_error, c, files));
  } else if (groups) {
    int unified = c->dir_v2;
    if (unified >= 0) {
      if (groups & CG_GROUP_PRESSURE)
        COUNT_FILES(cg_psi_read_files(unified, &m, report_file_error, c, files));
      /* v1 cpuacct.usage_user/_sys are tick samples on current kernels; the unified tree's
       * cpu.stat splits the exact usage (it is there even without the cpu controller). */
      if (groups & CG_GROUP_CPU) {
        int n = cgv2_read_files(unified, CG_GROUP_CPU, &m, NULL, NULL, files);
        COUNT_FILES(n);
        dirs.skip_cpu_time = n > 0 && m.has_cpu_time;
        m.has_cfs = false; /* v1's cpu controller has the CFS numbers (and the quota) */
      }
    }
    COUNT_FILES(cgv1_read_files(&dirs, read_groups, &m, report_file_error, c, files));
  }
#undef COUNT_FILES
  if (gone) {
    dirs_close(c); /* removed: the next read opens again (a new cgroup of that path), or stops */
    return;
  }
  if (read_limits)
    c->limits = cg_limits_get(&m);
  else if (found > 0) /* a read that found nothing dispatches no limit either */
    cg_limits_set(&m, &c->limits);
  if (c->cfs_idle && !read_limits) {
    m.has_cfs = found > 0; /* still 0, as the last read found */
  } else if (layout.kind != CG_LAYOUT_V2) {
    bool was_idle = c->cfs_idle;
    c->cfs_idle = m.has_cfs && !m.has_cpu_quota && m.cfs_periods == 0 &&
                  m.cfs_throttled_periods == 0 && m.cfs_throttled_us == 0;
    if (c->cfs_idle && !was_idle)
      cg_files_forget(files, dirs.cpu, "cpu.stat"); /* read rarely now: see CG_READ_LIMITS */
  }
  c->limits_age = (c->limits_age + 1) % LIMITS_RECHECK;
  /* Nothing found through kept directories: they may be those of a removed cgroup whose path
   * exists again (a restarted LXC container); the next read opens them afresh. */
  bool reopen = groups && found == 0 && c->dirs_kept;
  dispatch_metrics(c, &m);
  remember_totals(c, &m);

  /* Load first: the delays take their processes' start times from its /proc reads. */
  c->starts.n = 0;
  c->starts_sampled = false;
  if (conf_collect_load && tasks >= 0) {
    bool unified = tasks_from_unified(c) && c->dir_v2 >= 0 && !c->tasks_not_in_unified;
    tasks = unified ? read_load(c, c->dir_v2, 1, tasks)
                    : read_load(c, tasks, layout.kind == CG_LAYOUT_V2, -1);
  }
  size_t n_tgids = 0;
  if ((c->delay || conf_collect_diagnosis) && !c->is_host)
    n_tgids = read_delay(c, tasks, &m);
  if (atomic_load(&network_on) && !c->is_host)
    read_network(c, primary, c->tgids, n_tgids);
  if (!c->dirs_kept || reopen)
    dirs_close(c);
}

/* ---- read callbacks: containers in shards ----
 * One collectd read callback reads up to ContainersPerCallback containers in turn, asks the
 * namespace worker for all their network counters at once, and hands their lists to collectd in
 * bursts. A callback per container cost a read-thread wake-up per container and writer wake-ups
 * per few lists, dearer than the reads themselves on a virtual machine. Discovery adds and removes
 * members under the shard's lock, which a read holds for its whole pass: a container is never freed
 * while a read uses it. Lock order: registry_lock, a shard's lock, a container's read_lock. */
typedef struct shard_s {
  pthread_mutex_t lock;
  container_t **members;
  size_t n, cap;
  batch_t batch;
  char name[DATA_MAX_NAME_LEN + 16];
  struct shard_s *next;
} shard_t;

static shard_t *shards; /* under registry_lock */
static unsigned shard_serial;

static bool net_pending_alloc(net_pending_t *p, size_t cap) {
  p->owners = calloc(cap, sizeof(*p->owners));
  p->pids = calloc(cap, sizeof(*p->pids));
  p->reqs = calloc(cap, sizeof(*p->reqs));
  p->results = calloc(cap, sizeof(*p->results));
  p->statuses = calloc(cap, sizeof(*p->statuses));
  p->cap = cap;
  return p->owners && p->pids && p->reqs && p->results && p->statuses;
}

static bool delay_pending_alloc(delay_pending_t *p, size_t cap) {
  p->owners = calloc(cap, sizeof(*p->owners));
  p->jobs = calloc(cap, sizeof(*p->jobs));
  p->cap = cap;
  return p->owners && p->jobs;
}

static void delay_pending_free(delay_pending_t *p) {
  free(p->owners);
  free(p->jobs);
}

/* The pass's delay reads in one batched taskstats query, then each container's delay lists,
 * with the time its read began. The query runs without the containers' read locks: the shard's
 * lock, held for the whole pass, keeps out the only other reader, the exit watcher's final
 * read (exit_event). */
static void delay_pending_read(batch_t *b) {
  delay_pending_t *p = &b->delay;
  delay_sample_containers(p->jobs, p->n);
  for (size_t i = 0; i < p->n; i++) {
    container_t *c = p->owners[i];
    pthread_mutex_lock(&c->read_lock);
    c->batch = b;
    delay_finish(c, p->jobs[i].rc, &p->jobs[i].out);
    c->batch = NULL;
    pthread_mutex_unlock(&c->read_lock);
  }
  p->n = 0;
}

static void net_pending_free(net_pending_t *p) {
  free(p->owners);
  free(p->pids);
  free(p->reqs);
  free(p->results);
  free(p->statuses);
}

/* The pass's network requests in one round trip to the namespace worker. Each container's lists
 * still carry the time its read began (c->sample_time). */
static void net_pending_read(batch_t *b) {
  net_pending_t *p = &b->net;
  netns_read_batch(p->reqs, p->results, p->statuses, p->n);
  for (size_t i = 0; i < p->n; i++) {
    container_t *c = p->owners[i];
    pthread_mutex_lock(&c->read_lock);
    c->batch = b;
    net_result_handle(c, p->statuses[i], &p->results[i]);
    c->batch = NULL;
    pthread_mutex_unlock(&c->read_lock);
    netns_result_free(&p->results[i]);
  }
  p->n = 0;
}

static void shard_free(void *arg) {
  shard_t *s = arg;
  if (!s)
    return;
  pthread_mutex_destroy(&s->lock);
  free(s->members);
  free(s->batch.lists);
  net_pending_free(&s->batch.net);
  delay_pending_free(&s->batch.delay);
  free(s);
}

static int shard_read(user_data_t *ud) {
  shard_t *s = ud->data;
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++) {
    container_t *c = s->members[i];
    pthread_mutex_lock(&c->read_lock);
    c->batch = &s->batch;
    container_read_locked(c);
    c->batch = NULL;
    pthread_mutex_unlock(&c->read_lock);
  }
  delay_pending_read(&s->batch);
  net_pending_read(&s->batch);
  batch_flush(&s->batch);
  pthread_mutex_unlock(&s->lock);
  return 0; /* never an error: collectd would slow the callback down */
}

/* Under registry_lock: a shard with room, registered as a read callback if new. With
 * ContainersPerCallback 1 it is named after its container, as in earlier versions. */
static shard_t *shard_with_room(const container_t *c) {
  for (shard_t *s = shards; s; s = s->next)
    if (s->n < s->cap)
      return s;
  shard_t *s = calloc(1, sizeof(*s));
  size_t cap = (size_t)conf_per_callback;
  /* Room for about 24 lists per container, at most 256 lists (92 KiB) per callback. */
  size_t lists = cap * 24 < 48 ? 48 : cap * 24 > 256 ? 256 : cap * 24;
  bool allocated = false;
  if (s) {
    s->members = calloc(cap, sizeof(*s->members));
    s->batch.lists = calloc(lists, sizeof(*s->batch.lists));
    allocated = net_pending_alloc(&s->batch.net, cap) &&
                delay_pending_alloc(&s->batch.delay, cap) && s->members && s->batch.lists;
  }
  if (!allocated) {
    ERROR(PLUGIN_NAME " plugin: out of memory for a read callback.");
    shard_free(s);
    return NULL;
  }
  pthread_mutex_init(&s->lock, NULL);
  s->cap = cap;
  s->batch.cap = lists;
  if (cap == 1)
    sstrncpy(s->name, c->cb_name, sizeof(s->name));
  else
    snprintf(s->name, sizeof(s->name), "container/read-%u", shard_serial++);
  user_data_t ud = {.data = s, .free_func = shard_free};
  if (plugin_register_complex_read(READ_GROUP, s->name, shard_read, 0, &ud) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot register the read callback %s.", s->name);
    shard_free(s); /* collectd keeps user data only when registering succeeds */
    return NULL;
  }
  s->next = shards;
  shards = s;
  return s;
}

static int shard_add(container_t *c) {
  shard_t *s = shard_with_room(c);
  if (!s)
    return -1;
  pthread_mutex_lock(&s->lock);
  c->shard = s;
  c->shard_index = s->n;
  s->members[s->n++] = c;
  pthread_mutex_unlock(&s->lock);
  return 0;
}

/* Under registry_lock. Waits for a read under way; an emptied shard's callback goes (collectd
 * frees the shard once a read in flight has returned). */
static void shard_remove(container_t *c) {
  shard_t *s = c->shard;
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  container_t *last = s->members[--s->n];
  s->members[c->shard_index] = last;
  last->shard_index = c->shard_index;
  s->members[s->n] = NULL;
  bool empty = s->n == 0;
  pthread_mutex_unlock(&s->lock);
  c->shard = NULL;
  if (!empty)
    return;
  for (shard_t **link = &shards; *link; link = &(*link)->next)
    if (*link == s) {
      *link = s->next;
      break;
    }
  plugin_unregister_read(s->name);
}

/* ---- exit watcher ----
 * cgroup v2 (and the unified tree of a hybrid host) says "populated 0" in cgroup.events when a
 * cgroup's last process exits, and inotify reports the change. The watcher then reads the
 * container's counters once more, before the runtime removes the cgroup, so the final values
 * are dispatched and the "gone" notification carries them. It holds no fd of the cgroup. */

static int exit_inotify_fd = -1;
static int exit_stop_pipe[2] = {-1, -1};
static pthread_t exit_thread;
static bool exit_thread_running;

static void exit_watch_add(container_t *c) {
  if (exit_inotify_fd < 0 || c->is_host || v2_root_fd < 0)
    return;
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/%s/cgroup.events", layout.v2, c->relpath) >=
      (int)sizeof(path))
    return;
  c->events_wd = inotify_add_watch(exit_inotify_fd, path, IN_MODIFY);
}

static void exit_watch_remove(container_t *c) {
  if (c->events_wd >= 0 && exit_inotify_fd >= 0)
    inotify_rm_watch(exit_inotify_fd, c->events_wd); /* EINVAL once the cgroup is gone: fine */
  c->events_wd = -1;
}

static bool cgroup_unpopulated(const container_t *c) {
  char path[PATH_MAX], text[256];
  if (snprintf(path, sizeof(path), "%s/cgroup.events", c->relpath) >= (int)sizeof(path))
    return false;
  if (read_file_at(v2_root_fd, path, text, sizeof(text)) < 0)
    return false;
  const char *p = strstr(text, "populated ");
  return p && p[10] == '0';
}

static void exit_event(int wd) {
  pthread_mutex_lock(&registry_lock);
  for (container_t *c = registry; c; c = c->next) {
    if (c->events_wd != wd)
      continue;
    if (!c->final_read_done && cgroup_unpopulated(c)) {
      /* After its callback's pass: values still waiting in its batch are older than these, and
       * collectd drops a value older than the last one it has. */
      shard_t *shard = c->shard;
      if (shard)
        pthread_mutex_lock(&shard->lock);
      pthread_mutex_lock(&c->read_lock);
      c->limits_age = 0; /* the last chance to read the memory peak */
      container_read_locked(c);
      c->final_read_done = true;
      pthread_mutex_unlock(&c->read_lock);
      if (shard)
        pthread_mutex_unlock(&shard->lock);
      DEBUG(PLUGIN_NAME " plugin: container %s has no process left: final values read.", c->name);
    }
    break;
  }
  pthread_mutex_unlock(&registry_lock);
}

static void *exit_watcher(void *arg) {
  (void)arg;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    struct pollfd fds[2] = {{.fd = exit_inotify_fd, .events = POLLIN},
                            {.fd = exit_stop_pipe[0], .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents)
      break;
    ssize_t len = read(exit_inotify_fd, buf, sizeof(buf));
    if (len <= 0)
      continue;
    for (char *p = buf; p < buf + len;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->mask & IN_MODIFY)
        exit_event(ev->wd);
      p += sizeof(*ev) + ev->len;
    }
  }
  return NULL;
}

static void exit_watcher_start(void) {
  if (v2_root_fd < 0)
    return;
  exit_inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (exit_inotify_fd < 0 || pipe(exit_stop_pipe) != 0 ||
      plugin_thread_create(&exit_thread, exit_watcher, NULL, "container exit") != 0) {
    WARNING(PLUGIN_NAME " plugin: cannot watch cgroup.events (%s): a container's final values "
                        "are those of its last regular read.",
            strerror(errno));
    if (exit_inotify_fd >= 0)
      close(exit_inotify_fd);
    exit_inotify_fd = -1;
    for (int i = 0; i < 2; i++)
      if (exit_stop_pipe[i] >= 0)
        close(exit_stop_pipe[i]);
    exit_stop_pipe[0] = exit_stop_pipe[1] = -1;
    return;
  }
  for (int i = 0; i < 2; i++)
    fcntl(exit_stop_pipe[i], F_SETFD, FD_CLOEXEC);
  exit_thread_running = true;
}

static void exit_watcher_stop(void) {
  if (exit_thread_running) {
    ssize_t w = write(exit_stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(exit_thread, NULL);
    exit_thread_running = false;
  }
  if (exit_inotify_fd >= 0)
    close(exit_inotify_fd);
  for (int i = 0; i < 2; i++)
    if (exit_stop_pipe[i] >= 0)
      close(exit_stop_pipe[i]);
  exit_inotify_fd = exit_stop_pipe[0] = exit_stop_pipe[1] = -1;
}

/* ---- discovery ---- */

static totals_t container_totals(const container_t *c) {
  totals_t t = c->last;
  /* The peak file is read every LIMITS_RECHECK reads: a usage seen since may be higher. */
  if (t.memory_peak < c->usage_high)
    t.memory_peak = c->usage_high;
  return t;
}

static void notify(const container_t *c, int severity, const char *message, bool with_totals) {
  if (!conf_notifications)
    return;
  notification_t n;
  container_notification(&n, c, severity, "container", NULL);
  char totals_text[256] = "";
  if (with_totals) {
    totals_t t = container_totals(c);
    ssnprintf(totals_text, sizeof(totals_text),
              "; totals: cpu_us=%" PRIu64 " memory_peak_bytes=%" PRIu64 " oom_kills=%" PRIu64
              " io_read_bytes=%" PRIu64 " io_write_bytes=%" PRIu64,
              t.cpu_us, t.memory_peak, t.oom_kills, t.io_read, t.io_write);
    plugin_notification_meta_add_unsigned_int(&n, "cpu_us", t.cpu_us);
    plugin_notification_meta_add_unsigned_int(&n, "memory_peak_bytes", t.memory_peak);
    plugin_notification_meta_add_unsigned_int(&n, "oom_kills", t.oom_kills);
    plugin_notification_meta_add_unsigned_int(&n, "io_read_bytes", t.io_read);
    plugin_notification_meta_add_unsigned_int(&n, "io_write_bytes", t.io_write);
  }
  ssnprintf(n.message, sizeof(n.message), "%s %s (id %s, runtime %s)%s", message, c->name, c->id,
            c->runtime, totals_text);
  plugin_notification_meta_add_string(&n, "runtime", c->runtime);
  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
}

/* Discovery looks up every cgroup it walks by path: a hash keeps that O(1) per cgroup. */
#define REGISTRY_BUCKETS 4096
static container_t *registry_hash[REGISTRY_BUCKETS];

static container_t **registry_bucket(const char *relpath) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)relpath; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return &registry_hash[h % REGISTRY_BUCKETS];
}

static void registry_link(container_t *c) {
  c->next = registry;
  registry = c;
  container_t **bucket = registry_bucket(c->relpath);
  c->hnext = *bucket;
  *bucket = c;
}

/* Takes c out of the hash; the caller unlinks it from the list. */
static void registry_unhash(container_t *c) {
  for (container_t **link = registry_bucket(c->relpath); *link; link = &(*link)->hnext)
    if (*link == c) {
      *link = c->hnext;
      break;
    }
}

static container_t *registry_find(const char *relpath) {
  for (container_t *c = *registry_bucket(relpath); c; c = c->hnext)
    if (strcmp(c->relpath, relpath) == 0)
      return c;
  return NULL;
}

/* Drops what refers to an unlinked c, takes it out of its read callback and frees it. Under
 * registry_lock, so the exit watcher is not reading it either. */
static void container_retire(container_t *c) {
  exit_watch_remove(c);
  shard_remove(c); /* first: a pass under way could still claim a namespace for c */
  if (netns_owners)
    netns_registry_forget(netns_owners, c->id);
  container_free(c);
}

static void registry_remove(container_t *c) {
  for (container_t **link = &registry; *link; link = &(*link)->next)
    if (*link == c) {
      *link = c->next;
      break;
    }
  registry_unhash(c);
  container_retire(c);
}

/* Containers the current discovery pass found. They claim shared network namespaces in id order
 * before their callbacks exist (a new callback may run at once on another read thread): so the
 * smallest id of a pod reports its namespace, also after a restart. */
static container_t **fresh;
static size_t fresh_num, fresh_cap;

static void fresh_add(container_t *c) {
  if (fresh_num == fresh_cap) {
    size_t cap = fresh_cap ? 2 * fresh_cap : 64;
    container_t **grown = realloc(fresh, cap * sizeof(*fresh));
    if (!grown) {
      container_discard(c); /* found again by the next pass */
      return;
    }
    fresh = grown;
    fresh_cap = cap;
  }
  fresh[fresh_num++] = c;
}

static int compare_ids(const void *a, const void *b) {
  return strcmp((*(container_t *const *)a)->id, (*(container_t *const *)b)->id);
}

static void claim_fresh_namespaces(void) {
  if (!atomic_load(&network_on) || fresh_num == 0)
    return;
  qsort(fresh, fresh_num, sizeof(*fresh), compare_ids);
  for (size_t i = 0; i < fresh_num; i++) {
    container_t *c = fresh[i];
    int dirfd = open_cgroup_dir(primary_root_fd, c->relpath);
    if (dirfd < 0)
      continue;
    pid_t pids[NET_MAX_PIDS];
    size_t n = collect_pids(dirfd, pids, NET_MAX_PIDS, 0);
    close(dirfd);
    netns_request_t req = {.proc_root = conf_proc_root,
                           .pids = pids,
                           .n_pids = n,
                           .still_member = net_still_member,
                           .ctx = c};
    netns_result_t res;
    if (n > 0 && netns_identify(&req, &res) == NETNS_OK)
      netns_registry_see(netns_owners, res.id, c->id, cdtime());
    if (n > 0)
      netns_result_free(&res);
  }
}

static void container_register(container_t *c) {
  snprintf(c->cb_name, sizeof(c->cb_name), "container/%s", c->is_host ? HOST_INSTANCE : c->id);
  c->meta = meta_data_create();
  if (c->meta) {
    meta_data_add_string(c->meta, "container_id", c->id);
    meta_data_add_string(c->meta, "runtime", c->runtime);
    meta_data_add_string(c->meta, "cgroup", c->relpath[0] ? c->relpath : "/");
  }
  if (!c->is_host) /* a new container starts at 0, like a freshly booted kernel */
    loadavg_init(&c->load, now_seconds());
  pthread_mutex_init(&c->read_lock, NULL);
  c->events_wd = -1;
  memset(&c->task_method, 0, sizeof(c->task_method));
  c->task_method.kind = conf_task_method;
  c->seen = true;
  c->files = cg_files_create(); /* NULL: files are opened for each read, nothing else changes */
  diag_tracker_init(&c->diag);
  if (!c->is_host && atomic_load(&delay_on))
    c->delay = delay_state_create();

  if (shard_add(c) != 0) {
    container_free(c); /* found again by the next pass */
    return;
  }
  registry_link(c);
  exit_watch_add(c);
  if (!c->is_host)
    notify(c, NOTIF_OKAY, "container appeared:", false);
}

static cg_walk_result_t discover_visit(const char *relpath, void *ctx) {
  (void)ctx;
  container_ident_t ident;
  if (!container_identify(relpath, &ident))
    return CG_WALK_DESCEND;
  if (!ident.is_top)
    return CG_WALK_SKIP;

  container_t *known = registry_find(relpath);
  if (known && known->provisional_name) {
    /* e.g. kubelet writes its log link only after the container started. A read thread may be
     * using the name, so a better one means a new callback, not an in-place change. */
    container_names_t better;
    if (names_lookup(&ident, &better) == 0 && !better.provisional &&
        strcmp(better.name, known->name) != 0) {
      INFO(PLUGIN_NAME " plugin: container %s is now known as %s.", known->name, better.name);
      registry_remove(known);
      known = NULL;
    } else if (++known->name_attempts >= NAMES_RETRIES)
      known->provisional_name = false; /* names.c has given up too */
  }
  if (known) {
    known->seen = true;
    return CG_WALK_FOUND;
  }

  container_t *c = container_new(relpath);
  if (!c)
    return CG_WALK_FOUND;
  sstrncpy(c->id, ident.id, sizeof(c->id));
  sstrncpy(c->runtime, container_runtime_name(ident.runtime), sizeof(c->runtime));
  container_names_t names;
  if (names_lookup(&ident, &names) != 0) {
    container_discard(c);
    return CG_WALK_FOUND;
  }
  if (names.note[0]) {
    DEBUG(PLUGIN_NAME " plugin: container %s: %s", ident.id, names.note);
  }
  sstrncpy(c->name, names.name, sizeof(c->name));
  c->provisional_name = names.provisional;
  if (!select_matches(conf_containers, c->name)) {
    /* Not collected: remember nothing, decide again next time (names can appear later). */
    names_forget(c->id);
    container_discard(c);
    return CG_WALK_FOUND;
  }
  DEBUG(PLUGIN_NAME " plugin: found %s container %s at /%s", c->runtime, c->name, relpath);
  fresh_add(c); /* registered after the walk: see claim_fresh_namespaces() */
  return CG_WALK_FOUND;
}

static int discover(user_data_t *ud) {
  (void)ud;
  pthread_mutex_lock(&registry_lock);
  for (container_t *c = registry; c; c = c->next)
    c->seen = c->is_host;
  int visited = cg_walk(layout.primary, WALK_MAX_DEPTH, discover_visit, NULL);
  if (visited < 0)
    WARNING(PLUGIN_NAME " plugin: cannot walk %s: %s", layout.primary, strerror(-visited));

  claim_fresh_namespaces();
  for (size_t i = 0; i < fresh_num; i++)
    container_register(fresh[i]);
  fresh_num = 0;

  container_t **link = &registry;
  while (*link) {
    container_t *c = *link;
    if (c->seen) {
      link = &c->next;
      continue;
    }
    *link = c->next;
    registry_unhash(c);
    DEBUG(PLUGIN_NAME " plugin: container %s is gone", c->name);
    pthread_mutex_lock(&c->read_lock); /* a final read may still be under way */
    notify(c, NOTIF_OKAY, "container disappeared:", true);
    pthread_mutex_unlock(&c->read_lock);
    names_forget(c->id);
    container_retire(c);
  }
  pthread_mutex_unlock(&registry_lock);
  return 0;
}

/* ---- config, init, shutdown ---- */

static int config_bool_group(const oconfig_item_t *child, unsigned group) {
  bool on;
  if (cf_util_get_boolean(child, &on) != 0)
    return -1;
  conf_groups = on ? (conf_groups | group) : (conf_groups & ~group);
  return 0;
}

static int config_path(const oconfig_item_t *child, char *dst, size_t n) {
  char buf[PATH_MAX];
  if (cf_util_get_string_buffer(child, buf, sizeof(buf)) != 0)
    return -1;
  if (buf[0] != '/') {
    ERROR(PLUGIN_NAME " plugin: %s \"%s\": an absolute path is required.", child->key, buf);
    return -1;
  }
  sstrncpy(dst, buf, n);
  return 0;
}

static void create_select_lists(void) {
  if (!conf_containers)
    conf_containers = select_create();
  if (!conf_interfaces)
    conf_interfaces = select_create();
}

/* The value as written in collectd.conf, for error messages. */
static const char *config_value_text(const oconfig_item_t *ci, char *buf, size_t n) {
  if (ci->values_num < 1)
    snprintf(buf, n, "(none)");
  else if (ci->values[0].type == OCONFIG_TYPE_STRING)
    snprintf(buf, n, "\"%s\"", ci->values[0].value.string);
  else if (ci->values[0].type == OCONFIG_TYPE_NUMBER)
    snprintf(buf, n, "%g", ci->values[0].value.number);
  else
    snprintf(buf, n, "%s", ci->values[0].value.boolean ? "true" : "false");
  return buf;
}

static int container_config(oconfig_item_t *ci) {
  create_select_lists();
  if (!conf_containers || !conf_interfaces) {
    ERROR(PLUGIN_NAME " plugin: out of memory.");
    conf_failed = true;
    return 0;
  }
  int status = 0;
  for (int i = 0; i < ci->children_num && status == 0; i++) {
    oconfig_item_t *child = ci->children + i;
    const char *key = child->key;
    if (strcasecmp(key, "CgroupRoot") == 0)
      status = config_path(child, conf_cgroup_root, sizeof(conf_cgroup_root));
    else if (strcasecmp(key, "ProcRoot") == 0)
      status = config_path(child, conf_proc_root, sizeof(conf_proc_root));
    else if (strcasecmp(key, "DockerRoot") == 0)
      status = config_path(child, conf_docker_root, sizeof(conf_docker_root));
    else if (strcasecmp(key, "KubernetesLogDir") == 0)
      status = config_path(child, conf_k8s_log_dir, sizeof(conf_k8s_log_dir));
    else if (strcasecmp(key, "PodmanContainersFile") == 0)
      status = config_path(child, conf_podman_json, sizeof(conf_podman_json));
    else if (strcasecmp(key, "Container") == 0) {
      char pattern[1024];
      status = cf_util_get_string_buffer(child, pattern, sizeof(pattern));
      if (status == 0 && select_add(conf_containers, pattern) != 0) {
        ERROR(PLUGIN_NAME " plugin: Container \"%s\": %s", pattern, select_error(conf_containers));
        status = -1;
      }
    } else if (strcasecmp(key, "IgnoreSelected") == 0)
      status = cf_util_get_boolean(child, &conf_ignore_selected);
    else if (strcasecmp(key, "CollectCPU") == 0)
      status = config_bool_group(child, CG_GROUP_CPU);
    else if (strcasecmp(key, "CollectMemory") == 0)
      status = config_bool_group(child, CG_GROUP_MEMORY);
    else if (strcasecmp(key, "CollectBlkio") == 0)
      status = config_bool_group(child, CG_GROUP_BLKIO);
    else if (strcasecmp(key, "CollectPids") == 0)
      status = config_bool_group(child, CG_GROUP_PIDS);
    else if (strcasecmp(key, "CollectPressure") == 0)
      status = config_bool_group(child, CG_GROUP_PRESSURE);
    else if (strcasecmp(key, "CollectLoad") == 0)
      status = cf_util_get_boolean(child, &conf_collect_load);
    else if (strcasecmp(key, "CollectAllTaskStates") == 0)
      status = cf_util_get_boolean(child, &conf_collect_all_states);
    else if (strcasecmp(key, "TaskStateSource") == 0) {
      char source[32];
      status = cf_util_get_string_buffer(child, source, sizeof(source));
      if (status == 0 && strcasecmp(source, "proc") == 0)
        conf_task_method = TASK_METHOD_PROCSTATE;
      else if (status == 0 && strcasecmp(source, "cgroupstats") == 0)
        conf_task_method = TASK_METHOD_AUTO;
      else if (status == 0) {
        ERROR(PLUGIN_NAME " plugin: TaskStateSource \"%s\": use \"proc\" or \"cgroupstats\".",
              source);
        status = -1;
      }
    } else if (strcasecmp(key, "CollectHost") == 0)
      status = cf_util_get_boolean(child, &conf_collect_host);
    else if (strcasecmp(key, "CollectNetwork") == 0)
      status = cf_util_get_boolean(child, &conf_collect_network);
    else if (strcasecmp(key, "Interface") == 0) {
      char pattern[1024];
      status = cf_util_get_string_buffer(child, pattern, sizeof(pattern));
      if (status == 0 && select_add(conf_interfaces, pattern) != 0) {
        ERROR(PLUGIN_NAME " plugin: Interface \"%s\": %s", pattern, select_error(conf_interfaces));
        status = -1;
      }
      conf_interface_given = true;
    } else if (strcasecmp(key, "IgnoreSelectedInterface") == 0)
      status = cf_util_get_boolean(child, &conf_ignore_selected_interface);
    else if (strcasecmp(key, "CollectDelay") == 0)
      status = cf_util_get_boolean(child, &conf_collect_delay);
    else if (strcasecmp(key, "EnableDelayAccounting") == 0)
      status = cf_util_get_boolean(child, &conf_enable_delayacct);
    else if (strcasecmp(key, "CollectDiagnosis") == 0)
      status = cf_util_get_boolean(child, &conf_collect_diagnosis);
    else if (strcasecmp(key, "Notifications") == 0)
      status = cf_util_get_boolean(child, &conf_notifications);
    else if (strcasecmp(key, "Compact") == 0)
      status = cf_util_get_boolean(child, &conf_compact);
    else if (strcasecmp(key, "MaxOpenFiles") == 0) {
      int n = -1;
      status = cf_util_get_int(child, &n);
      if (status == 0 && n < 0)
        status = -1;
      conf_max_open_files = n;
    } else if (strcasecmp(key, "ContainersPerCallback") == 0) {
      int n = 0;
      status = cf_util_get_int(child, &n);
      if (status == 0 && (n < 1 || n > 4096))
        status = -1;
      conf_per_callback = n;
    } else if (strcasecmp(key, "MetaData") == 0) {
      char mode[32];
      status = cf_util_get_string_buffer(child, mode, sizeof(mode));
      if (status == 0 && strcasecmp(mode, "first") == 0)
        conf_meta = META_FIRST;
      else if (status == 0 && strcasecmp(mode, "all") == 0)
        conf_meta = META_ALL;
      else if (status == 0 && strcasecmp(mode, "none") == 0)
        conf_meta = META_NONE;
      else if (status == 0) {
        ERROR(PLUGIN_NAME " plugin: MetaData \"%s\": use \"first\", \"all\" or \"none\".", mode);
        status = -1;
      }
    } else {
      char value[256];
      ERROR(PLUGIN_NAME " plugin: unknown config key \"%s\" (value %s); the plugin will not start.",
            key, config_value_text(child, value, sizeof(value)));
      status = -1;
      break;
    }
    if (status != 0 && strcasecmp(key, "Container") != 0 && strcasecmp(key, "Interface") != 0) {
      char value[256];
      ERROR(PLUGIN_NAME " plugin: invalid value %s for \"%s\"; the plugin will not start.",
            config_value_text(child, value, sizeof(value)), key);
    }
  }
  select_set_invert(conf_containers, conf_ignore_selected);
  select_set_invert(conf_interfaces, conf_ignore_selected_interface);
  /* collectd 5.12 exits when a config callback fails: remember the failure and refuse to start
   * in init instead, so collectd and its other plugins keep running. */
  if (status != 0)
    conf_failed = true;
  return 0;
}

static void close_roots(void) {
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (v1_root_fd[i] >= 0) {
      close(v1_root_fd[i]);
      v1_root_fd[i] = -1;
    }
  if (v2_root_fd >= 0)
    close(v2_root_fd);
  if (primary_root_fd >= 0)
    close(primary_root_fd);
  if (proc_root_fd >= 0)
    close(proc_root_fd);
  v2_root_fd = primary_root_fd = proc_root_fd = -1;
}

static int open_root(const char *path) {
  return path[0] ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

static void netns_log(int level, const char *msg) {
  plugin_log(level, PLUGIN_NAME " plugin: %s", msg);
}

/* The host is not new: its averages start where the kernel's are. */
static void seed_host_load(container_t *host) {
  loadavg_init(&host->load, now_seconds());
  char path[PATH_MAX], text[128];
  double avg[3];
  if (snprintf(path, sizeof(path), "%s/loadavg", conf_proc_root) < (int)sizeof(path) &&
      read_file_at(AT_FDCWD, path, text, sizeof(text)) > 0 &&
      sscanf(text, "%lf %lf %lf", &avg[0], &avg[1], &avg[2]) == 3)
    for (int i = 0; i < 3; i++)
      host->load.avg[i] = avg[i];
}

static void delay_log(int level, const char *msg) {
  plugin_log(level, PLUGIN_NAME " plugin: %s", msg);
}

static void delay_start(void) {
  atomic_store(&delay_off_warned, false);
  if (!conf_collect_delay) {
    atomic_store(&delay_on, false);
    return;
  }
  if (conf_enable_delayacct && delay_accounting_state(conf_proc_root) == 0) {
    int err = delay_accounting_enable(conf_proc_root);
    if (err)
      ERROR(PLUGIN_NAME " plugin: EnableDelayAccounting: cannot write 1 to "
                        "%s/sys/kernel/task_delayacct: %s.",
            conf_proc_root, strerror(-err));
    else
      INFO(PLUGIN_NAME " plugin: switched delay accounting on (kernel.task_delayacct = 1).");
  }
  delay_config_t dc = {.proc_root = conf_proc_root, .exit_listener = true, .log = delay_log};
  int err = delay_init(&dc);
  if (err) {
    ERROR(PLUGIN_NAME " plugin: the kernel's taskstats interface is not available (%s); delay "
                      "accounting collection is off.",
          strerror(-err));
    atomic_store(&delay_on, false);
    return;
  }
  atomic_store(&delay_on, true);
}

/* Compact mode needs its types in collectd's TypesDB; without them every dispatch would fail,
 * so the plugin says how to add them and sends the standard lists instead. */
static bool compact_types_loaded(void) {
  for (int k = 0; k < CT_COUNT; k++) {
    const data_set_t *ds = plugin_get_ds(compact_types[k].type);
    if (ds && ds->ds_num == compact_types[k].n_values)
      continue;
    ERROR(PLUGIN_NAME " plugin: Compact true: type \"%s\" is %s; add the line TypesDB \"%s\" "
                      "(contrib/container-types.db in the source) after the default TypesDB line "
                      "of collectd.conf. Sending the standard value lists instead.",
          compact_types[k].type, ds ? "not the plugin's (wrong number of values)" : "unknown",
          CONTAINER_TYPES_DB);
    return false;
  }
  return true;
}

/* Kept fds live at CG_FILES_MIN_FD and above, away from code that uses select(); the soft
 * RLIMIT_NOFILE (1024 under systemd) is raised towards the hard one to make room. */
static void open_files_budget(void) {
  struct rlimit rl;
  long budget = 0;
  if (conf_max_open_files > 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = (rlim_t)CG_FILES_MIN_FD + (rlim_t)conf_max_open_files + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
      struct rlimit raised = rl;
      raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
      if (raised.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        INFO(PLUGIN_NAME " plugin: raised the open file limit from %lu to %lu, for cgroup files "
                         "kept open between reads.",
             (unsigned long)rl.rlim_cur, (unsigned long)raised.rlim_cur);
        rl = raised;
      }
    }
    long room = rl.rlim_cur == RLIM_INFINITY ? conf_max_open_files
                                             : (long)rl.rlim_cur - CG_FILES_MIN_FD - 256;
    budget = room < conf_max_open_files ? room : conf_max_open_files;
    if (budget <= 0) {
      INFO(PLUGIN_NAME " plugin: the open file limit (%lu) leaves no room to keep cgroup files "
                       "open: each read opens and closes them.",
           (unsigned long)rl.rlim_cur);
      budget = 0;
    }
  }
  cg_files_set_budget(budget);
}

static int container_init(void) {
  if (initialized)
    return 0;
  if (conf_failed) {
    ERROR(PLUGIN_NAME " plugin: not started: its configuration has errors (see above).");
    return -1;
  }
  create_select_lists();
  if (!conf_containers || !conf_interfaces)
    return -1;
  if (!conf_interface_given) {
    /* Default: every interface but loopback. */
    select_add(conf_interfaces, "lo");
    select_set_invert(conf_interfaces, true);
  }
  int err = cg_layout_detect(conf_cgroup_root, &layout);
  if (err != 0) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s cannot be read: %s.", conf_cgroup_root,
          strerror(-err));
    return -1;
  }
  if (layout.kind == CG_LAYOUT_NONE) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s holds no cgroup hierarchy (neither "
                      "cgroup.controllers nor v1 controller directories).",
          conf_cgroup_root);
    return -1;
  }
  if (access(conf_proc_root, R_OK | X_OK) != 0) {
    ERROR(PLUGIN_NAME " plugin: ProcRoot %s cannot be read: %s.", conf_proc_root, strerror(errno));
    return -1;
  }
  if (conf_compact && !compact_types_loaded())
    conf_compact = false;
  INFO(PLUGIN_NAME " plugin: %s layout under %s.", cg_layout_name(layout.kind), conf_cgroup_root);
  if (layout.kind != CG_LAYOUT_V2)
    for (int i = 0; i < CG_V1_COUNT; i++) {
      v1_root_fd[i] = open_root(layout.v1[i]);
      if (v1_root_fd[i] < 0)
        INFO(PLUGIN_NAME " plugin: no cgroup v1 %s hierarchy under %s: its values are not "
                         "collected.",
             cg_v1_controller_name(i), conf_cgroup_root);
    }
  v2_root_fd = open_root(layout.v2);
  primary_root_fd = open_root(layout.primary);
  char stat[512];
  unified_cpu_time = layout.kind == CG_LAYOUT_HYBRID && v2_root_fd >= 0 &&
                     read_file_at(v2_root_fd, "cpu.stat", stat, sizeof(stat)) > 0 &&
                     strstr(stat, "user_usec ") != NULL;
  proc_root_fd = open_root(conf_proc_root);
  if (primary_root_fd < 0) {
    ERROR(PLUGIN_NAME " plugin: cannot open %s: %s.", layout.primary, strerror(errno));
    close_roots();
    return -1;
  }
  if (layout.kind == CG_LAYOUT_V1 && (conf_groups & CG_GROUP_PRESSURE))
    INFO(PLUGIN_NAME " plugin: no cgroup v2 tree under %s: pressure (PSI) values are not "
                     "collected.",
         conf_cgroup_root);

  blockdev_init(conf_proc_root);
  names_config_t nc = {.docker_root = conf_docker_root,
                       .k8s_log_dir = conf_k8s_log_dir,
                       .podman_json = conf_podman_json};
  if (names_configure(&nc) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot configure container naming.");
    close_roots();
    return -1;
  }

  if (conf_collect_network) {
    /* collectd runs init in the host's network namespace: the worker saves it as home. */
    int nerr = netns_init(netns_log);
    netns_owners = nerr == 0 ? netns_registry_create(3 * plugin_get_interval()) : NULL;
    if (nerr != 0 || !netns_owners)
      ERROR(PLUGIN_NAME " plugin: cannot start the network namespace worker (%s); network "
                        "collection is off.",
            nerr ? strerror(-nerr) : "out of memory");
    atomic_store(&network_on, nerr == 0 && netns_owners != NULL);
  }

  exit_watcher_start();
  delay_start();
  open_files_budget();

  user_data_t ud = {0};
  plugin_register_complex_read(READ_GROUP, "container/discover", discover, 0, &ud);

  if (conf_collect_host) {
    container_t *host = container_new("");
    if (host) {
      seed_host_load(host);
      host->is_host = true;
      sstrncpy(host->name, HOST_INSTANCE, sizeof(host->name));
      sstrncpy(host->id, HOST_INSTANCE, sizeof(host->id));
      sstrncpy(host->runtime, "host", sizeof(host->runtime));
      pthread_mutex_lock(&registry_lock);
      container_register(host);
      pthread_mutex_unlock(&registry_lock);
    }
  }
  initialized = true;
  return 0;
}

/* Back to the defaults, so a shutdown leaves nothing behind (the unit tests configure again). */
static void config_reset(void) {
  select_destroy(conf_containers);
  conf_containers = NULL;
  select_destroy(conf_interfaces);
  conf_interfaces = NULL;
  conf_ignore_selected = false;
  conf_collect_network = true;
  conf_ignore_selected_interface = true;
  conf_interface_given = false;
  conf_failed = false;
  conf_groups = CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;
  conf_collect_load = true;
  conf_collect_all_states = false;
  conf_task_method = TASK_METHOD_PROCSTATE;
  conf_collect_host = false;
  conf_notifications = true;
  conf_collect_delay = true;
  conf_enable_delayacct = false;
  conf_collect_diagnosis = true;
  conf_meta = META_FIRST;
  conf_compact = false;
  conf_max_open_files = 65536;
  conf_per_callback = 64;
  sstrncpy(conf_cgroup_root, "/sys/fs/cgroup", sizeof(conf_cgroup_root));
  sstrncpy(conf_proc_root, "/proc", sizeof(conf_proc_root));
  sstrncpy(conf_docker_root, "/var/lib/docker", sizeof(conf_docker_root));
  sstrncpy(conf_k8s_log_dir, "/var/log/containers", sizeof(conf_k8s_log_dir));
  sstrncpy(conf_podman_json, "/var/lib/containers/storage/overlay-containers/containers.json",
           sizeof(conf_podman_json));
}

static int container_shutdown(void) {
  exit_watcher_stop();                      /* before the containers it looks at are freed */
  plugin_unregister_read_group(READ_GROUP); /* collectd frees the shards */
  pthread_mutex_lock(&registry_lock);
  shards = NULL;
  shard_serial = 0;
  while (registry) {
    container_t *c = registry;
    registry = c->next;
    container_free(c);
  }
  memset(registry_hash, 0, sizeof(registry_hash));
  pthread_mutex_unlock(&registry_lock);
  if (initialized) {
    delay_shutdown();
    atomic_store(&delay_on, false);
    genl_shutdown();
    atomic_store(&network_on, false);
    netns_shutdown();
    if (netns_owners)
      netns_registry_destroy(netns_owners);
    netns_owners = NULL;
    names_shutdown();
    blockdev_shutdown();
  }
  close_roots();
  free(fresh);
  fresh = NULL;
  fresh_num = fresh_cap = 0;
  config_reset();
  initialized = false;
  memset(method_logged, 0, sizeof(method_logged));
  pthread_mutex_lock(&hoststat_lock);
  hoststat_time = -1;
  pthread_mutex_unlock(&hoststat_lock);
  return 0;
}

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, container_config);
  plugin_register_init(PLUGIN_NAME, container_init);
  plugin_register_shutdown(PLUGIN_NAME, container_shutdown);
}
