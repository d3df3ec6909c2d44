/* The cgroup layout under CgroupRoot (v1, v2 or hybrid) and the walk that discovery uses. */
#ifndef CONTAINER_CGROUPFS_H
#define CONTAINER_CGROUPFS_H

#include <stdint.h>

#include <limits.h>
#include <stdbool.h>

typedef enum { CG_LAYOUT_NONE, CG_LAYOUT_V1, CG_LAYOUT_V2, CG_LAYOUT_HYBRID } cg_layout_kind_t;

/* v1 controllers the plugin reads. */
enum { CG_V1_CPU, CG_V1_CPUACCT, CG_V1_MEMORY, CG_V1_BLKIO, CG_V1_PIDS, CG_V1_COUNT };

typedef struct {
  cg_layout_kind_t kind;
  /* Absolute directory of each v1 hierarchy's root, "" when that controller is not mounted. */
  char v1[CG_V1_COUNT][PATH_MAX];
  /* The cgroup v2 tree: CgroupRoot on pure v2, CgroupRoot/unified on hybrid, "" on pure v1. */
  char v2[PATH_MAX];
  /* The hierarchy discovery walks: v2 on pure v2, else the first mounted v1 controller. */
  char primary[PATH_MAX];
} cg_layout_t;

const char *cg_layout_name(cg_layout_kind_t kind);
const char *cg_v1_controller_name(int controller);

/* Reads the layout from what is under root (not from mountinfo, so fixture trees behave like the
 * real one). Returns 0, or -errno when root cannot be read (-ENOENT: no such directory). */
int cg_layout_detect(const char *root, cg_layout_t *out);

/* What the walk's visitor answers for a directory. */
typedef enum {
  CG_WALK_DESCEND, /* not a container: look at its children */
  CG_WALK_FOUND,   /* a container: its children belong to it, do not descend */
  CG_WALK_SKIP,    /* neither: do not descend */
} cg_walk_result_t;

/* Calls visit(relpath, ino, ctx) for every directory below root (relpath without a leading '/';
 * ino: its inode number, from the listing, which tells a cgroup re-created at the same path),
 * depth first, up to max_depth levels. Directories that vanish during the walk are skipped.
 * Returns the number of directories visited, or -errno if root itself cannot be opened. */
int cg_walk(const char *root, int max_depth,
            cg_walk_result_t (*visit)(const char *relpath, uint64_t ino, void *ctx), void *ctx);

#endif
