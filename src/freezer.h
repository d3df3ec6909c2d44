/* Whether a container's cgroup is frozen (docker pause, podman pause, systemctl freeze), from
 * the v1 freezer hierarchy's freezer.state or the v2 tree's cgroup.events and cgroup.freeze.
 * No collectd calls.
 *
 * Why it matters: the kernel's load average leaves frozen tasks out (task_contributes_to_load()
 * excludes TASK_FROZEN, PF_FROZEN before 6.1), but /proc/TID/stat does not say "frozen":
 * - v1 freezer (tasks in the refrigerator, TASK_FROZEN): shown as D before 6.1, as R from 6.1
 *   (f5d39b020809, "freezer,sched: Rewrite core freezer logic") until f718faf3940e ("freezer,
 *   sched: Report frozen tasks as D instead of R", 6.13, in 6.1.y/6.6.y/6.12.y stable since
 *   12/2024), D again after. Measured on 6.18: three frozen busy loops show D D D.
 * - v2 freezer (cgroup.freeze): tasks are trapped in signal delivery, sleeping interruptibly:
 *   shown as S, not counted by the load. Measured on 6.18: S S S.
 * So a container whose cgroup is frozen has 0 running and 0 blocked tasks, whatever /proc says.
 *
 * Partly frozen: v1 FREEZING (a freeze under way, or stuck on a task in an uninterruptible wait
 * that cannot reach the refrigerator) counts as frozen: the tasks already frozen, which /proc
 * cannot tell apart, are usually all but the stuck ones, and a freeze under way lasts a moment.
 * v2 "freezing" (cgroup.freeze 1, cgroup.events frozen 0) is left to /proc: tasks already
 * trapped show S and the others their real state, which is exactly what the load counts. */
#ifndef CONTAINER_FREEZER_H
#define CONTAINER_FREEZER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  FREEZER_THAWED = 0,
  FREEZER_FREEZING = 1, /* v1 FREEZING; v2 cgroup.freeze 1 with cgroup.events frozen 0 */
  FREEZER_FROZEN = 2,
} freezer_state_t;

/* v1 freezer.state text: "THAWED", "FREEZING", "FROZEN" (one line). Returns the state or
 * -EINVAL. */
int freezer_v1_parse(const char *text, size_t len);

/* The v1 state of the cgroup directory dirfd in the freezer hierarchy (its freezer.state is the
 * effective state: FROZEN also when an ancestor was frozen). Returns the state, -ENOENT when it
 * has no freezer.state (the root cgroup, or not the freezer hierarchy), or -errno. */
int freezer_v1_read_at(int dirfd);

/* The "frozen" key of a v2 cgroup.events text ("populated 1\nfrozen 0\n"). Returns 0 or 1,
 * -ENOENT when there is no such key (kernels before 5.2 have no v2 freezer), -EINVAL when the
 * key's value is not 0 or 1. */
int freezer_v2_parse_events(const char *text, size_t len);

/* The v2 state of the cgroup directory dirfd: FROZEN when cgroup.events says frozen 1 (its own
 * cgroup.freeze or an ancestor's), FREEZING when its cgroup.freeze is 1 but it is not frozen yet,
 * else THAWED. Returns the state, -ENOENT when the kernel has no v2 freezer, or -errno. */
int freezer_v2_read_at(int dirfd);

/* Whether the task counts of a cgroup in state st (or a negative error) are to be replaced by
 * 0 running and 0 blocked: v1 FROZEN and FREEZING; v2 FROZEN. */
bool freezer_hides_tasks(int st, bool v2);

/* Whether the container's tasks are frozen, from its v1 freezer directory (v1_dirfd, -1: none,
 * e.g. pure v2 or no freezer hierarchy) and its v2 directory (v2_dirfd, -1: none, e.g. pure v1);
 * a hybrid host passes both (docker pause uses the v1 freezer there, systemd freeze the unified
 * tree). *err (optional) gets the first error other than -ENOENT (a missing file: no freezer
 * there), 0 if none; an unreadable state counts as not frozen. */
bool freezer_is_frozen(int v1_dirfd, int v2_dirfd, int *err);

#endif
