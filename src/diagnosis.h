/* The CPU-bottleneck differential diagnosis of a container, per interval (Brendan Gregg,
 * "Container Performance Analysis", DockerCon 2017: shared/reference/003). No collectd calls.
 *
 *   throttled time increasing?            yes -> DIAG_CAP_THROTTLED
 *   no: non-voluntary context switches
 *       (and, when delay accounting is on,
 *       CPU delay) increasing?            no  -> DIAG_NOT_THROTTLED
 *   yes: idle CPU among the CPUs the
 *        container may run on?            yes -> DIAG_NOT_THROTTLED ("but dig further")
 *   no: are the other tenants of those
 *       CPUs idle?                        yes -> DIAG_PHYSICAL_CPU (it alone saturates them)
 *                                         no  -> DIAG_SHARE_THROTTLED (others got the CPU)
 *
 * "Increasing" means above the thresholds below, as rates over the interval, so scheduler noise
 * (a kworker preempting a busy loop a few times a second) does not count. "The host" is the set
 * of CPUs the container's processes may run on (the union of their affinity masks, which
 * includes cpuset.cpus), so a container confined to a busy CPU on an otherwise idle host is
 * judged by that CPU.
 *
 * Honesty: a row needs its inputs. Without them the result is DIAG_UNKNOWN (-ENODATA), never a
 * definite code: step 1 without throttling counters when the container has a quota; step 2
 * without both involuntary context switches and CPU delay (either alone decides it); step 3
 * without the host's CPU time over the same window as the container's; step 4 without the
 * container's CPU usage. The host's and the container's deltas must cover the same window
 * (diag_track checks the times the two were read). */
#ifndef CONTAINER_DIAGNOSIS_H
#define CONTAINER_DIAGNOSIS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  DIAG_UNKNOWN = -ENODATA, /* an input the rule table needs is missing */
  DIAG_NOT_THROTTLED = 0,
  DIAG_CAP_THROTTLED = 1,
  DIAG_SHARE_THROTTLED = 2,
  DIAG_PHYSICAL_CPU = 3,
} diag_code_t;

/* Thresholds (fractions of the interval's wall time; CPU delay and usage are summed over the
 * container's tasks, so 1.0 = one CPU's worth). */
#define DIAG_THROTTLED_MIN_FRAC 0.01 /* throttled >= 10 ms per second, and >= 1 period */
#define DIAG_NIVCSW_MIN_RATE 10.0    /* >= 10 non-voluntary context switches per second */
#define DIAG_DELAY_MIN_FRAC 0.05     /* CPU delay >= 50 ms per second (if delay accounting) */
#define DIAG_IDLE_MIN_FRAC 0.10      /* >= 10 % of the container's CPUs' time idle = idle CPU */
#define DIAG_OTHERS_MIN_FRAC 0.25    /* others use >= 25 % of those CPUs = other tenants busy */
#define DIAG_WINDOW_MAX_SKEW 0.10    /* host and container windows differ by <= 10 % of it */

/* One interval's deltas. */
typedef struct {
  double interval_s; /* wall time the deltas cover; must be > 0 */
  bool has_throttling;
  double throttled_s;
  uint64_t throttled_periods, periods;
  bool has_quota; /* informational: throttling is judged by the counters */
  bool has_nivcsw;
  uint64_t nivcsw;
  bool has_cpu_delay; /* delay accounting on and read */
  double cpu_delay_s;
  bool has_cpu_usage;
  double cpu_usage_s;
  bool has_host;          /* idle and total CPU time of the container's CPUs */
  double host_idle_s;     /* CPU-seconds */
  double host_total_s;    /* CPU-seconds (= number of CPUs x host_interval_s) */
  double host_interval_s; /* wall time the host deltas cover; 0: interval_s */
} diag_input_t;

/* Applies the rule table. Returns a diag_code_t (>= 0), DIAG_UNKNOWN (-ENODATA) when an input
 * the table needs is missing, or -EINVAL for an interval <= 0. why (optional) gets a one-line
 * explanation with the numbers (for DIAG_UNKNOWN: what is missing). */
int diagnose(const diag_input_t *in, char *why, size_t why_len);

/* "not_throttled", "cap_throttled", "share_throttled", "physical_cpu". */
const char *diag_name(int code);

/* Cumulative counters at one read; diag_track() turns two of them into a diag_input_t. */
typedef struct {
  double time_s; /* monotonic */
  bool has_throttling;
  uint64_t throttled_us, throttled_periods, periods;
  bool has_quota;
  bool has_nivcsw;
  uint64_t nivcsw;
  bool has_cpu_delay;
  uint64_t cpu_delay_ns;
  bool has_cpu_usage;
  uint64_t cpu_usage_us;
  bool has_host;
  uint64_t host_idle_ticks, host_total_ticks; /* USER_HZ ticks over the container's CPUs */
  double host_time_s;     /* monotonic time /proc/stat was read; 0: the same as time_s */
  uint64_t host_cpus_sig; /* identifies that CPU set: a change skips the host deltas once */
  long ticks_per_s;       /* sysconf(_SC_CLK_TCK) */
} diag_sample_t;

/* A new diagnosis must hold this many intervals in a row before it counts as a change (the first
 * diagnosis counts at once), so a container on the edge of a threshold does not flap. */
#define DIAG_CONFIRM_INTERVALS 2

typedef struct {
  bool have_prev;
  diag_sample_t prev;
  int state;   /* the confirmed diagnosis, -1 before the first */
  int pending; /* a different diagnosis seen pending_n intervals in a row */
  int pending_n;
} diag_tracker_t;

void diag_tracker_init(diag_tracker_t *t);

/* Feeds one read. Returns the diagnosis for the interval since the previous read (>= 0),
 * -EAGAIN for the first read, after a clock step, or when the container's CPU set changed (the
 * host's idle time would be over other CPUs), or DIAG_UNKNOWN (-ENODATA) when an input the
 * table needs is missing this interval (see above; a counter that went backwards, a cgroup
 * re-created, makes its field absent once; host ticks read more than DIAG_WINDOW_MAX_SKEW of
 * the interval apart from the container's counters are absent). A negative result leaves the
 * confirmed state alone and breaks a pending change's run. *changed_from (optional) gets the
 * previous confirmed state when the confirmed state changes (DIAG_CONFIRM_INTERVALS), else -2;
 * the first diagnosis "changes" from -1. */
int diag_track(diag_tracker_t *t, const diag_sample_t *now, int *changed_from, char *why,
               size_t why_len);

#endif
