/* One container's task counts and load averages, shared by the two callbacks of the glue: the
 * 5 s load callback writes them (loadstate_sample: the kernel's cadence, see loadavg.h), the read
 * callback at any Interval reports the latest (loadstate_get). They may run on different collectd
 * read threads at once: a mutex keeps a report from mixing two samples. No collectd calls.
 *
 * Frozen (freezer.h): a sample of a frozen cgroup has 0 running and 0 blocked tasks; the tasks
 * /proc showed as R or D are counted as sleeping (they wait, out of the load), so the total is
 * still the number of tasks. */
#ifndef CONTAINER_LOADSTATE_H
#define CONTAINER_LOADSTATE_H

#include "loadavg.h"
#include "taskcount.h"

#include <pthread.h>
#include <stdbool.h>

typedef struct {
  pthread_mutex_t lock;
  loadavg_t la;         /* zero: the first sample anchors the 5 s grid */
  task_counts_t counts; /* the latest sample's, frozen applied */
  bool have;            /* a sample was taken */
  bool frozen;          /* the latest sample found the cgroup frozen */
} loadstate_t;

void loadstate_init(loadstate_t *ls);
void loadstate_destroy(loadstate_t *ls);

/* The counts a sample saw at time now (monotonic seconds) and whether the cgroup was frozen
 * then. Stores the counts and folds running + uninterruptible into the averages. Returns the
 * number of 5 s ticks applied (loadavg_sample). */
unsigned loadstate_sample(loadstate_t *ls, const task_counts_t *counts, bool frozen, double now);

/* The latest counts and the three averages (avenrun / 2048). Returns false, and leaves the
 * outputs alone, before the first sample. frozen (may be NULL) gets the latest sample's. */
bool loadstate_get(loadstate_t *ls, task_counts_t *counts, double avg[3], bool *frozen);

#endif
