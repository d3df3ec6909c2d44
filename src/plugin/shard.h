/* Read callbacks: one reads a group (shard) of up to ContainersPerCallback containers in one
 * pass that goes one way:
 *   1 sample   each member's cgroup files, task states and processes (sample_read);
 *   2 batch    one taskstats query for the delays of every member, one round trip to the
 *              namespace worker for their network counters;
 *   3 finish   each member's diagnosis (sample_finish), then its value lists (emit.c), handed
 *              to collectd in bursts.
 * The shard's lock is held for the whole pass: discovery adds and removes members under it, and
 * the exit watcher's final read of a container is a pass of one under it, so a container is
 * never freed or read twice at once. Lock order: the registry's lock, then a shard's. */
#ifndef CONTAINER_PLUGIN_SHARD_H
#define CONTAINER_PLUGIN_SHARD_H

#include "plugin/container.h"

#include <stdbool.h>

/* Puts c into a shard with room (registering a new read callback if needed). Under the
 * registry's lock. Returns 0 or -1. */
int shard_add(container_t *c);
/* Takes c out of its shard; waits for a pass under way. Under the registry's lock. */
void shard_remove(container_t *c);
/* Closes c's directories, so its next read opens them afresh (a cgroup re-created in place).
 * Waits for a pass under way. Under the registry's lock. */
void shard_reset_reads(container_t *c);
/* The final read of c (the exit watcher): a pass of one under its shard's lock. Under the
 * registry's lock. */
void shard_read_one(container_t *c);
/* Releases every shard (shutdown, after collectd's callbacks and the exit watcher are gone). */
void shard_release_all(void);

/* Network and delays, switched off for good by a missing privilege or kernel feature. */
void shard_features_set(bool network, bool delay);
bool shard_network_on(void);
bool shard_delay_on(void);

#endif
