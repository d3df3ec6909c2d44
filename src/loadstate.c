/* Shared load state: see loadstate.h. */
#include "loadstate.h"

#include <string.h>

void loadstate_init(loadstate_t *ls) {
  memset(ls, 0, sizeof(*ls));
  pthread_mutex_init(&ls->lock, NULL);
}

void loadstate_destroy(loadstate_t *ls) {
  pthread_mutex_destroy(&ls->lock);
}

unsigned loadstate_sample(loadstate_t *ls, const task_counts_t *counts, bool frozen, double now) {
  task_counts_t c = *counts;
  if (frozen) {
    c.sleeping += c.running + c.uninterruptible;
    c.running = c.uninterruptible = 0;
  }
  uint64_t active = task_counts_load(&c);
  pthread_mutex_lock(&ls->lock);
  unsigned ticks = loadavg_sample(
      &ls->la, active < LOADAVG_MAX_ACTIVE ? (unsigned long)active : LOADAVG_MAX_ACTIVE, now);
  ls->counts = c;
  ls->frozen = frozen;
  ls->have = true;
  pthread_mutex_unlock(&ls->lock);
  return ticks;
}

bool loadstate_get(loadstate_t *ls, task_counts_t *counts, double avg[3], bool *frozen) {
  pthread_mutex_lock(&ls->lock);
  bool have = ls->have;
  if (have) {
    *counts = ls->counts;
    for (int i = 0; i < 3; i++)
      avg[i] = loadavg_get(&ls->la, i);
    if (frozen)
      *frozen = ls->frozen;
  }
  pthread_mutex_unlock(&ls->lock);
  return have;
}
