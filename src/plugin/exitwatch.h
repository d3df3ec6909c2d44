/* The exit watcher: cgroup v2 (and the unified tree of a hybrid host) says "populated 0" in
 * cgroup.events when a cgroup's last process exits, and inotify reports it. The watcher's thread
 * hands each change to its handler (registry_exit_event: the container's final read, a shard
 * pass of one, before the runtime removes the cgroup, so its final values are dispatched and the
 * "gone" notification carries them). It holds no fd of any cgroup. */
#ifndef CONTAINER_PLUGIN_EXITWATCH_H
#define CONTAINER_PLUGIN_EXITWATCH_H

#include "plugin/container.h"

/* Starts the watcher thread for the unified tree at v2_path (open as v2_root_fd); handler gets
 * the watch descriptor of each change. */
void exitwatch_start(const char *v2_path, int v2_root_fd, void (*handler)(int wd));
/* No handler call from now on: collectd is shutting down (its writers may be gone). Waits for a
 * call under way. */
void exitwatch_quiesce(void);
void exitwatch_stop(void);
/* Watches c's cgroup.events (again, when its cgroup was replaced in place); forgets the watch. */
void exitwatch_add(container_t *c);
void exitwatch_remove(container_t *c);

#endif
