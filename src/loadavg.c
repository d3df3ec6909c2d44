/* Load average arithmetic and cadence: see loadavg.h. */
#include "loadavg.h"

#include <limits.h>
#include <math.h>

/* The kernel's decay factors per 5 s tick, 2048 * exp(-5 s / 1, 5, 15 min) rounded. */
static const uint64_t decay[3] = {1884, 2014, 2037};

/* One tick: load * e + active * (1 - e) in 11-bit fixed point, rounded up while the average
 * rises towards the count (so it can reach it) and down while it falls (so it can reach 0). */
uint64_t loadavg_calc_load(uint64_t load, uint64_t exp, uint64_t active) {
  uint64_t sum = load * exp + active * (LOADAVG_FIXED_1 - exp);
  if (active >= load)
    sum += LOADAVG_FIXED_1 - 1;
  return sum >> LOADAVG_FSHIFT;
}

/* x^n in fixed point by squaring, each product rounded to nearest as the kernel does. */
static uint64_t fixed_pow(uint64_t x, unsigned n) {
  const uint64_t half = 1u << (LOADAVG_FSHIFT - 1);
  uint64_t r = LOADAVG_FIXED_1;
  while (n) {
    if (n & 1)
      r = (r * x + half) >> LOADAVG_FSHIFT;
    n >>= 1;
    if (n)
      x = (x * x + half) >> LOADAVG_FSHIFT;
  }
  return r;
}

/* n ticks with the same count in one step: a * e^n + active * (1 - e^n). */
uint64_t loadavg_calc_load_n(uint64_t load, uint64_t exp, uint64_t active, unsigned n) {
  return loadavg_calc_load(load, fixed_pow(exp, n), active);
}

void loadavg_init(loadavg_t *la, double now) {
  la->avenrun[0] = la->avenrun[1] = la->avenrun[2] = 0;
  la->due = now + LOADAVG_FREQ;
  la->ticks = 0;
  la->started = true;
}

unsigned loadavg_sample(loadavg_t *la, unsigned long active, double now) {
  if (!isfinite(now))
    return 0;
  if (!la->started) {
    loadavg_init(la, now);
    return 0;
  }
  if (!(now >= la->due - 2 * LOADAVG_FREQ)) {
    /* Before the last tick: a clock that went back. The grid restarts, the averages stay. */
    la->due = now + LOADAVG_FREQ;
    return 0;
  }
  if (now < la->due - LOADAVG_EARLY)
    return 0;
  double behind = floor((now + LOADAVG_EARLY - la->due) / LOADAVG_FREQ); /* missed ticks */
  unsigned missed = behind < (double)(UINT_MAX - 1) ? (unsigned)behind : UINT_MAX - 1;
  uint64_t a = (active < LOADAVG_MAX_ACTIVE ? active : LOADAVG_MAX_ACTIVE) * LOADAVG_FIXED_1;
  for (int i = 0; i < 3; i++) {
    la->avenrun[i] = loadavg_calc_load(la->avenrun[i], decay[i], a);
    if (missed)
      la->avenrun[i] = loadavg_calc_load_n(la->avenrun[i], decay[i], a, missed);
  }
  la->ticks += (uint64_t)missed + 1;
  la->due += (double)(missed + 1) * LOADAVG_FREQ;
  return missed + 1;
}

double loadavg_get(const loadavg_t *la, int i) {
  return i >= 0 && i < 3 ? (double)la->avenrun[i] / LOADAVG_FIXED_1 : NAN;
}

double loadavg_display(const loadavg_t *la, int i) {
  if (i < 0 || i > 2)
    return NAN;
  uint64_t v = la->avenrun[i] + LOADAVG_FIXED_1 / 200;
  uint64_t whole = v >> LOADAVG_FSHIFT;
  uint64_t hundredths = ((v & (LOADAVG_FIXED_1 - 1)) * 100) >> LOADAVG_FSHIFT;
  return (double)whole + (double)hundredths / 100.0;
}
