/* Per-container delay accounting that never goes down. No collectd calls.
 *
 * The kernel gives per-TGID totals (taskstats.h) that vanish when the process exits, so a sum
 * over the live processes goes down. Each container keeps, per process, the last values it
 * saw, keyed by TGID and the process's start time (/proc/PID/stat field 22), and adds only
 * increases to its own running totals:
 *   - a process that is gone keeps its contribution (its entry is dropped, its share stays);
 *   - a reused PID (same TGID, other start time) is a new process: nothing is subtracted;
 *   - a process seen for the first time counts in full if it started after the container's
 *     previous read (it was born there), otherwise from now on (it existed before we looked, or
 *     was moved in): so the first read of a container is the zero point;
 *   - a value that goes backwards for the same process is not subtracted: context-switch
 *     counters that wrap at 2^32 (32-bit kernels) are unwrapped, a delay total the kernel reset
 *     to 0 on s64 overflow counts from 0, anything else (delay accounting switched off, an
 *     exiting thread racing the read, the TGID's nvcsw losing an exited thread's share) keeps
 *     the high-water mark, so it is never counted twice when it comes back;
 *   - when delay accounting is switched on, every process is re-based (no jump by the CPU delay
 *     the scheduler accrued while it was off).
 * Memory: one entry per live process of the container; an entry of a process that is gone is
 * removed at the second read that does not see it (or at the first after its exit record).
 *
 * Exit records (optional, needs CAP_NET_ADMIN in the initial namespaces): a plugin-owned
 * listener (taskstats.h) receives each exiting process's final totals. A record is routed
 *   1. to the container holding an entry with that TGID and a consistent start time (the record's
 *      start is "now - ac_etime", matched within DELAY_START_TOLERANCE_MS): the increase since
 *      the last read is added, so nothing between the last read and the exit is lost;
 *   2. else, to the container that holds the exiting process's parent (ac_ppid), if the process
 *      started after that container's previous read: short-lived children (a shell loop, a CGI)
 *      are counted in full even though no read ever saw them.
 * Records of non-leader threads are skipped (their delays stay in the group's totals). Without
 * the listener (no privilege, or a kernel refusing listeners in a user/PID namespace) what is
 * lost: the delay between a process's last read and its exit, and all of it for processes that
 * live entirely between two reads. The counters still never decrease. */
#ifndef CONTAINER_DELAYACCT_H
#define CONTAINER_DELAYACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hoststat.h"
#include "procstate.h"
#include "taskstats.h"

#define DELAY_START_TOLERANCE_MS 1000

/* The values: TS_DELAY_COUNT delays (ns), then voluntary and involuntary context switches. */
enum { DELAY_V_NVCSW = TS_DELAY_COUNT, DELAY_V_NIVCSW, DELAY_V_COUNT };

typedef struct {
  uint64_t delay_ns[TS_DELAY_COUNT]; /* monotonic totals */
  uint64_t nvcsw, nivcsw;            /* monotonic totals */
  uint32_t present; /* TS_F_DELAY(k), TS_F_CTXSW: the kernel provides it (dispatch only those) */
  bool delay_on;    /* kernel.task_delayacct was 1 (delays are 0 otherwise: do not dispatch) */
  unsigned n_tasks; /* processes read this time */
  bool has_cpus;    /* cpus: union of the processes' CPU affinity (cpuset included) */
  hs_cpumask_t cpus;
} delay_totals_t;

typedef struct delay_state delay_state_t;

typedef struct {
  const char *proc_root; /* "/proc" unless collectd sees the host's /proc elsewhere */
  bool exit_listener;    /* start the exit-record listener */
  ts_log_fn log;         /* messages (syslog levels); may be NULL */
} delay_config_t;

/* Resolves the taskstats family (genl_init). If asked, the exit-record listener is started by
 * the first delay_sample_container whose TASKSTATS_CMD_GET was answered (so the privilege is
 * known to be there); a listener that cannot start is logged (WARNING) and is not an error. Returns
 * 0, or -errno from genl_init
 * (-ENOENT: kernel without CONFIG_TASKSTATS). Call once, before any delay_sample_container. */
int delay_init(const delay_config_t *cfg);

/* Stops the listener. States still alive stay valid (they are just no longer fed records). */
void delay_shutdown(void);

delay_state_t *delay_state_create(void);
void delay_state_destroy(delay_state_t *st); /* NULL is fine */

/* The entry point for the glue, per container per read: reads the taskstats of tgids (the
 * container's processes, e.g. from cgprocs_collect) and the start time of each, merges them
 * into st and fills *out. Processes that vanish meanwhile are skipped. Returns 0, or -EPERM (no
 * CAP_NET_ADMIN: turn delay collection off), -ESHUTDOWN/-ENOENT (no taskstats). */
/* A process's start time comes from known when it has the process's leader thread (the task-state
 * sample's reading, same clock ticks), else from /proc/PID/stat. known may be NULL. */
int delay_sample_container(delay_state_t *st, const pid_t *tgids, size_t n,
                           const procstate_starts_t *known, delay_totals_t *out);

/* delay_sample_container for several containers at once: their processes' taskstats in one
 * batched query (taskstats_query_tgids), so a read callback's containers cost two system calls
 * per batch of processes (as many as the socket's buffer holds, at most GENL_BATCH) instead of
 * two per process. */
typedef struct {
  delay_state_t *st;               /* in: the container's state */
  const pid_t *tgids;              /* in: its processes */
  size_t n;                        /* in */
  const procstate_starts_t *known; /* in: may be NULL */
  delay_totals_t out;              /* out, when rc is 0 */
  int rc;                          /* out: what delay_sample_container would return */
} delay_job_t;
void delay_sample_containers(delay_job_t *jobs, size_t n_jobs);

/* kernel.task_delayacct under proc_root: 1 on, 0 off, -errno (-ENOENT: a kernel without the
 * sysctl, where the delayacct boot parameter decides). */
int delay_accounting_state(const char *proc_root);
/* Writes 1 to it. Returns 0 or -errno. */
int delay_accounting_enable(const char *proc_root);

/* ---- the pure core (what delay_sample_container and the listener use; unit-tested) ---- */

typedef struct {
  ts_query_t ts;     /* the TGID and its taskstats (queried in place, see taskstats_query_tgids) */
  uint64_t start_ms; /* since boot (CLOCK_BOOTTIME) */
} delay_proc_sample_t;

/* Merges one read of a container taken at now_ms (CLOCK_BOOTTIME ms): s[0..n) are answered
 * queries (ts.rc is not looked at). delay_on: the delay values are meaningful (a switch from off
 * to on re-bases every process). */
void delay_merge(delay_state_t *st, const delay_proc_sample_t *s, size_t n, uint64_t now_ms,
                 bool delay_on, delay_totals_t *out);

/* Routes one exit record received at now_ms (CLOCK_BOOTTIME ms) to the container it belongs
 * to. Returns 1 if counted, 0 if ignored (a thread's record) or not attributable. */
int delay_route_exit(const ts_exit_record_t *rec, uint64_t now_ms);

/* Counters for tests and debugging. */
typedef struct {
  uint64_t exits_matched, exits_by_parent, exits_unrouted, exits_threads;
  size_t entries; /* over all states */
} delay_stats_t;
void delay_get_stats(delay_stats_t *out);

/* Parses the start time (field 22, clock ticks since boot) from the text of /proc/PID/stat
 * (split at the last ')'). Returns 0 or -EINVAL. */
int delay_parse_starttime(const char *text, size_t len, uint64_t *ticks);

#endif
