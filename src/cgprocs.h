/* The processes of a cgroup subtree, and the one walker over a cgroup's descendants that every
 * subtree reader uses (the task states, the delays' process list, the namespace read's first
 * processes). No collectd calls. */
#ifndef CONTAINER_CGPROCS_H
#define CONTAINER_CGPROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* cgroup.max.depth is unlimited by default; this bounds fds and stack on a runaway tree. */
#define CG_SUBTREE_MAX_DEPTH 32

/* What a visit answers (>= 0), or a -errno that ends the walk. */
enum { CG_SUBTREE_DESCEND = 0, CG_SUBTREE_SKIP = 1, CG_SUBTREE_STOP = 2 };

/* Visits the cgroup open as dirfd (depth 0), then each directory below it, depth first, up to
 * max_depth levels down. A child directory that vanishes meanwhile is skipped, and so is the
 * -ENOENT/-ENODEV/-ESTALE of a visit below the top (its cgroup was removed). Every fd the walk
 * opens is closed before it returns. Returns 0, CG_SUBTREE_STOP when a visit stopped it, or a
 * -errno (of a visit, or of listing a directory). */
int cg_subtree_walk(int dirfd, int max_depth, int (*visit)(int dirfd, int depth, void *ctx),
                    void *ctx);

/* A -errno that means the cgroup is gone. */
bool cg_gone(int err);

typedef struct {
  pid_t *v;
  size_t n, cap;
} pid_list_t;

typedef struct {
  size_t max;         /* stop at this many PIDs (0: all) */
  int max_depth;      /* levels below the cgroup */
  bool until_found;   /* descend only while nothing was found (a few candidates, cheaply) */
  bool sorted_unique; /* sort the list and drop repeats */
} cgprocs_opts_t;

/* Appends the PIDs in cgroup.procs of the cgroup open as dirfd and of the cgroups below it to
 * *out (grown with realloc). Returns 0 or -errno: the top cgroup's read error (-ENOENT: gone),
 * or -ENOMEM; errors below the top only leave those cgroups out. */
int cgprocs_collect(int dirfd, const cgprocs_opts_t *o, pid_list_t *out);
void pid_list_free(pid_list_t *l);

#endif
