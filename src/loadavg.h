/* Per-container load averages: the kernel's 1/5/15-minute exponentially damped moving sums of
 * the number of active tasks, computed from samples taken at any interval. No collectd calls.
 *
 * What feeds it (decided by measurement, tests/integration/taskstate_root.c): running +
 * uninterruptible as /proc/TID/stat reports them (states R and D, see task_counts_load()), i.e.
 * the procstate method. The kernel's load counts every TASK_UNINTERRUPTIBLE wait that is not
 * TASK_NOLOAD, and that includes TASK_KILLABLE waits (a vfork parent, folio_lock_killable in page
 * cache reads, mmap lock waits, NFS), which /proc shows as D but cgroupstats, switching on the
 * exact state, does not count at all. Measured here: 4 vfork parents raise /proc/loadavg towards
 * 4 while cgroupstats reports uninterruptible=0 and /proc reports D=4. TASK_IDLE kernel threads
 * ('I') are excluded by both.
 *
 * Arithmetic: a sample is taken as the count over the interval it closes (the kernel's
 * convention: avenrun = avenrun * e + active * (1 - e) with the count seen at the tick).
 * - dt within LOADAVG_TICK_SLACK of LOAD_FREQ (5 s): one step of the kernel's own fixed-point
 *   calc_load (FSHIFT 11, EXP_1/5/15 = 1884/2014/2037, rounded up while rising, truncated while
 *   falling), so at the kernel's cadence the numbers match /proc/loadavg's arithmetic exactly.
 *   Plain exp(-5/T) in floating point would not: the kernel's constants are rounded (2037/2048
 *   is a 928 s time constant, not 900 s) and its rounding adds up to 0.05 to the 15-minute
 *   value while it rises.
 * - any other dt (1, 10, 30 s intervals, late or missed reads): the continuous-time EWMA,
 *   avg = avg * exp(-dt/T) + active * (1 - exp(-dt/T)) for T = 60, 300, 900 s, which is exact
 *   for a count that held during the interval, whatever its length.
 * A new average starts at 0 like a freshly booted kernel. */
#ifndef CONTAINER_LOADAVG_H
#define CONTAINER_LOADAVG_H

#include <stdbool.h>

#define LOADAVG_FREQ 5.0       /* seconds between the kernel's samples */
#define LOADAVG_TICK_SLACK 0.1 /* |dt - 5 s| up to this takes the kernel's fixed-point step */

typedef struct {
  double avg[3];  /* 1, 5, 15 minutes */
  double last;    /* time of the previous sample (seconds, monotonic) */
  bool have_time; /* false: the next update only records its time */
} loadavg_t;

/* Zero averages; now is the time origin, so the first update's sample counts for the time since
 * now (use the moment the container was found). A zero-initialised loadavg_t is also valid: its
 * first update only records the time. */
void loadavg_init(loadavg_t *la, double now);

/* Folds in a sample: active tasks (running + uninterruptible) at time now (seconds on a monotonic
 * clock). A time that does not advance is ignored; a negative count counts as 0. */
void loadavg_update(loadavg_t *la, double now, double active);

#endif
