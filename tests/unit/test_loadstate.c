/* loadstate.c: the latest counts and averages as the read callback sees them, frozen samples,
 * and a reader on another thread never seeing half of a sample. */
#include "loadstate.h"
#include "testutil.h"

#include <pthread.h>
#include <sched.h>

static void test_sequence(void) {
  loadstate_t ls;
  loadstate_init(&ls);
  task_counts_t c = {0}, got;
  double avg[3] = {-1, -1, -1};
  bool frozen = true;
  CHECK(!loadstate_get(&ls, &got, avg, &frozen)); /* nothing yet: outputs untouched */
  CHECK_NEAR(avg[0], -1, 0);

  task_counts_t seen = {.running = 2, .uninterruptible = 1, .sleeping = 3, .stopped = 1};
  CHECK_INT(loadstate_sample(&ls, &seen, false, 100.0), 0); /* anchors the grid */
  CHECK(loadstate_get(&ls, &got, avg, &frozen));
  CHECK_U64(got.running, 2);
  CHECK_U64(got.uninterruptible, 1);
  CHECK(!frozen);
  CHECK_NEAR(avg[0], 0, 0);
  CHECK_INT(loadstate_sample(&ls, &seen, false, 105.0), 1);
  CHECK(loadstate_get(&ls, &got, avg, NULL));
  double one = (double)loadavg_calc_load(0, 1884, 3 * LOADAVG_FIXED_1) / LOADAVG_FIXED_1;
  CHECK_NEAR(avg[0], one, 0); /* 3 active: running + uninterruptible */

  /* Frozen: 0 running, 0 blocked, the 3 counted as sleeping; the average decays. */
  CHECK_INT(loadstate_sample(&ls, &seen, true, 110.0), 1);
  CHECK(loadstate_get(&ls, &got, avg, &frozen));
  CHECK(frozen);
  CHECK_U64(got.running, 0);
  CHECK_U64(got.uninterruptible, 0);
  CHECK_U64(got.sleeping, 6);
  CHECK_U64(got.stopped, 1);
  CHECK_NEAR(avg[0], (double)loadavg_calc_load((uint64_t)(one * 2048), 1884, 0) / 2048, 0);
  CHECK(avg[0] < one);
  /* A read between two samples (Interval 1) repeats the latest values. */
  double again[3];
  CHECK(loadstate_get(&ls, &c, again, NULL));
  CHECK_NEAR(again[0], avg[0], 0);
  CHECK_U64(c.sleeping, 6);
  loadstate_destroy(&ls);
}

/* A writer stores samples whose counts keep running == uninterruptible == sleeping / 2; a reader
 * on another thread checks every snapshot it gets. Built with -fsanitize=thread it also shows the
 * locking (without the mutex ThreadSanitizer reports the race; with it, nothing). */
static loadstate_t shared;
static int done;     /* __atomic */
static long n_reads; /* __atomic */
static void *writer(void *arg) {
  (void)arg;
  for (uint64_t k = 1; k <= 200000; k++) {
    task_counts_t c = {.running = k, .uninterruptible = k, .sleeping = 2 * k};
    loadstate_sample(&shared, &c, false, 5.0 * (double)k);
    /* Halfway, until the reader has read: on a busy machine the writer could otherwise finish
     * before the reader thread is first scheduled, and no read would overlap the writes. */
    while (k == 100000 && __atomic_load_n(&n_reads, __ATOMIC_ACQUIRE) == 0)
      sched_yield();
  }
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void test_threads(void) {
  loadstate_init(&shared);
  pthread_t w;
  CHECK_INT(pthread_create(&w, NULL, writer, NULL), 0);
  long reads = 0, torn = 0;
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    task_counts_t c;
    double avg[3];
    if (!loadstate_get(&shared, &c, avg, NULL))
      continue;
    reads++;
    __atomic_store_n(&n_reads, reads, __ATOMIC_RELEASE);
    torn += c.running != c.uninterruptible || c.sleeping != 2 * c.running;
  }
  pthread_join(w, NULL);
  printf("%ld reads during 200000 samples, %ld torn\n", reads, torn);
  CHECK(reads > 0);
  CHECK_INT(torn, 0);
  loadstate_destroy(&shared);
}

int main(void) {
  test_sequence();
  test_threads();
  return test_result("test_loadstate");
}
