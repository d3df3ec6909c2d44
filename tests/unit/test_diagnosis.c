/* The differential diagnosis rule table (diagnose) row by row at and around its thresholds, and
 * the tracker that turns cumulative counters into interval deltas and state changes. */
#include "diagnosis.h"
#include "testutil.h"

#include <errno.h>

/* A 10 s interval on one CPU by default: busy, no throttling, no waiting. */
static diag_input_t base(void) {
  diag_input_t in = {.interval_s = 10,
                     .has_throttling = true,
                     .periods = 100,
                     .has_nivcsw = true,
                     .nivcsw = 5,
                     .has_cpu_delay = true,
                     .cpu_delay_s = 0.01,
                     .has_cpu_usage = true,
                     .cpu_usage_s = 9.5,
                     .has_host = true,
                     .host_idle_s = 0.2,
                     .host_total_s = 10};
  return in;
}

static void test_rows(void) {
  char why[256];
  diag_input_t in = base();
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_NOT_THROTTLED);

  /* 1. throttled time increasing -> cap throttled (whatever the rest says) */
  in = base();
  in.throttled_s = 8;
  in.throttled_periods = 80;
  in.has_quota = true;
  in.nivcsw = 5000;
  in.cpu_delay_s = 5;
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_CAP_THROTTLED);
  CHECK(strstr(why, "throttled 800 ms/s") != NULL);
  /* at the threshold (1 % of the interval) and just below */
  in = base();
  in.throttled_periods = 1;
  in.throttled_s = 0.1;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_CAP_THROTTLED);
  in.throttled_s = 0.099;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);
  /* time without a throttled period is not throttling */
  in.throttled_s = 1;
  in.throttled_periods = 0;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);

  /* 2. not preempted -> not throttled, even with no idle CPU */
  in = base();
  in.host_idle_s = 0;
  in.nivcsw = 99; /* 9.9/s < 10/s */
  in.cpu_delay_s = 5;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);
  /* preempted but hardly waiting (delay accounting on): not throttled */
  in.nivcsw = 1000;
  in.cpu_delay_s = 0.49; /* 49 ms/s < 50 ms/s */
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);

  /* 3. preempted and waiting, but its CPUs have idle time -> not throttled (dig further) */
  in = base();
  in.nivcsw = 1000;
  in.cpu_delay_s = 5;
  in.host_idle_s = 1.0; /* 10 % */
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_NOT_THROTTLED);
  CHECK(strstr(why, "idle") != NULL);

  /* 4. no idle CPU: others busy -> share throttled; others idle -> physical CPU */
  in.host_idle_s = 0.99;
  in.cpu_usage_s = 5; /* others: 10 - 0.99 - 5 = 4.01 CPU-s = 40 % */
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_SHARE_THROTTLED);
  in.cpu_usage_s = 6.6; /* others 2.41 = 24.1 % */
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_PHYSICAL_CPU);
  in.cpu_usage_s = 6.4; /* others 2.61 = 26.1 % */
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_SHARE_THROTTLED);
  /* usage unknown: the others cannot be told apart: unknown, not a guess */
  in.has_cpu_usage = false;
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_UNKNOWN);
  CHECK(strstr(why, "usage unknown") != NULL);

  in.interval_s = 0;
  CHECK_INT(diagnose(&in, NULL, 0), -EINVAL);
  CHECK_STR(diag_name(DIAG_NOT_THROTTLED), "not_throttled");
  CHECK_STR(diag_name(DIAG_CAP_THROTTLED), "cap_throttled");
  CHECK_STR(diag_name(DIAG_SHARE_THROTTLED), "share_throttled");
  CHECK_STR(diag_name(DIAG_PHYSICAL_CPU), "physical_cpu");
  CHECK_STR(diag_name(7), "unknown");
}

