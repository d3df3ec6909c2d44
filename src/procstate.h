/* Task state counts from /proc: the fallback when cgroupstats cannot answer (cgroup v2
 * directories, no TASKSTATS family, EPERM) and the source that matches the kernel's load
 * average (see tasksample.h). No collectd calls. */
#ifndef CONTAINER_PROCSTATE_H
#define CONTAINER_PROCSTATE_H

#include <stddef.h>

#include "taskcount.h"

/* Extracts the state character from the text of /proc/TID/stat: the first token after the LAST
 * ')' (comm may hold spaces and parentheses). len bytes of line are read; no NUL needed.
 * Returns 0 or -EINVAL (no ')' or nothing after it). */
int procstate_parse_stat(const char *line, size_t len, char *state);

/* Adds one task in state st to *c: R running, D uninterruptible (this includes TASK_KILLABLE
 * waits), S sleeping, T/t stopped. I (TASK_IDLE kernel threads: TASK_NOLOAD), Z, X and unknown
 * letters are not counted. Returns 1 if counted, 0 if not. */
int procstate_classify(char st, task_counts_t *c);

/* Adds the states of the threads listed in the cgroup's own cgroup.threads (v2) or tasks (v1)
 * file, reading proc_dirfd/TID/stat for each. TIDs that exit meanwhile (ENOENT, ESRCH) are
 * skipped. Returns 0, or -errno (-ENOENT when the cgroup itself is gone). */
int procstate_count(int cgroup_dirfd, int proc_dirfd, task_counts_t *out);

/* Adds the states of the calling process's own threads (proc_dirfd/self/task/TID/stat).
 * Returns 0 or -errno. */
int procstate_count_self(int proc_dirfd, task_counts_t *out);

#endif
