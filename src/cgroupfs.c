#include "cgroupfs.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const v1_names[CG_V1_COUNT] = {"cpu", "cpuacct", "memory", "blkio", "pids"};

const char *cg_v1_controller_name(int controller) {
  return (controller >= 0 && controller < CG_V1_COUNT) ? v1_names[controller] : "?";
}

const char *cg_layout_name(cg_layout_kind_t kind) {
  switch (kind) {
  case CG_LAYOUT_V1:
    return "cgroup v1";
  case CG_LAYOUT_V2:
    return "cgroup v2";
  case CG_LAYOUT_HYBRID:
    return "hybrid (cgroup v1 controllers + v2 tree)";
  default:
    return "none";
  }
}

static bool file_exists_at(int dirfd, const char *name) {
  return faccessat(dirfd, name, F_OK, 0) == 0;
}

/* "cpu,cpuacct" serves both controllers: mark every one named in the directory name. */
static void note_v1_hierarchy(cg_layout_t *out, const char *root, const char *dirname) {
  char names[NAME_MAX + 1];
  snprintf(names, sizeof(names), "%s", dirname);
  char *save = NULL;
  for (char *tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    for (int c = 0; c < CG_V1_COUNT; c++) {
      /* A plain "cpu" directory beats the "cpu,cpuacct" name it may be a symlink to. */
      if (strcmp(tok, v1_names[c]) == 0 && (out->v1[c][0] == '\0' || strcmp(dirname, tok) == 0))
        path_join(out->v1[c], sizeof(out->v1[c]), root, dirname);
    }
  }
}

int cg_layout_detect(const char *root, cg_layout_t *out) {
  memset(out, 0, sizeof(*out));
  int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return -errno;

  if (file_exists_at(rootfd, "cgroup.controllers")) {
    out->kind = CG_LAYOUT_V2;
    snprintf(out->v2, sizeof(out->v2), "%s", root);
    snprintf(out->primary, sizeof(out->primary), "%s", root);
    close(rootfd);
    return 0;
  }

  DIR *dir = fdopendir(rootfd);
  if (!dir) {
    int err = -errno;
    close(rootfd);
    return err;
  }
  bool any_v1 = false;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, "unified") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(dir), de->d_name, &st, 0) != 0 || !S_ISDIR(st.st_mode))
      continue;
    note_v1_hierarchy(out, root, de->d_name);
  }
  for (int c = 0; c < CG_V1_COUNT; c++)
    if (out->v1[c][0] && !any_v1) {
      any_v1 = true;
      snprintf(out->primary, sizeof(out->primary), "%s", out->v1[c]);
    }

  char unified[PATH_MAX];
  bool has_unified = path_join(unified, sizeof(unified), "unified", "cgroup.controllers") == 0 &&
                     file_exists_at(dirfd(dir), unified);
  if (has_unified)
    path_join(out->v2, sizeof(out->v2), root, "unified");
  closedir(dir);

  if (any_v1)
    out->kind = has_unified ? CG_LAYOUT_HYBRID : CG_LAYOUT_V1;
  else if (has_unified) {
    /* Only a unified tree below root: treat it as pure v2. */
    out->kind = CG_LAYOUT_V2;
    snprintf(out->primary, sizeof(out->primary), "%s", out->v2);
  } else
    out->kind = CG_LAYOUT_NONE;
  return 0;
}

typedef struct {
  cg_walk_result_t (*visit)(const char *relpath, uint64_t ino, void *ctx);
  void *ctx;
  int max_depth;
  int visited;
  char rel[PATH_MAX];
} walk_state_t;

static void walk_dir(walk_state_t *ws, int dirfd_in, size_t rel_len, int depth) {
  DIR *dir = fdopendir(dirfd_in);
  if (!dir) {
    close(dirfd_in);
    return;
  }
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
      continue;
    size_t name_len = strlen(de->d_name);
    if (rel_len + 1 + name_len + 1 > sizeof(ws->rel))
      continue;
    size_t new_len = rel_len;
    if (rel_len)
      ws->rel[new_len++] = '/';
    memcpy(ws->rel + new_len, de->d_name, name_len + 1);
    new_len += name_len;

    struct stat st;
    if (de->d_type == DT_UNKNOWN &&
        (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))) {
      ws->rel[rel_len] = '\0';
      continue; /* vanished, or not a directory */
    }
    /* A directory is opened only to descend: containers (most of the tree) are not. */
    ws->visited++;
    cg_walk_result_t r = ws->visit(ws->rel, (uint64_t)de->d_ino, ws->ctx);
    if (r == CG_WALK_DESCEND && depth + 1 < ws->max_depth) {
      int child = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (child >= 0)
        walk_dir(ws, child, new_len, depth + 1);
    }
    ws->rel[rel_len] = '\0';
  }
  closedir(dir);
}

int cg_walk(const char *root, int max_depth,
            cg_walk_result_t (*visit)(const char *relpath, uint64_t ino, void *ctx), void *ctx) {
  int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  walk_state_t ws = {.visit = visit, .ctx = ctx, .max_depth = max_depth};
  ws.rel[0] = '\0';
  walk_dir(&ws, fd, 0, 0);
  return ws.visited;
}
