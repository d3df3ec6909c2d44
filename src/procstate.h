/* Task state counts from /proc: the fallback when cgroupstats cannot answer (cgroup v2
 * directories, no TASKSTATS family, EPERM) and the source that matches the kernel's load
 * average (see tasksample.h). No collectd calls. */
#ifndef CONTAINER_PROCSTATE_H
#define CONTAINER_PROCSTATE_H

#include <stddef.h>

#include "cgfiles.h"
#include "taskcount.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Start times (field 22 of stat, clock ticks since boot) of the threads a count read, for the
 * delay accounting, which keys a process by PID and start time: the thread group leader's
 * (TID == TGID) is its process's. Sorted by TID after procstate_starts_sort(). */
typedef struct {
  pid_t tid;
  uint64_t start_ticks;
} procstate_start_t;
typedef struct {
  procstate_start_t *v;
  size_t n, cap;
} procstate_starts_t;

void procstate_starts_sort(procstate_starts_t *s);
/* The start time of tid, or false when the count did not read it. */
bool procstate_starts_find(const procstate_starts_t *s, pid_t tid, uint64_t *start_ticks);
void procstate_starts_free(procstate_starts_t *s);

/* At most this many threads' stat fds are kept per subtree: a container of 20,000 threads must
 * not take the fds (and 4.6 KiB of kernel memory each) of every container; the rest are opened
 * for each count. */
#define PROCSTATE_KEEP_MAX 256

/* What a caller counting the same cgroup subtree every interval keeps between counts.
 * The /proc stat fds of its threads: a pread() of a kept file costs a third of an
 * open+read+close under /proc. A kept fd pins only the thread's struct pid,
 * not the thread nor its PID number: once the thread has exited, its file answers ESRCH, and a
 * reused TID gets a fresh open. Each fd is taken from the cgfiles budget (MaxOpenFiles). */
typedef struct {
  pid_t tid;
  int fd;
  bool seen; /* listed by the count under way */
} procstate_kept_t;
typedef struct {
  procstate_kept_t *v; /* v[0..sorted): from earlier counts, sorted by TID; then new ones */
  size_t n, cap, sorted;
  /* Optional, the cache of the caller's directory fd: keeps the top cgroup's cgroup.threads
   * (v2) open. A v1 directory has none (only that is remembered), and its tasks file is opened
   * at every count: v1's lists are pidlists the kernel caches for a second after a read, so a
   * kept v1 fd re-read within that second returns the old list. */
  cg_files_t *list_files;
} procstate_keep_t;

/* Around one sample of a subtree: begin marks every kept fd unseen; end closes those of threads
 * the sample did not list (exited or moved) and sorts the new ones in. */
void procstate_keep_begin(procstate_keep_t *k);
void procstate_keep_end(procstate_keep_t *k);
/* Whether the thread tid that the last count listed is still the same live thread, through its
 * kept fd: 1 yes, 0 it exited (its TID may belong to another task by now), -1 no kept fd. A
 * cheap check against PID reuse for a caller that opened something by that TID. */
int procstate_keep_alive(const procstate_keep_t *k, pid_t tid);
/* Closes every kept fd (returning them to the budget) and frees k's memory. */
void procstate_keep_close(procstate_keep_t *k);

/* Field 22 (starttime) of a stat line; len bytes, no NUL needed. Returns 0 or -EINVAL. */
int procstate_parse_starttime(const char *line, size_t len, uint64_t *ticks);

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
 * skipped. With starts (may be NULL), also appends each thread's start time (appending stops
 * quietly on ENOMEM). With kept (may be NULL; between procstate_keep_begin() and _end()), reads
 * each thread's stat through a kept fd, keeping new ones while the budget allows. Returns 0, or
 * -errno (-ENOENT when the cgroup itself is gone). */
int procstate_count(int cgroup_dirfd, int proc_dirfd, task_counts_t *out,
                    procstate_starts_t *starts, procstate_keep_t *kept);

/* Adds the states of the calling process's own threads (proc_dirfd/self/task/TID/stat).
 * Returns 0 or -errno. */
int procstate_count_self(int proc_dirfd, task_counts_t *out);

#endif
