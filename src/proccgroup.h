/* Does a process belong to a cgroup? Read from PROC_ROOT/PID/cgroup. Pure parsing is separate so
 * it can be tested on fixtures. */
#ifndef CONTAINER_PROCCGROUP_H
#define CONTAINER_PROCCGROUP_H

#include <stdbool.h>
#include <sys/types.h>

/* True if any hierarchy line of text (the content of /proc/PID/cgroup) has a path equal to or
 * below cgroup_relpath. Lines are "ID:CONTROLLERS:PATH"; only the first two colons split, since
 * paths may contain colons. Leading and trailing slashes of cgroup_relpath are ignored, so "/"
 * or "" match every process. */
bool proc_cgroup_text_has(const char *text, const char *cgroup_relpath);

/* Reads PROC_ROOT/PID/cgroup and applies proc_cgroup_text_has(). False when the process is
 * gone or the file cannot be read. */
bool proc_pid_in_cgroup(const char *proc_root, pid_t pid, const char *cgroup_relpath);

#endif
