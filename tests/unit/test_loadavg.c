/* loadavg.c against a model of the kernel's own load average.
 *
 * The model below is transcribed from the kernel sources (kernel/sched/loadavg.c: calc_load_n,
 * fixed_power_int, calc_global_load, calc_global_nohz, get_avenrun; include/linux/sched/
 * loadavg.h: calc_load, FSHIFT, EXP_n, LOAD_INT, LOAD_FRAC; fs/proc/loadavg.c: the display),
 * not from src/loadavg.c, keeping the kernel's names, types and jiffies. One change: LOAD_FREQ
 * is 5 * HZ here, the kernel's is 5 * HZ + 1 (see loadavg.h).
 *
 * A simulated collectd runs the plugin's 5 s load callback and its read callback (Interval 1,
 * 5, 10, 60) with collectd's scheduling (next = previous + interval, or now when that is past)
 * and some lateness; a simulated run queue changes at random times. */
#include "loadavg.h"
#include "testutil.h"

#include <stdint.h>

/* ---- the kernel, transcribed ---- */
#define HZ 1000
#define FSHIFT 11
#define FIXED_1 (1 << FSHIFT)
#define LOAD_FREQ (5 * HZ) /* kernel: 5*HZ+1 */
#define EXP_1 1884
#define EXP_5 2014
#define EXP_15 2037
#define LOAD_INT(x) ((x) >> FSHIFT)
#define LOAD_FRAC(x) LOAD_INT(((x) & (FIXED_1 - 1)) * 100)
#define time_before(a, b) ((long)((a) - (b)) < 0)

static unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active) {
  unsigned long newload;

  newload = load * exp + active * (FIXED_1 - exp);
  if (active >= load)
    newload += FIXED_1 - 1;

  return newload / FIXED_1;
}

static unsigned long fixed_power_int(unsigned long x, unsigned int frac_bits, unsigned int n) {
  unsigned long result = 1UL << frac_bits;

  if (n) {
    for (;;) {
      if (n & 1) {
        result *= x;
        result += 1UL << (frac_bits - 1);
        result >>= frac_bits;
      }
      n >>= 1;
      if (!n)
        break;
      x *= x;
      x += 1UL << (frac_bits - 1);
      x >>= frac_bits;
    }
  }

  return result;
}

static unsigned long calc_load_n(unsigned long load, unsigned long exp, unsigned long active,
                                 unsigned int n) {
  return calc_load(load, fixed_power_int(exp, FSHIFT, n), active);
}

typedef struct {
  unsigned long avenrun[3];
  unsigned long calc_load_update; /* jiffies */
  long calc_load_tasks;           /* the active count the timer reads */
} kernel_t;

/* calc_global_nohz: a timer that ran late catches up in bulk with the same active count. */
static void calc_global_nohz(kernel_t *k, unsigned long jiffies) {
  unsigned long sample_window = k->calc_load_update;
  if (!time_before(jiffies, sample_window + 10)) {
    long delta = jiffies - sample_window - 10;
    long n = 1 + (delta / LOAD_FREQ);
    long active = k->calc_load_tasks;
    active = active > 0 ? active * FIXED_1 : 0;
    k->avenrun[0] = calc_load_n(k->avenrun[0], EXP_1, active, n);
    k->avenrun[1] = calc_load_n(k->avenrun[1], EXP_5, active, n);
    k->avenrun[2] = calc_load_n(k->avenrun[2], EXP_15, active, n);
    k->calc_load_update = sample_window + n * LOAD_FREQ;
  }
}

/* calc_global_load: runs from the timer; does its work 10 ticks after the window opens. */
static void calc_global_load(kernel_t *k, unsigned long jiffies) {
  unsigned long sample_window = k->calc_load_update;
  if (time_before(jiffies, sample_window + 10))
    return;
  long active = k->calc_load_tasks;
  active = active > 0 ? active * FIXED_1 : 0;
  k->avenrun[0] = calc_load(k->avenrun[0], EXP_1, active);
  k->avenrun[1] = calc_load(k->avenrun[1], EXP_5, active);
  k->avenrun[2] = calc_load(k->avenrun[2], EXP_15, active);
  k->calc_load_update = sample_window + LOAD_FREQ;
  calc_global_nohz(k, jiffies);
}

