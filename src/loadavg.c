/* Load average arithmetic: see loadavg.h. */
#include "loadavg.h"

#include <math.h>
#include <stdint.h>

#define FSHIFT 11
#define FIXED_1 (1u << FSHIFT)

static const uint64_t kernel_exp[3] = {1884, 2014, 2037}; /* EXP_1, EXP_5, EXP_15 */
static const double period[3] = {60.0, 300.0, 900.0};

void loadavg_init(loadavg_t *la, double now) {
  la->avg[0] = la->avg[1] = la->avg[2] = 0.0;
  la->last = now;
  la->have_time = true;
}

/* The kernel's calc_load() on values held as doubles (exact: they are multiples of 2^-11 or get
 * rounded onto that grid here). */
static double kernel_step(double load, uint64_t e, double active) {
  uint64_t l = (uint64_t)llround(load * FIXED_1);
  uint64_t a = (uint64_t)llround(active * FIXED_1);
  uint64_t nl = l * e + a * (FIXED_1 - e);
  if (a >= l)
    nl += FIXED_1 - 1;
  return (double)(nl / FIXED_1) / FIXED_1;
}

void loadavg_update(loadavg_t *la, double now, double active) {
  if (!la->have_time) {
    la->last = now;
    la->have_time = true;
    return;
  }
  double dt = now - la->last;
  if (!(dt > 0.0)) {
    if (dt < 0.0) /* a clock that went back: restart the interval, keep the averages */
      la->last = now;
    return;
  }
  la->last = now;
  if (!(active > 0.0))
    active = 0.0;
  bool tick = fabs(dt - LOADAVG_FREQ) <= LOADAVG_TICK_SLACK;
  for (int i = 0; i < 3; i++) {
    if (tick) {
      la->avg[i] = kernel_step(la->avg[i], kernel_exp[i], active);
    } else {
      double e = exp(-dt / period[i]);
      la->avg[i] = la->avg[i] * e + active * (1.0 - e);
    }
  }
}
