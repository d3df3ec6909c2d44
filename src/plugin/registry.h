/* The containers the plugin reads: discovery, naming, and their registration with a read
 * callback (shard.c). Only discovery, the exit watcher's events and shutdown look at it. */
#ifndef CONTAINER_PLUGIN_REGISTRY_H
#define CONTAINER_PLUGIN_REGISTRY_H

#include "plugin/container.h"

/* The discovery read callback. */
int registry_discover(user_data_t *ud);
/* Registers the host itself as a container (CollectHost). */
void registry_add_host(void);
/* The exit watcher's event for watch wd: the container's final read when its cgroup has no
 * process left (once per cgroup). */
void registry_exit_event(int wd);
/* Forgets every container (shutdown: their callbacks are gone). */
void registry_clear(void);
void registry_fresh_free(void);

#endif
