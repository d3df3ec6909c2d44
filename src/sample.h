/* One container's read for one interval, without collectd: a cgroup directory in, a
 * container_sample_t out. The read goes one way:
 *   sample_read()    cgroup files -> cg_metrics_t, task states -> load, processes -> TGIDs, and
 *                    the delay and namespace requests the caller batches over many containers;
 *   (the caller)     runs the batched taskstats query and the namespace worker's round trip;
 *   sample_finish()  the delay and network answers -> the diagnosis, the per-container state.
 * The glue then turns the sample into value lists (src/plugin/emit.c). */
#ifndef CONTAINER_SAMPLE_H
#define CONTAINER_SAMPLE_H

#include "cgfiles.h"
#include "cgprocs.h"
#include "cgroupfs.h"
#include "delayacct.h"
#include "diagnosis.h"
#include "loadstate.h"
#include "metrics.h"
#include "netns.h"
#include "procstate.h"
#include "tasksample.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SAMPLE_NET_MAX_PIDS 4    /* candidates for the namespace read */
#define SAMPLE_LIMITS_RECHECK 10 /* limit files are read every this many reads */

/* The host as every container's read sees it: the hierarchy roots and /proc, as directory fds
 * opened once (plus the /proc path some readers still take), and the options of the read. */
typedef struct {
  cg_layout_kind_t kind;
  int v1_root[CG_V1_COUNT];
  int v2_root;      /* v2: the tree; hybrid: the unified tree; -1 on pure v1 */
  int freezer_root; /* the v1 freezer hierarchy, -1 if none */
  int primary_root;
  int proc_root;
  const char *proc_path;
  bool unified_cpu_time; /* hybrid: the unified cpu.stat splits CPU time */
  unsigned groups;       /* CG_GROUP_* to read */
  bool collect_load;
  task_method_kind_t task_method;
  bool collect_delay; /* delay accounting is on: ask for the delays */
  bool collect_diagnosis;
  bool collect_network; /* the namespace worker runs */
  double interval;      /* collectd's, seconds */
} sample_host_t;

/* What the "gone" notification reports. */
typedef struct {
  uint64_t cpu_us, memory_peak, oom_kills, io_read, io_write;
} sample_totals_t;

/* What the CPU diagnosis needs of a read's cgroup values. */
typedef struct {
  bool has_cfs, has_quota, has_cpu_time;
  uint64_t throttled_us, throttled_periods, periods, cpu_usage_us;
} sample_cpu_t;

/* A container's state between reads. Zero it, then sample_state_init(). */
typedef struct {
  const char *relpath;   /* below the hierarchy roots, "" for the host */
  const char *proc_path; /* the host's /proc, for the namespace worker's membership checks */
  bool is_host;
  cg_error_fn on_error; /* a file that exists but cannot be used */
  void *error_ctx;
  bool (*claim)(netns_id_t id, void *ctx); /* may this container report that namespace */
  void *claim_ctx;
  /* the cgroup directories, see sample.c's dirs_open() */
  int dir_v1[CG_V1_COUNT];
  int dir_v2;
  bool dirs_open, dirs_kept;
  int dirs_reserved;
  bool tasks_not_in_unified; /* hybrid: the unified cgroup empty, v1's not */
  cg_files_t *files;
  cg_limits_t limits;  /* of the last read that read the limit files */
  unsigned limits_age; /* reads since then, modulo SAMPLE_LIMITS_RECHECK; 0: read them now */
  bool cfs_idle;       /* v1: cpu.stat still 0 and no quota: read with the limits only */
  /* the load: sampled every 5 s by sample_load(), reported by each read */
  loadstate_t load;
  int tasks_hierarchy; /* 0: v1, 1: v2, where the last sample counted the tasks */
  task_method_t task_method;
  procstate_starts_t starts;  /* thread start times the load sample read, for the delays */
  procstate_keep_t task_keep; /* kept /proc stat fds of the load sample's threads */
  /* the processes */
  pid_list_t tgids;
  delay_state_t *delay; /* NULL when delays are not collected */
  diag_tracker_t diag;
  /* the network namespace */
  pid_t host_netns_pid; /* the process last seen in the host's namespace, 0 if none */
  unsigned host_netns_reads;
  /* for the "gone" notification */
  sample_totals_t last;
  uint64_t usage_high;
} sample_state_t;

/* One interval of one container. */
typedef struct {
  bool found;  /* the cgroup was there: false means nothing else is set */
  double time; /* monotonic seconds when the read began */
  cg_metrics_t cg;
  sample_cpu_t cpu;
  bool has_tasks;
  task_counts_t tasks;
  int tasks_hierarchy; /* 0: v1, 1: v2, where the tasks were counted */
  double load[3];      /* 1, 5, 15 minutes */
  /* delays: asked when delay_asked; the answer in delay_job.rc / .out */
  bool delay_asked;
  delay_job_t delay_job;
  int delay_rc; /* 0: delay_job.out holds the totals; 1: not asked; -errno */
  /* the diagnosis: code >= 0, or -1 for none (not asked, or an input missing) */
  int diag_code;
  int diag_changed_from; /* -2: no change; else the confirmed state it changed from */
  char diag_why[192];
  /* network: asked when net_asked; the answer in net_status / net */
  bool net_asked;
  pid_t net_pids[SAMPLE_NET_MAX_PIDS];
  netns_request_t net_req;
  int net_status;
  netns_result_t net;
} container_sample_t;

/* Sets the parts of a zeroed state that are not 0. Returns 0 or -ENOMEM. */
int sample_state_init(sample_state_t *st, const sample_host_t *h);
void sample_state_free(sample_state_t *st);
/* Closes the container's directories (they are opened again at the next read). */
void sample_state_close(sample_state_t *st);

/* The load sample, on the kernel's clock (every 5 s, LOADAVG_FREQ, whatever the Interval): the
 * task states of the container's subtree (frozen cgroups have none running or blocked), folded
 * into its averages with the kernel's arithmetic (loadavg.h). The reads report the latest. */
void sample_load(const sample_host_t *h, sample_state_t *st);

/* Step 1: the container's cgroup files, the latest task counts and load (the host: the kernel's
 * own, /proc/loadavg and /proc/stat), its processes; fills the requests. */
void sample_read(const sample_host_t *h, sample_state_t *st, container_sample_t *s);
/* Step 3: folds the answers to the requests (delay_job, net) into the state and the diagnosis. */
void sample_finish(const sample_host_t *h, sample_state_t *st, container_sample_t *s);
/* Frees what the sample holds (the namespace worker's interfaces). */
void sample_release(container_sample_t *s);

/* What the "gone" notification reports. */
sample_totals_t sample_totals(const sample_state_t *st);
/* The namespace of the container's first processes (discovery: pods' containers claim theirs
 * before their first read). Returns a NETNS_* status; *id is set for NETNS_OK. */
int sample_identify_netns(const sample_host_t *h, sample_state_t *st, netns_id_t *id);
/* Monotonic seconds. */
double sample_now(void);
/* Forgets the cached host CPU times (a new configuration). */
void sample_host_cpu_reset(void);

#endif