/* /proc/loadavg: get_avenrun(avnrun, FIXED_1/200, 0), then "%lu.%02lu". */
static double kernel_display(unsigned long avenrun) {
  unsigned long v = avenrun + FIXED_1 / 200;
  return (double)LOAD_INT(v) + (double)LOAD_FRAC(v) / 100.0;
}

/* ---- a seeded random run queue ---- */
static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64: the same sequence everywhere */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static double rnd01(void) {
  return (double)(rnd() >> 11) / (double)(1ULL << 53);
}

#define MAX_CHANGES 200000
static double change_t[MAX_CHANGES]; /* the count is change_v[i] from change_t[i] on */
static unsigned long change_v[MAX_CHANGES];
static int nchanges;

/* Changes at random times (gaps 0.1 s to 30 s, so several per 5 s window at times), none in
 * [s0 + 5k - guard_before, s0 + 5k + guard_after]. */
static void make_run_queue(double s0, double end, unsigned long maxq, double guard_before,
                           double guard_after) {
  nchanges = 0;
  double t = 0;
  while (t < end && nchanges < MAX_CHANGES) {
    double phase = fmod(t - s0 + 5000.0, 5.0);
    if (t < s0 || (phase > guard_after && phase < 5.0 - guard_before)) {
      change_t[nchanges] = t;
      change_v[nchanges++] = rnd() % (maxq + 1);
    }
    t += rnd01() < 0.3 ? 0.1 + rnd01() * 2 : 0.1 + rnd01() * 30;
  }
}

