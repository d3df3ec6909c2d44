/* A container's sample as value lists: collectd's standard types, or one list per metric family
 * in compact mode (contrib/container-types.db). Lists wait in a batch and go to collectd in
 * bursts; this is the plugin's only plugin_dispatch_values call. */
#ifndef CONTAINER_PLUGIN_EMIT_H
#define CONTAINER_PLUGIN_EMIT_H

#include "plugin/config.h"
#include "plugin/container.h"

#include <stdbool.h>
#include <stddef.h>

#define EMIT_MAX_VALUES 11 /* the widest list: container_delay */

typedef struct {
  const container_t *c;
  cdtime_t time;
  char type[DATA_MAX_NAME_LEN];
  char type_instance[DATA_MAX_NAME_LEN];
  value_t values[EMIT_MAX_VALUES];
  size_t n_values;
  bool meta;
} emit_list_t;

/* collectd wakes a sleeping writer thread for each list it queues: lists queued back to back
 * find the writers awake. cap 0: every list is dispatched at once. */
typedef struct {
  emit_list_t *lists;
  size_t n, cap;
} emit_batch_t;

/* What emit_sample needs besides the sample: how the lists look. */
typedef struct {
  bool compact;
  bool all_states;           /* ps_state sleeping, stopped, iowait */
  meta_mode_t meta;          /* see config.h */
  select_list_t *interfaces; /* which interfaces */
} emit_opts_t;

/* Appends c's lists for sample s, with time t, to b (flushing it when full). */
void emit_sample(emit_batch_t *b, container_t *c, const container_sample_t *s, cdtime_t t,
                 const emit_opts_t *o);
/* Hands the batch's lists to collectd. Their containers must still be alive. */
void emit_flush(emit_batch_t *b);

/* Compact mode: whether collectd's TypesDB has the types (ERROR with the fix when not). */
bool emit_compact_types_loaded(const char *types_db);

#endif