/* Rows with inputs missing: a definite code only where the missing input is not needed. */
static void test_missing_inputs(void) {
  char why[256];
  diag_input_t in;
  /* delay accounting off: involuntary switches alone decide step 2 */
  in = base();
  in.has_cpu_delay = false;
  in.nivcsw = 1000;
  in.host_idle_s = 0;
  in.cpu_usage_s = 10;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_PHYSICAL_CPU);
  /* no taskstats at all (CollectDelay false): only the cap can be seen, nothing else said */
  in.has_nivcsw = false;
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_UNKNOWN);
  CHECK(strstr(why, "no involuntary") != NULL);
  in.throttled_s = 5; /* ... but a cap that throttles is seen */
  in.throttled_periods = 50;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_CAP_THROTTLED);
  /* CPU delay without context switches decides step 2 alone */
  in = base();
  in.has_nivcsw = false;
  in.cpu_delay_s = 5;
  in.host_idle_s = 0;
  in.cpu_usage_s = 5;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_SHARE_THROTTLED);
  in.cpu_delay_s = 0.1;
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_NOT_THROTTLED);
  CHECK(strstr(why, "CPU delay 10 ms/s") != NULL);
  /* no host data: unknown (it was "share throttled") */
  in = base();
  in.nivcsw = 1000;
  in.cpu_delay_s = 5;
  in.has_host = false;
  CHECK_INT(diagnose(&in, why, sizeof(why)), DIAG_UNKNOWN);
  CHECK(strstr(why, "host CPU unknown") != NULL);
  /* ... but not needed when it does not wait for a CPU */
  in.nivcsw = 5;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);
  /* no throttling counters: fine without a quota, unknown with one */
  in = base();
  in.has_throttling = false;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_NOT_THROTTLED);
  in.has_quota = true;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_UNKNOWN);
  /* host and container windows of different lengths are compared as rates: 2 CPUs over 10.5 s
   * with 0.5 % idle; the container used 1.6 CPU over its 10 s: others 19.5 % -> physical */
  in = base();
  in.nivcsw = 1000;
  in.cpu_delay_s = 5;
  in.host_interval_s = 10.5;
  in.host_total_s = 21;
  in.host_idle_s = 0.105;
  in.cpu_usage_s = 16;
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_PHYSICAL_CPU);
  in.cpu_usage_s = 14; /* 70 % of 2 CPUs: others 29.5 % */
  CHECK_INT(diagnose(&in, NULL, 0), DIAG_SHARE_THROTTLED);
  CHECK_STR(diag_name(DIAG_UNKNOWN), "unknown");
}

static void test_tracker(void) {
  diag_tracker_t t;
  diag_tracker_init(&t);
  diag_sample_t s = {.time_s = 100,
                     .has_throttling = true,
                     .has_nivcsw = true,
                     .has_cpu_delay = true,
                     .has_cpu_usage = true,
                     .has_host = true,
                     .host_cpus_sig = 1,
                     .ticks_per_s = 100};
  int from;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), -EAGAIN);
  /* 1 s later: throttled 0.8 s -> cap throttled, changed from -1 (first) */
  s.time_s = 101;
  s.throttled_us = 800000;
  s.throttled_periods = 8;
  s.periods = 10;
  s.cpu_usage_us = 200000;
  s.host_total_ticks = 200;
  s.host_idle_ticks = 180;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_CAP_THROTTLED);
  CHECK_INT(from, -1);
  /* still throttled: no change */
  s.time_s = 102;
  s.throttled_us += 800000;
  s.throttled_periods += 8;
  s.periods += 10;
  s.host_total_ticks += 200;
  s.host_idle_ticks += 180;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_CAP_THROTTLED);
  CHECK_INT(from, -2);
  /* quota removed: one busy loop on an idle host -> not throttled; confirmed at the second
   * interval in a row */
  for (int i = 0; i < 2; i++) {
    s.time_s += 1;
    s.periods += 10;
    s.cpu_usage_us += 1000000;
    s.nivcsw += 3;
    s.host_total_ticks += 200;
    s.host_idle_ticks += 100;
    CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_NOT_THROTTLED);
    CHECK_INT(from, i == 0 ? -2 : DIAG_CAP_THROTTLED);
  }
  /* one interval of something else does not change the confirmed state (no flapping) */
  s.time_s += 1;
  s.throttled_us += 800000;
  s.throttled_periods += 8;
  s.periods += 10;
  s.host_total_ticks += 200;
  s.host_idle_ticks += 180;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_CAP_THROTTLED);
  CHECK_INT(from, -2);
  s.time_s += 1;
  s.periods += 10;
  s.host_total_ticks += 200;
  s.host_idle_ticks += 180;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_NOT_THROTTLED);
  CHECK_INT(from, -2);
  /* two tenants on its one CPU: share throttled, confirmed at the second interval */
  for (int i = 0; i < 2; i++) {
    s.time_s += 1;
    s.periods += 10;
    s.cpu_usage_us += 500000;
    s.nivcsw += 300;
    s.cpu_delay_ns += 500000000;
    s.host_total_ticks += 100;
    CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_SHARE_THROTTLED);
    CHECK_INT(from, i == 0 ? -2 : DIAG_NOT_THROTTLED);
  }
  /* the CPU set changes: that interval gives no diagnosis (idle time of other CPUs) */
  s.time_s += 1;
  s.host_cpus_sig = 2;
  s.cpu_usage_us += 500000;
  s.nivcsw += 300;
  s.cpu_delay_ns += 500000000;
  s.host_total_ticks += 100;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), -EAGAIN);
  /* counters going backwards (cgroup re-created): those fields are absent once, so nothing can
   * be said and the confirmed state stays */
  s.time_s += 1;
  s.nivcsw = 0;
  s.cpu_delay_ns = 0;
  s.host_total_ticks += 100;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_UNKNOWN);
  CHECK_INT(from, -2);
  CHECK_INT(t.state, DIAG_SHARE_THROTTLED);
  /* a clock that does not advance: no diagnosis */
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), -EAGAIN);
}