static unsigned long run_queue_at(double t) {
  int lo = 0, hi = nchanges - 1; /* last change at or before t */
  if (nchanges == 0 || t < change_t[0])
    return 0;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (change_t[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return change_v[lo];
}

/* ---- simulated collectd ---- */
typedef struct {
  double next, interval;
} sched_t;

/* When collectd runs the callback scheduled at s->next: a little later (its read threads take a
 * few ms), rarely 30-50 ms. Then schedules the next run as collectd's plugin_read_thread does. */
static double run_at(const sched_t *s) {
  double lag = rnd01() < 0.05 ? 0.03 + 0.02 * rnd01() : 0.003 * rnd01();
  return s->next + lag;
}
static void reschedule(sched_t *s, double ran) {
  s->next += s->interval;
  if (s->next < ran)
    s->next = ran;
}

#define MAX_TICKS 20000
static unsigned long hist[MAX_TICKS][3]; /* the kernel model after each tick */

/* Interval test: the load callback on time (lag <= 50 ms), the run queue changing anywhere but
 * in the 50 ms after a tick (where the kernel, sampling 10 jiffies after the tick, and a callback
 * sampling a few ms after it would see different counts). The kernel model ticks every 5 s on
 * the grid the plugin's first sample anchored; the read callback reports the plugin's latest
 * averages, which must be the model's after as many ticks as load callbacks have run. */
static void test_interval(double interval, unsigned long maxq, uint64_t seed) {
  rng_state = seed;
  double start = 1000.0 + rnd01() * 5, hours = 4, end = start + hours * 3600;
  sched_t load = {start, LOADAVG_FREQ}, rd = {start + rnd01() * interval, interval};
  make_run_queue(start, end + 10, maxq, 0.0, 0.06);
  loadavg_t la = {0};
  kernel_t k = {{0}, 0, 0};
  int ticks = -1, bad_ret = 0, reads = 0;
  double worst = 0, worst_disp = 0;
  while (load.next < end || rd.next < end) {
    if (load.next <= rd.next) {
      double t = run_at(&load);
      unsigned n = loadavg_sample(&la, run_queue_at(t), t);
      if (ticks < 0) { /* the first sample anchors the grid: the model's ticks are at t + 5k */
        k.calc_load_update = (unsigned long)llround(load.next * HZ) + LOAD_FREQ;
        ticks = 0;
      } else {
        bad_ret += n != 1;
        ticks++;
        double tick_t = (double)(k.calc_load_update + 10) / HZ;
        k.calc_load_tasks = (long)run_queue_at(tick_t);
        calc_global_load(&k, k.calc_load_update + 10);
        if (ticks < MAX_TICKS)
          memcpy(hist[ticks], k.avenrun, sizeof(k.avenrun));
      }
      reschedule(&load, t);
    } else {
      double t = run_at(&rd);
      reads++;
      for (int i = 0; ticks >= 0 && ticks < MAX_TICKS && i < 3; i++) {
        double d = fabs(loadavg_get(&la, i) - (double)hist[ticks][i] / FIXED_1);
        double dd = fabs(loadavg_display(&la, i) - kernel_display(hist[ticks][i]));
        worst = d > worst ? d : worst;
        worst_disp = dd > worst_disp ? dd : worst_disp;
      }
      reschedule(&rd, t);
    }
  }
  printf("Interval %4.0f s, run queue 0-%lu, %.0f h, %d reads, %d ticks: max |plugin - kernel| "
         "%.6f, display %.2f\n",
         interval, maxq, hours, reads, ticks, worst, worst_disp);
  CHECK_INT(bad_ret, 0);
  CHECK(ticks > 2800 && ticks <= 2880);
  CHECK_NEAR(worst, 0, 0.001);
  CHECK_NEAR(worst_disp, 0, 0.001);
}

/* Late callbacks, as the kernel handles a late timer: the model is a tickless kernel whose
 * timer runs exactly when the load callback does (so both see the same count, and the run queue
 * may change at any time), its window opening (calc_load_update + 10 jiffies) half a tick before
 * the plugin's grid point, where the plugin takes a tick too. collectd restarts the schedule of
 * a callback that ran more than an interval late from the time it ran, so the callback drifts
 * to every phase of the grid. Now and then the callback runs whole periods late
 * (collectd's read threads were busy), plus up to 0.2 s. */
static void test_late(uint64_t seed) {
  rng_state = seed;
  double start = 500.0 + rnd01() * 5, end = start + 6 * 3600;
  sched_t load = {start, LOADAVG_FREQ};
  make_run_queue(start, end + 200, 12, 0, 0);
  loadavg_t la = {0};
  kernel_t k = {{0}, 0, 0};
  int late = 0, caught_up = 0, calls = 0;
  double worst = 0;
  bool first = true;
  while (load.next < end) {
    double t = run_at(&load);
    if (!first && rnd01() < 0.02) {
      t += LOADAVG_FREQ * (double)(1 + rnd() % 12) + 0.2 * rnd01();
      late++;
    }
    unsigned long active = run_queue_at(t);
    unsigned n = loadavg_sample(&la, active, t);
    caught_up += n > 1;
    calls++;
    if (first) {
      k.calc_load_update = (unsigned long)llround(t * HZ) + LOAD_FREQ / 2 - 10;
      first = false;
    } else {
      k.calc_load_tasks = (long)active;
      calc_global_load(&k, (unsigned long)llround(t * HZ));
    }
    for (int i = 0; i < 3; i++) {
      double d = fabs(loadavg_get(&la, i) - (double)k.avenrun[i] / FIXED_1);
      worst = d > worst ? d : worst;
    }
    reschedule(&load, t);
  }
  printf("late callbacks: %d calls, %d late, %d caught up with calc_load_n: max |plugin - "
         "tickless kernel| %.6f\n",
         calls, late, caught_up, worst);
  CHECK(late > 50 && caught_up == late);
  CHECK_NEAR(worst, 0, 0.001);
}

/* A late callback against the kernel whose timer was on time, when the count did not change
 * while the callback was late (what calc_load_n assumes): calc_load_n's e^n, rounded to 11 bits
 * at each squaring, against n rounded steps. Up to 120 missed ticks (10 minutes), counts up to
 * 64. The kernel's own catch-up after a tickless stretch differs the same way, from two causes:
 * e^n is rounded at each squaring (a small fraction of the distance between the average and the
 * count), and n rounded steps while rising each add up to 1/2048, which the one step does not:
 * at most 1 / (2048 - EXP) in all (0.006, 0.029, 0.091 for 1, 5, 15 minutes). */
static void test_late_vs_on_time(void) {
  static const unsigned long exps[3] = {EXP_1, EXP_5, EXP_15};
  rng_state = 31337;
  double worst[3] = {0}, worst_excess = -1;
  for (int trial = 0; trial < 2000; trial++) {
    loadavg_t la;
    loadavg_init(&la, 0);
    kernel_t k = {{0}, 0, 0};
    double t = 0;
    for (int step = 0; step < 40; step++) { /* some history */
      unsigned long a = rnd() % 65;
      t += 5;
      loadavg_sample(&la, a, t);
      for (int i = 0; i < 3; i++)
        k.avenrun[i] = calc_load(k.avenrun[i], exps[i], a * FIXED_1);
    }
    unsigned long a = rnd() % 65;
    double gap[3];
    for (int i = 0; i < 3; i++)
      gap[i] = fabs((double)a - (double)k.avenrun[i] / FIXED_1);
    unsigned m = 1 + (unsigned)(rnd() % 120);
    t += 5.0 * m;
    CHECK_INT(loadavg_sample(&la, a, t), m);
    for (unsigned j = 0; j < m; j++)
      for (int i = 0; i < 3; i++)
        k.avenrun[i] = calc_load(k.avenrun[i], exps[i], a * FIXED_1);
    for (int i = 0; i < 3; i++) {
      double d = fabs(loadavg_get(&la, i) - (double)k.avenrun[i] / FIXED_1);
      worst[i] = d > worst[i] ? d : worst[i];
      double excess = d - (0.005 * gap[i] + 1.0 / (double)(FIXED_1 - exps[i]));
      worst_excess = excess > worst_excess ? excess : worst_excess;
    }
  }
  printf("late callback vs on-time kernel, same count: max |diff| %.4f %.4f %.4f (bound - "
         "diff >= %.4f)\n",
         worst[0], worst[1], worst[2], -worst_excess);
  CHECK(worst_excess <= 0);
}

static void test_basics(void) {
  /* One tick from 0 with 1 task: (2048 * 164 + 2047) / 2048 = 164 (rounded up while rising). */
  loadavg_t la;
  loadavg_init(&la, 100);
  CHECK_INT(loadavg_sample(&la, 1, 105), 1);
  CHECK_NEAR(loadavg_get(&la, 0), 164.0 / 2048, 0);
  CHECK_NEAR(loadavg_get(&la, 1), 34.0 / 2048, 0);
  CHECK_NEAR(loadavg_get(&la, 2), 11.0 / 2048, 0);
  CHECK_NEAR(loadavg_display(&la, 0), 0.08, 1e-9); /* 164 + 10 = 174: 0.08 */
  CHECK(isnan(loadavg_get(&la, 3)));

  /* Cadence on the grid 5, 10, 15...: 4.9 s and 5.3 s after an on-time sample are one tick
   * each; 2.2 s after is none (2.8 s before the next tick); 7.6 s after takes the missed tick
   * too (22.6 + 2.5 >= 25); the grid does not move. */
  loadavg_init(&la, 0);
  CHECK_INT(loadavg_sample(&la, 2, 4.9), 1);
  CHECK_INT(loadavg_sample(&la, 2, 10.2), 1);
  CHECK_INT(loadavg_sample(&la, 2, 12.4), 0);
  CHECK_INT(loadavg_sample(&la, 2, 15.0), 1);
  CHECK_INT(loadavg_sample(&la, 2, 22.6), 2);
  CHECK_INT(loadavg_sample(&la, 2, 25.0), 0); /* 25 was taken */
  CHECK_INT(loadavg_sample(&la, 2, 30.0), 1);
  CHECK_U64(la.ticks, 6);
  CHECK_INT(loadavg_sample(&la, 2, 36.8), 1); /* 1.8 s late */
  CHECK_NEAR(la.due, 40, 1e-9);
  CHECK_INT(loadavg_sample(&la, 2, 41.8), 1);
  CHECK_INT(loadavg_sample(&la, 2, 47.4), 1); /* 2.4 s late: still the tick at 45 */
  CHECK_INT(loadavg_sample(&la, 2, 52.6), 2); /* 2.6 s late: 50 and 55 */

  /* Seven identical states: missing ticks with a steady count change nothing at the limit. */
  loadavg_t z = {0};
  CHECK_INT(loadavg_sample(&z, 3, 50), 0); /* zero-initialised: anchors only */
  CHECK_INT(loadavg_sample(&z, 3, 50 + 86400), 17280);
  CHECK_NEAR(loadavg_get(&z, 0), 3, 0);
  CHECK_NEAR(loadavg_get(&z, 2), 3, 0);
  CHECK_NEAR(loadavg_display(&z, 2), 3.00, 1e-9);
  CHECK_INT(loadavg_sample(&z, 0, 50 + 2 * 86400), 17280);
  CHECK_NEAR(loadavg_get(&z, 0), 0, 0); /* rounded down while falling: reaches 0 */
  CHECK_NEAR(loadavg_get(&z, 2), 0, 0);

  /* A clock that went back restarts the grid and keeps the averages; NaN is ignored. */
  loadavg_init(&la, 0);
  loadavg_sample(&la, 4, 5);
  double one = loadavg_get(&la, 0);
  CHECK_INT(loadavg_sample(&la, 4, -100), 0);
  CHECK_NEAR(loadavg_get(&la, 0), one, 0);
  CHECK_INT(loadavg_sample(&la, 4, NAN), 0);
  CHECK_INT(loadavg_sample(&la, 4, -95), 1);
  /* A huge count is clamped, not overflowed. */
  CHECK_INT(loadavg_sample(&la, ~0ul, -90), 1);
  CHECK(loadavg_get(&la, 0) > 1e6 && loadavg_get(&la, 0) <= (double)LOADAVG_MAX_ACTIVE);

  /* The exported arithmetic is the kernel's. */
  CHECK_U64(loadavg_calc_load(0, EXP_1, FIXED_1), calc_load(0, EXP_1, FIXED_1));
  for (unsigned n = 0; n < 300; n += 7)
    CHECK_U64(loadavg_calc_load_n(5000, EXP_15, 3 * FIXED_1, n),
              calc_load_n(5000, EXP_15, 3 * FIXED_1, n));
  /* The display's rounding: 0.995 shows as 1.00, 0.994 as 0.99 (as /proc/loadavg). */
  loadavg_t d = {.avenrun = {2038, 2027, 0}};
  CHECK_NEAR(loadavg_display(&d, 0), kernel_display(2038), 1e-9);
  CHECK_NEAR(loadavg_display(&d, 1), kernel_display(2027), 1e-9);
  CHECK_NEAR(loadavg_display(&d, 0), 1.00, 1e-9);
  CHECK_NEAR(loadavg_display(&d, 1), 0.99, 1e-9);
}

int main(void) {
  test_basics();
  static const double intervals[] = {1, 5, 10, 60};
  for (int i = 0; i < 4; i++)
    test_interval(intervals[i], 8, 1000 + (uint64_t)i);
  test_interval(10, 200, 77);
  test_late(4242);
  test_late(99);
  test_late_vs_on_time();
  return test_result("test_loadavg");
}
