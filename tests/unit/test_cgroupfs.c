#include "cgroupfs.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[] = "/tmp/test_cgroupfs_XXXXXX";

static void mk(const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s", base, rel);
  CHECK(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void touch(const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s", base, rel);
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  CHECK(fd >= 0);
  if (fd >= 0)
    close(fd);
}

static const char *rel_of(const char *abs) {
  return abs[0] ? abs + strlen(base) : "";
}

static void test_layouts(void) {
  char root[PATH_MAX];
  cg_layout_t l;

  /* v1, with cpu,cpuacct co-mounted and the usual cpu / cpuacct symlinks to it */
  mk("v1");
  mk("v1/cpu,cpuacct");
  mk("v1/memory");
  mk("v1/blkio");
  mk("v1/systemd");
  char link[PATH_MAX];
  snprintf(link, sizeof(link), "%s/v1/cpu", base);
  CHECK(symlink("cpu,cpuacct", link) == 0);
  snprintf(link, sizeof(link), "%s/v1/cpuacct", base);
  CHECK(symlink("cpu,cpuacct", link) == 0);
  snprintf(root, sizeof(root), "%s/v1", base);
  CHECK_INT(cg_layout_detect(root, &l), 0);
  CHECK_INT(l.kind, CG_LAYOUT_V1);
  CHECK_STR(rel_of(l.v1[CG_V1_CPU]), "/v1/cpu");
  CHECK_STR(rel_of(l.v1[CG_V1_CPUACCT]), "/v1/cpuacct");
  CHECK_STR(rel_of(l.v1[CG_V1_MEMORY]), "/v1/memory");
  CHECK_STR(l.v1[CG_V1_PIDS], "");
  CHECK_STR(l.v2, "");
  CHECK(l.primary[0] != '\0');

  /* hybrid: v1 controllers plus a v2 tree at unified/ */
  mk("hy");
  mk("hy/cpu");
  mk("hy/pids");
  mk("hy/unified");
  touch("hy/unified/cgroup.controllers");
  snprintf(root, sizeof(root), "%s/hy", base);
  CHECK_INT(cg_layout_detect(root, &l), 0);
  CHECK_INT(l.kind, CG_LAYOUT_HYBRID);
  CHECK_STR(rel_of(l.v2), "/hy/unified");
  CHECK_STR(rel_of(l.v1[CG_V1_PIDS]), "/hy/pids");
  CHECK_STR(rel_of(l.primary), "/hy/cpu");

  /* pure v2 */
  mk("v2");
  touch("v2/cgroup.controllers");
  mk("v2/system.slice");
  snprintf(root, sizeof(root), "%s/v2", base);
  CHECK_INT(cg_layout_detect(root, &l), 0);
  CHECK_INT(l.kind, CG_LAYOUT_V2);
  CHECK_STR(rel_of(l.v2), "/v2");
  CHECK_STR(rel_of(l.primary), "/v2");

  /* nothing that looks like cgroups */
  mk("empty");
  mk("empty/foo");
  snprintf(root, sizeof(root), "%s/empty", base);
  CHECK_INT(cg_layout_detect(root, &l), 0);
  CHECK_INT(l.kind, CG_LAYOUT_NONE);

  snprintf(root, sizeof(root), "%s/missing", base);
  CHECK_INT(cg_layout_detect(root, &l), -ENOENT);
}

typedef struct {
  char seen[32][256];
  int n;
} walk_log_t;

static cg_walk_result_t visit(const char *relpath, uint64_t ino, void *ctx) {
  walk_log_t *log = ctx;
  struct stat st;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/w/%s", base, relpath);
  CHECK(stat(path, &st) == 0 && st.st_ino == ino); /* the listing's inode is the directory's */
  if (log->n < 32)
    snprintf(log->seen[log->n++], sizeof(log->seen[0]), "%s", relpath);
  if (strncmp(relpath, "docker/", 7) == 0)
    return CG_WALK_FOUND;
  if (strcmp(relpath, "skipme") == 0)
    return CG_WALK_SKIP;
  return CG_WALK_DESCEND;
}

static bool walked(const walk_log_t *log, const char *rel) {
  for (int i = 0; i < log->n; i++)
    if (strcmp(log->seen[i], rel) == 0)
      return true;
  return false;
}

static void test_walk(void) {
  mk("w");
  mk("w/docker");
  mk("w/docker/abc");
  mk("w/docker/abc/child");
  mk("w/skipme");
  mk("w/skipme/inner");
  mk("w/a");
  mk("w/a/b");
  mk("w/a/b/c");
  touch("w/a/file");
  char root[PATH_MAX];
  snprintf(root, sizeof(root), "%s/w", base);
  walk_log_t log = {.n = 0};
  int n = cg_walk(root, 10, visit, &log);
  CHECK_INT(n, 6);
  CHECK(walked(&log, "docker"));
  CHECK(walked(&log, "docker/abc"));
  CHECK(!walked(&log, "docker/abc/child")); /* a found container's children are its own */
  CHECK(walked(&log, "skipme"));
  CHECK(!walked(&log, "skipme/inner"));
  CHECK(walked(&log, "a/b/c"));
  CHECK(!walked(&log, "a/file"));

  walk_log_t shallow = {.n = 0};
  CHECK_INT(cg_walk(root, 2, visit, &shallow), 5);
  CHECK(!walked(&shallow, "a/b/c"));

  snprintf(root, sizeof(root), "%s/nope", base);
  CHECK_INT(cg_walk(root, 10, visit, &log), -ENOENT);
}

static void test_fixture_trees(void) {
  static const struct {
    const char *tree;
    cg_layout_kind_t kind;
  } trees[] = {
      {"v1-docker-cgroupfs", CG_LAYOUT_V1},
      {"v1-docker-systemd", CG_LAYOUT_V1},
      {"v2-kubepods", CG_LAYOUT_V2},
      {"hybrid", CG_LAYOUT_HYBRID},
      {"podman", CG_LAYOUT_V2},
      {"lxc", CG_LAYOUT_V2},
      {"guest-v1-debian12", CG_LAYOUT_V1},
      {"guest-v2-debian12", CG_LAYOUT_V2},
  };
  for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
    char root[PATH_MAX];
    snprintf(root, sizeof(root), "%s/%s/sys/fs/cgroup", fixture_dir(), trees[i].tree);
    cg_layout_t l;
    int err = cg_layout_detect(root, &l);
    CHECK_INT(err, 0);
    if (err == 0 && l.kind != trees[i].kind)
      fprintf(stderr, "tree %s: layout %s\n", trees[i].tree, cg_layout_name(l.kind));
    CHECK_INT(l.kind, trees[i].kind);
  }
  /* systemd's pure v1 mounts: cpu and cpuacct share "cpu,cpuacct", with a symlink for each. */
  char root[PATH_MAX], want[PATH_MAX + 16];
  snprintf(root, sizeof(root), "%s/guest-v1-debian12/sys/fs/cgroup", fixture_dir());
  cg_layout_t l;
  CHECK_INT(cg_layout_detect(root, &l), 0);
  snprintf(want, sizeof(want), "%s/cpu", root);
  CHECK_STR(l.v1[CG_V1_CPU], want);
  snprintf(want, sizeof(want), "%s/cpuacct", root);
  CHECK_STR(l.v1[CG_V1_CPUACCT], want);
  snprintf(want, sizeof(want), "%s/pids", root);
  CHECK_STR(l.v1[CG_V1_PIDS], want);
  CHECK_STR(l.v2, "");
}

int main(void) {
  CHECK(mkdtemp(base) != NULL);
  test_layouts();
  test_walk();
  test_fixture_trees();
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  CHECK(system(cmd) == 0);
  return test_result("test_cgroupfs");
}