/* Missing inputs through the tracker: no definite code, no state change, no confirmation across
 * an unknown interval; host ticks read at another time than the container's are not used. */
static void test_tracker_unknown(void) {
  diag_tracker_t t;
  diag_tracker_init(&t);
  diag_sample_t s = {.time_s = 100,
                     .has_throttling = true,
                     .has_cpu_usage = true,
                     .has_host = true,
                     .host_cpus_sig = 1,
                     .ticks_per_s = 100};
  int from;
  char why[256];
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), -EAGAIN); /* first interval */
  CHECK_INT(t.state, -1);
  /* CollectDelay false: no context switches, no delay: unknown every interval, no first state */
  for (int i = 0; i < 3; i++) {
    s.time_s += 10;
    s.periods += 100;
    s.cpu_usage_us += 5000000;
    s.host_total_ticks += 1000;
    CHECK_INT(diag_track(&t, &s, &from, why, sizeof(why)), DIAG_UNKNOWN);
    CHECK_INT(from, -2);
    CHECK_INT(t.state, -1);
  }
  CHECK(strstr(why, "no involuntary") != NULL);
  /* delays arrive: a first state at once */
  s.has_nivcsw = s.has_cpu_delay = true;
  s.time_s += 10;
  s.host_total_ticks += 1000;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_UNKNOWN); /* no delta yet */
  s.time_s += 10;
  s.nivcsw += 50;
  s.host_total_ticks += 1000;
  s.host_idle_ticks += 500;
  CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_NOT_THROTTLED);
  CHECK_INT(from, -1);
  /* waiting, no idle CPU, others busy: share throttled pending; host ticks read 2 s after the
   * counters (20 % of the interval) make the two intervals that end or start there unknown, and
   * that breaks the run; two more confirm. */
  int expect[] = {DIAG_SHARE_THROTTLED, DIAG_UNKNOWN, DIAG_UNKNOWN, DIAG_SHARE_THROTTLED,
                  DIAG_SHARE_THROTTLED};
  int froms[] = {-2, -2, -2, -2, DIAG_NOT_THROTTLED};
  for (int i = 0; i < 5; i++) {
    s.time_s += 10;
    s.host_time_s = i == 1 ? s.time_s + 2 : 0;
    s.nivcsw += 3000;
    s.cpu_delay_ns += 5000000000ull;
    s.cpu_usage_us += 5000000;
    s.host_total_ticks += 1000;
    CHECK_INT(diag_track(&t, &s, &from, NULL, 0), expect[i]);
    CHECK_INT(from, froms[i]);
  }
  CHECK_INT(t.state, DIAG_SHARE_THROTTLED);
  /* host ticks read 0.4 s after the counters at both ends (8 %): used */
  for (int i = 0; i < 2; i++) {
    s.time_s += 10;
    s.host_time_s = s.time_s + 0.4;
    s.nivcsw += 3000;
    s.cpu_delay_ns += 5000000000ull;
    s.cpu_usage_us += 5000000;
    s.host_total_ticks += 1000;
    CHECK_INT(diag_track(&t, &s, &from, NULL, 0), DIAG_SHARE_THROTTLED);
  }
}

int main(void) {
  test_rows();
  test_missing_inputs();
  test_tracker();
  test_tracker_unknown();
  return test_result("test_diagnosis");
}
