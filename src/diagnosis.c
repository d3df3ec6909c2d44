/* The differential diagnosis rule table: see diagnosis.h. */
#include "diagnosis.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"not_throttled", "cap_throttled", "share_throttled",
                                    "physical_cpu"};

const char *diag_name(int code) {
  return code >= 0 && code <= DIAG_PHYSICAL_CPU ? names[code] : "unknown";
}

#define WHY(...)                                                                                   \
  do {                                                                                             \
    if (why && why_len)                                                                            \
      snprintf(why, why_len, __VA_ARGS__);                                                         \
  } while (0)

/* Step 2's inputs: whether the container waits for a CPU. Either signal alone decides when the
 * other is missing; false in *known when neither is there. */
static bool waits_for_cpu(const diag_input_t *in, bool *known, double *nivcsw_rate,
                          double *delay_frac) {
  double t = in->interval_s;
  *nivcsw_rate = in->has_nivcsw ? (double)in->nivcsw / t : 0;
  *delay_frac = in->has_cpu_delay ? in->cpu_delay_s / t : 0;
  *known = in->has_nivcsw || in->has_cpu_delay;
  bool preempted = !in->has_nivcsw || *nivcsw_rate >= DIAG_NIVCSW_MIN_RATE;
  bool waiting = !in->has_cpu_delay || *delay_frac >= DIAG_DELAY_MIN_FRAC;
  return *known && preempted && waiting;
}

int diagnose(const diag_input_t *in, char *why, size_t why_len) {
  if (why && why_len)
    why[0] = '\0';
  if (!(in->interval_s > 0))
    return -EINVAL;
  double t = in->interval_s;

  /* 1. throttled_time increasing: the CFS quota (cap) limits the container. Without the
   * counters only a container without a quota can be judged (it cannot be cap throttled). */
  if (!in->has_throttling && in->has_quota) {
    WHY("no CFS throttling counters for a container with a CPU quota");
    return DIAG_UNKNOWN;
  }
  if (in->has_throttling && in->throttled_periods >= 1 &&
      in->throttled_s >= DIAG_THROTTLED_MIN_FRAC * t) {
    WHY("throttled %.0f ms/s in %llu of %llu periods", 1e3 * in->throttled_s / t,
        (unsigned long long)in->throttled_periods, (unsigned long long)in->periods);
    return DIAG_CAP_THROTTLED;
  }

  /* 2. non-voluntary context switches and CPU delay increasing: it waits for a CPU. */
  bool known;
  double nivcsw_rate, delay_frac;
  if (!waits_for_cpu(in, &known, &nivcsw_rate, &delay_frac)) {
    if (!known)
      WHY("no involuntary context switches and no CPU delay (taskstats not read)");
    else if (in->has_cpu_delay && in->has_nivcsw)
      WHY("%.0f involuntary switches/s, CPU delay %.0f ms/s", nivcsw_rate, 1e3 * delay_frac);
    else if (in->has_nivcsw)
      WHY("%.0f involuntary switches/s", nivcsw_rate);
    else
      WHY("CPU delay %.0f ms/s", 1e3 * delay_frac);
    return known ? DIAG_NOT_THROTTLED : DIAG_UNKNOWN;
  }

  /* 3. idle CPU where it may run: not throttled by CPU (dig further: locks, I/O, affinity). */
  if (!in->has_host || !(in->host_total_s > 0)) {
    WHY("CPU delay %.0f ms/s, %.0f involuntary switches/s, host CPU unknown", 1e3 * delay_frac,
        nivcsw_rate);
    return DIAG_UNKNOWN;
  }
  double idle_frac = in->host_idle_s / in->host_total_s;
  if (idle_frac >= DIAG_IDLE_MIN_FRAC) {
    WHY("CPU delay %.0f ms/s, %.0f involuntary switches/s, but its CPUs are %.0f %% idle",
        1e3 * delay_frac, nivcsw_rate, 100 * idle_frac);
    return DIAG_NOT_THROTTLED;
  }

  /* 4. no idle CPU: are the other tenants idle? Then the container alone saturates its CPUs.
   * As rates, each over its own window: the host's busy share minus the container's. */
  if (!in->has_cpu_usage) {
    WHY("CPU delay %.0f ms/s, no idle CPU (%.0f %% idle), its own CPU usage unknown",
        1e3 * delay_frac, 100 * idle_frac);
    return DIAG_UNKNOWN;
  }
  double host_t = in->host_interval_s > 0 ? in->host_interval_s : t;
  double cpus = in->host_total_s / host_t;
  double others_frac = 1.0 - idle_frac - in->cpu_usage_s / t / cpus;
  if (others_frac < 0)
    others_frac = 0;
  if (others_frac < DIAG_OTHERS_MIN_FRAC) {
    WHY("CPU delay %.0f ms/s, no idle CPU (%.0f %% idle), others use %.0f %%: its CPUs are too "
        "few",
        1e3 * delay_frac, 100 * idle_frac, 100 * others_frac);
    return DIAG_PHYSICAL_CPU;
  }
  WHY("CPU delay %.0f ms/s, no idle CPU (%.0f %% idle), others use %.0f %% of its CPUs",
      1e3 * delay_frac, 100 * idle_frac, 100 * others_frac);
  return DIAG_SHARE_THROTTLED;
}

