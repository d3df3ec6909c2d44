/* The subtree walker and the cgroup.procs reader (src/cgprocs.c) on directory trees made here:
 * the cgroup.procs files are plain files, so no root and no cgroup are needed. */
#include "cgprocs.h"

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

static char root[] = "/tmp/test_cgprocs.XXXXXX";

static void put(const char *rel, const char *text) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s/cgroup.procs", root, rel);
  FILE *f = fopen(p, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void dir(const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s", root, rel);
  CHECK_INT(mkdir(p, 0755), 0);
}

/* Everything, sorted and unique: the parent's, an empty child's, a grandchild's long file
 * (more than one read buffer) with a repeat of the parent's PID. */
static void test_all(int fd) {
  pid_list_t l = {0};
  cgprocs_opts_t o = {.max_depth = CG_SUBTREE_MAX_DEPTH, .sorted_unique = true};
  CHECK_INT(cgprocs_collect(fd, &o, &l), 0);
  CHECK_U64(l.n, 6002);
  if (l.n == 6002) {
    CHECK_INT(l.v[0], 10);
    CHECK_INT(l.v[1], 30);
    CHECK_INT(l.v[6001], 105999);
  }
  /* Not sorted: the top's own first, in file order, then the subtree's. */
  l.n = 0;
  o.sorted_unique = false;
  CHECK_INT(cgprocs_collect(fd, &o, &l), 0);
  CHECK_U64(l.n, 6003);
  CHECK(l.n > 2 && l.v[0] == 30 && l.v[1] == 10);
  /* Depth 0: the top cgroup only. */
  l.n = 0;
  o.max_depth = 0;
  CHECK_INT(cgprocs_collect(fd, &o, &l), 0);
  CHECK_U64(l.n, 2);
  pid_list_free(&l);
}

/* A few candidates: stop at max; descend only while nothing was found. */
static void test_first(int fd) {
  pid_t v[4];
  pid_list_t l = {.v = v, .cap = 4};
  cgprocs_opts_t o = {.max = 4, .max_depth = 3, .until_found = true};
  CHECK_INT(cgprocs_collect(fd, &o, &l), 0);
  CHECK_U64(l.n, 2); /* the top has two: its children are not read */
  CHECK(l.v == v);   /* never grown past the caller's array */
  int a = openat(fd, "a", O_RDONLY | O_DIRECTORY);
  l.n = 0;
  CHECK_INT(cgprocs_collect(a, &o, &l), 0);
  CHECK_U64(l.n, 4); /* a is empty: a/b's first four */
  CHECK(l.v == v && v[0] == 100000 && v[3] == 100003);
  close(a);
}

typedef struct {
  int visits, deepest;
} count_t;

static int count_visit(int dirfd, int depth, void *ctx) {
  (void)dirfd;
  count_t *c = ctx;
  c->visits++;
  if (depth > c->deepest)
    c->deepest = depth;
  return CG_SUBTREE_DESCEND;
}

/* A chain deeper than the limit: the walk stops there, with every fd closed. */
static void test_depth(void) {
  char rel[PATH_MAX] = "deep";
  dir(rel);
  for (int i = 0; i < CG_SUBTREE_MAX_DEPTH + 5; i++) {
    strcat(rel, "/d");
    dir(rel);
  }
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/deep", root);
  int fd = open(p, O_RDONLY | O_DIRECTORY);
  int fds = count_fds();
  count_t c = {0};
  CHECK_INT(cg_subtree_walk(fd, CG_SUBTREE_MAX_DEPTH, count_visit, &c), 0);
  CHECK_INT(c.deepest, CG_SUBTREE_MAX_DEPTH);
  CHECK_INT(c.visits, CG_SUBTREE_MAX_DEPTH + 1);
  CHECK_INT(count_fds(), fds);
  close(fd);
}

/* ctx: the error every visit below the top answers. */
static int fail_below_top(int dirfd, int depth, void *ctx) {
  (void)dirfd;
  return depth == 0 ? CG_SUBTREE_DESCEND : *(int *)ctx;
}

/* A child that is gone is skipped; any other error of a visit ends the walk. */
static void test_errors(int fd) {
  int gone = -ENOENT, io = -EIO;
  CHECK_INT(cg_subtree_walk(fd, 2, fail_below_top, &gone), 0);
  CHECK_INT(cg_subtree_walk(fd, 2, fail_below_top, &io), -EIO);
  /* A cgroup without cgroup.procs (removed): -ENOENT from the top. */
  int a = openat(fd, "a", O_RDONLY | O_DIRECTORY);
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/a/cgroup.procs", root);
  CHECK_INT(unlink(p), 0);
  pid_list_t l = {0};
  cgprocs_opts_t o = {.max_depth = 0};
  CHECK_INT(cgprocs_collect(a, &o, &l), -ENOENT);
  CHECK_U64(l.n, 0);
  pid_list_free(&l);
  close(a);
}

/* LXC 5 on the unified tree: lxc.payload.NAME holds no process, its child ".lxc" all of them
 * (seen with lxc-start and lxc-attach on a hybrid host). A dot-named child is walked. */
static void test_dot_child(void) {
  char top[] = "/tmp/test_cgprocs_lxc.XXXXXX", p[PATH_MAX];
  CHECK(mkdtemp(top) != NULL);
  snprintf(p, sizeof(p), "%s/.lxc", top);
  CHECK_INT(mkdir(p, 0755), 0);
  snprintf(p, sizeof(p), "%s/cgroup.procs", top);
  FILE *f = fopen(p, "w");
  CHECK(f != NULL);
  if (f)
    fclose(f);
  snprintf(p, sizeof(p), "%s/.lxc/cgroup.procs", top);
  f = fopen(p, "w");
  CHECK(f != NULL);
  if (f) {
    fputs("4242\n4243\n", f);
    fclose(f);
  }
  int fd = open(top, O_RDONLY | O_DIRECTORY);
  pid_list_t l = {0};
  cgprocs_opts_t o = {.max_depth = CG_SUBTREE_MAX_DEPTH, .sorted_unique = true};
  CHECK_INT(cgprocs_collect(fd, &o, &l), 0);
  CHECK_U64(l.n, 2);
  CHECK(l.n == 2 && l.v[0] == 4242 && l.v[1] == 4243);
  pid_list_free(&l);
  close(fd);
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
  CHECK_INT(system(cmd), 0);
}

int main(void) {
  test_dot_child();
  CHECK(mkdtemp(root) != NULL);
  put(".", "30\n10\n");
  dir("a");
  put("a", "");
  dir("a/b");
  char *big = malloc(70000);
  size_t off = 0;
  for (int i = 0; i < 6000; i++)
    off += (size_t)sprintf(big + off, "%d\n", 100000 + i);
  sprintf(big + off, "10\n");
  put("a/b", big);
  free(big);
  int fd = open(root, O_RDONLY | O_DIRECTORY);
  test_all(fd);
  test_first(fd);
  test_errors(fd);
  close(fd);
  test_depth();
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
  CHECK_INT(system(cmd), 0);
  return test_result("test_cgprocs");
}
