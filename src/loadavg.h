/* Per-container load averages held exactly as the kernel holds its own (kernel/sched/loadavg.c):
 * three fixed-point sums (FSHIFT 11 bits of fraction) advanced by the kernel's calc_load() once
 * per LOAD_FREQ (5 s) with the number of active tasks seen at that moment, and by its
 * calc_load_n() for ticks that were missed. No collectd calls.
 *
 * What feeds it (decided by measurement, tests/integration/taskstate_root.c): running +
 * uninterruptible as /proc/TID/stat reports them (R and D, task_counts_load()). The kernel's
 * load counts every TASK_UNINTERRUPTIBLE wait that is not TASK_NOLOAD, TASK_KILLABLE waits
 * included (a vfork parent, folio_lock_killable, mmap lock waits), which /proc shows as D and
 * cgroupstats does not count. Frozen tasks are not counted (see freezer.h).
 *
 * Cadence: the caller samples the container's task states every 5 s (its own 5 s callback,
 * whatever the read Interval) and hands the active count (running + uninterruptible, frozen
 * tasks left out) to loadavg_sample(). The ticks live on a 5 s grid of this struct's own:
 * - the first sample (or loadavg_init) anchors the grid; a new average starts at 0 like a
 *   freshly booted kernel, whose first tick is also 5 s after boot;
 * - a sample at time T applies every grid tick up to T + LOADAVG_EARLY that is not applied yet:
 *   none (a sample too early, e.g. 2 s after the previous one: its count is not folded in), one
 *   (the usual case: 4.9 s and 5.3 s after an on-time sample are both one tick), or several (a
 *   late callback: the first with calc_load, the missed rest with one calc_load_n, all seeing
 *   the same active count, as the kernel's calc_global_load() + calc_global_nohz() do);
 * - the grid never moves (like the kernel's calc_load_update), so the number of ticks over any
 *   stretch is its length / 5 s within one, and each tick's count was seen within 2.5 s of it.
 *   collectd restarts a callback's schedule from the time it ran when it ran more than an
 *   interval late, so the callback may then sit at any phase of the grid; only at a phase of
 *   2.5 s can its jitter give two ticks and then none, each with a count from within 2.5 s.
 * The kernel's own period is 5 s + 1 jiffy (LOAD_FREQ = 5*HZ+1): per hour it takes 0.14 (HZ
 * 1000), 0.6 (HZ 250) or 1.4 (HZ 100) samples fewer than this 5 s grid, i.e. its time constants
 * are 0.02 % to 0.2 % longer. For a steady run queue both reach the same value; a changing one
 * is sampled at other instants than the kernel's anyway.
 *
 * Values: avenrun[i] / 2048 exactly (loadavg_get), and what /proc/loadavg prints for the same
 * state (loadavg_display: + FIXED_1/200, then two decimals, truncated). */
#ifndef CONTAINER_LOADAVG_H
#define CONTAINER_LOADAVG_H

#include <stdbool.h>
#include <stdint.h>

#define LOADAVG_FSHIFT 11
#define LOADAVG_FIXED_1 (1u << LOADAVG_FSHIFT)
#define LOADAVG_FREQ 5.0               /* seconds between ticks */
#define LOADAVG_EARLY 2.5              /* a sample this much before its tick still takes it */
#define LOADAVG_MAX_ACTIVE (1ul << 30) /* larger counts are clamped (no overflow in 64 bits) */

typedef struct {
  uint64_t avenrun[3]; /* 1, 5, 15 minutes, scaled by LOADAVG_FIXED_1 */
  double due;          /* monotonic time of the next tick */
  uint64_t ticks;      /* ticks applied since the start */
  bool started;        /* false: the next sample anchors the grid and applies nothing */
} loadavg_t;

/* Zero averages and a grid anchored at now: the first tick is due at now + 5 s. A
 * zero-initialised loadavg_t is also valid: its first sample anchors the grid. */
void loadavg_init(loadavg_t *la, double now);

/* Folds in the active count seen at time now (seconds, monotonic clock). Returns the number of
 * ticks applied (0: too early, or the first sample of a zero-initialised struct; a time that
 * went backwards restarts the grid at now and applies nothing). */
unsigned loadavg_sample(loadavg_t *la, unsigned long active, double now);

/* The i-th average (0: 1 min, 1: 5 min, 2: 15 min) as the kernel holds it: avenrun / 2048. */
double loadavg_get(const loadavg_t *la, int i);

/* The i-th average as /proc/loadavg prints it (LOAD_INT.LOAD_FRAC of avenrun + FIXED_1/200). */
double loadavg_display(const loadavg_t *la, int i);

/* The kernel's arithmetic, exposed for the tests and for other users of the same numbers. */
uint64_t loadavg_calc_load(uint64_t load, uint64_t exp, uint64_t active);
uint64_t loadavg_calc_load_n(uint64_t load, uint64_t exp, uint64_t active, unsigned n);

#endif
