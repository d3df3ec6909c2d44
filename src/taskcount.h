/* Task (thread) state counts of one cgroup or cgroup subtree, shared by cgroupstats.c,
 * procstate.c and tasksample.c. No collectd calls. */
#ifndef CONTAINER_TASKCOUNT_H
#define CONTAINER_TASKCOUNT_H

#include <stdint.h>

typedef struct {
  uint64_t running;         /* TASK_RUNNING: on a CPU or waiting for one ('R') */
  uint64_t sleeping;        /* interruptible sleep ('S') */
  uint64_t uninterruptible; /* blocked ('D'); see tasksample.h for what each method counts */
  uint64_t stopped;         /* stopped or traced ('T', 't') */
  uint64_t iowait;          /* cgroupstats only: tasks with in_iowait set (0 from procstate) */
} task_counts_t;

static inline void task_counts_add(task_counts_t *sum, const task_counts_t *c) {
  sum->running += c->running;
  sum->sleeping += c->sleeping;
  sum->uninterruptible += c->uninterruptible;
  sum->stopped += c->stopped;
  sum->iowait += c->iowait;
}

/* What the kernel's load average counts: runnable plus uninterruptible (not TASK_NOLOAD). */
static inline uint64_t task_counts_load(const task_counts_t *c) {
  return c->running + c->uninterruptible;
}

#endif