void diag_tracker_init(diag_tracker_t *t) {
  memset(t, 0, sizeof(*t));
  t->state = -1;
  t->pending = -1;
}

/* b - a when b >= a; false when the counter went backwards. */
static bool delta(uint64_t a, uint64_t b, uint64_t *d) {
  if (b < a)
    return false;
  *d = b - a;
  return true;
}

int diag_track(diag_tracker_t *t, const diag_sample_t *now, int *changed_from, char *why,
               size_t why_len) {
  if (changed_from)
    *changed_from = -2;
  if (why && why_len)
    why[0] = '\0';
  const diag_sample_t *p = &t->prev;
  bool have = t->have_prev && now->time_s > p->time_s &&
              !(now->has_host && p->has_host && now->host_cpus_sig != p->host_cpus_sig);
  diag_sample_t prev = t->prev;
  t->prev = *now;
  t->have_prev = true;
  if (!have)
    return -EAGAIN;

  diag_input_t in;
  memset(&in, 0, sizeof(in));
  in.interval_s = now->time_s - prev.time_s;
  uint64_t d1, d2, d3;
  if (now->has_throttling && prev.has_throttling &&
      delta(prev.throttled_us, now->throttled_us, &d1) &&
      delta(prev.throttled_periods, now->throttled_periods, &d2) &&
      delta(prev.periods, now->periods, &d3)) {
    in.has_throttling = true;
    in.throttled_s = (double)d1 / 1e6;
    in.throttled_periods = d2;
    in.periods = d3;
  }
  in.has_quota = now->has_quota;
  if (now->has_nivcsw && prev.has_nivcsw && delta(prev.nivcsw, now->nivcsw, &d1)) {
    in.has_nivcsw = true;
    in.nivcsw = d1;
  }
  if (now->has_cpu_delay && prev.has_cpu_delay &&
      delta(prev.cpu_delay_ns, now->cpu_delay_ns, &d1)) {
    in.has_cpu_delay = true;
    in.cpu_delay_s = (double)d1 / 1e9;
  }
  if (now->has_cpu_usage && prev.has_cpu_usage &&
      delta(prev.cpu_usage_us, now->cpu_usage_us, &d1)) {
    in.has_cpu_usage = true;
    in.cpu_usage_s = (double)d1 / 1e6;
  }
  long hz = now->ticks_per_s > 0 ? now->ticks_per_s : 100;
  double h0 = prev.host_time_s > 0 ? prev.host_time_s : prev.time_s;
  double h1 = now->host_time_s > 0 ? now->host_time_s : now->time_s;
  double skew = fabs(h0 - prev.time_s) + fabs(h1 - now->time_s);
  if (now->has_host && prev.has_host && delta(prev.host_idle_ticks, now->host_idle_ticks, &d1) &&
      delta(prev.host_total_ticks, now->host_total_ticks, &d2) && d2 > 0 && h1 > h0 &&
      skew <= DIAG_WINDOW_MAX_SKEW * in.interval_s) {
    in.has_host = true;
    in.host_idle_s = (double)d1 / (double)hz;
    in.host_total_s = (double)d2 / (double)hz;
    in.host_interval_s = h1 - h0;
  }
  int code = diagnose(&in, why, why_len);
  if (code < 0) {
    t->pending = -1; /* an interval without a diagnosis breaks a pending change's run */
    t->pending_n = 0;
    return code;
  }
  if (code == t->state) {
    t->pending_n = 0;
    return code;
  }
  if (code == t->pending) {
    t->pending_n++;
  } else {
    t->pending = code;
    t->pending_n = 1;
  }
  if (t->state < 0 || t->pending_n >= DIAG_CONFIRM_INTERVALS) {
    if (changed_from)
      *changed_from = t->state;
    t->state = code;
    t->pending_n = 0;
  }
  return code;
}
