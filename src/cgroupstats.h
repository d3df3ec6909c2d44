/* Per-cgroup task state counts from the kernel's CGROUPSTATS_CMD_GET (taskstats family).
 * No collectd calls.
 *
 * The kernel answers only for cgroup v1 directories (a v2 directory gives -EINVAL), counts only
 * the cgroup's own tasks (not its descendants'), and classifies by the exact task state: tasks in
 * killable waits (TASK_KILLABLE, /proc 'D') and in freezable sleeps (since Linux 6.1 nanosleep,
 * futex waits...) fall into none of its buckets (at most into iowait). See tasksample.h. */
#ifndef CONTAINER_CGROUPSTATS_H
#define CONTAINER_CGROUPSTATS_H

#include <stddef.h>

#include "taskcount.h"

/* Fills *out from the payload of a CGROUPSTATS_TYPE_CGROUP_STATS attribute (struct cgroupstats),
 * copying whole 8-byte fields by the payload's length: a shorter payload leaves the missing
 * fields 0, a longer one's extra bytes are ignored. Returns the number of fields read (0..5), or
 * -EINVAL for a NULL payload with a non-zero length. */
int cgroupstats_parse(const void *payload, size_t len, task_counts_t *out);

/* Asks the kernel for the counts of the cgroup whose directory is open as cgroup_dirfd.
 * genl_init() must have succeeded. Returns 0, or -errno: -EINVAL (not a v1 cgroup directory),
 * -ENOENT (the cgroup was removed), -EPERM, -ETIMEDOUT, -ESHUTDOWN (genl not initialised),
 * -ENODATA (acknowledged without a reply: the kernel does that for a closed fd), -EBADMSG. */
int cgroupstats_query(int cgroup_dirfd, task_counts_t *out);

#endif
