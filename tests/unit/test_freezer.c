/* freezer.c on fixture trees (tests/fixtures/freezer: files copied from a 6.18 host while a
 * cgroup was frozen through the v1 freezer and through cgroup.freeze, and hand-written ones) and
 * on texts. */
#include "freezer.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>

static int open_fixture(const char *name) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/freezer/%s", fixture_dir(), name);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    TEST_SKIP("fixture trees not found (set FIXTURE_DIR)");
  return fd;
}

static int v1(const char *name) {
  int fd = open_fixture(name), st = freezer_v1_read_at(fd);
  close(fd);
  return st;
}

static int v2(const char *name) {
  int fd = open_fixture(name), st = freezer_v2_read_at(fd);
  close(fd);
  return st;
}

static void test_texts(void) {
  CHECK_INT(freezer_v1_parse("THAWED\n", 7), FREEZER_THAWED);
  CHECK_INT(freezer_v1_parse("FREEZING", 8), FREEZER_FREEZING);
  CHECK_INT(freezer_v1_parse("FROZEN \n", 8), FREEZER_FROZEN);
  CHECK_INT(freezer_v1_parse("FROZENX\n", 8), -EINVAL);
  CHECK_INT(freezer_v1_parse("", 0), -EINVAL);
  CHECK_INT(freezer_v1_parse("FROZEN\n", 3), -EINVAL); /* "FRO" */
  CHECK_INT(freezer_v2_parse_events("populated 1\nfrozen 1\n", 21), 1);
  CHECK_INT(freezer_v2_parse_events("frozen 0", 8), 0);
  CHECK_INT(freezer_v2_parse_events("populated 1\n", 12), -ENOENT);
  CHECK_INT(freezer_v2_parse_events("frozen 10\n", 10), -EINVAL);
  CHECK_INT(freezer_v2_parse_events("frozen \n", 8), -ENOENT); /* no value: not the key */
  CHECK_INT(freezer_v2_parse_events("frozenx 1\nfrozen 1", 18), 1);
}

static void test_trees(void) {
  int fds = count_fds();
  CHECK_INT(v1("v1-thawed"), FREEZER_THAWED);
  CHECK_INT(v1("v1-frozen"), FREEZER_FROZEN);
  CHECK_INT(v1("v1-child-of-frozen"), FREEZER_FROZEN); /* effective state */
  CHECK_INT(v1("v1-freezing"), FREEZER_FREEZING);
  CHECK_INT(v1("v1-bad"), -EINVAL);
  CHECK_INT(v1("v1-none"), -ENOENT);
  CHECK_INT(v2("v2-thawed"), FREEZER_THAWED);
  CHECK_INT(v2("v2-frozen"), FREEZER_FROZEN);
  CHECK_INT(v2("v2-child-of-frozen"), FREEZER_FROZEN); /* its own cgroup.freeze is 0 */
  CHECK_INT(v2("v2-freezing"), FREEZER_FREEZING);
  CHECK_INT(v2("v2-old-kernel"), -ENOENT); /* 4.15: no frozen key */
  CHECK_INT(v2("v2-bad"), -EINVAL);
  CHECK_INT(v2("v1-frozen"), -ENOENT); /* no cgroup.events */
  CHECK_INT(count_fds(), fds);
  CHECK_INT(freezer_v1_read_at(-1), -EBADF);
}

static void test_hides(void) {
  CHECK(freezer_hides_tasks(FREEZER_FROZEN, false));
  CHECK(freezer_hides_tasks(FREEZER_FREEZING, false)); /* v1: frozen tasks show D (or R) */
  CHECK(!freezer_hides_tasks(FREEZER_THAWED, false));
  CHECK(freezer_hides_tasks(FREEZER_FROZEN, true));
  CHECK(!freezer_hides_tasks(FREEZER_FREEZING, true)); /* v2: trapped tasks show S */
  CHECK(!freezer_hides_tasks(-ENOENT, true));
  CHECK(!freezer_hides_tasks(-EINVAL, false));
}

/* Both trees of a hybrid host: frozen when either freezer says so. */
static void test_both(void) {
  int v1f = open_fixture("v1-frozen"), v1t = open_fixture("v1-thawed"),
      v1b = open_fixture("v1-bad");
  int v1n = open_fixture("v1-none"), v2f = open_fixture("v2-frozen"),
      v2t = open_fixture("v2-thawed");
  int v2z = open_fixture("v2-freezing"), err = 1;
  CHECK(freezer_is_frozen(v1f, v2t, &err));
  CHECK_INT(err, 0);
  CHECK(freezer_is_frozen(v1t, v2f, &err));
  CHECK(freezer_is_frozen(-1, v2f, NULL));
  CHECK(freezer_is_frozen(v1f, -1, NULL));
  CHECK(!freezer_is_frozen(v1t, v2z, &err)); /* v2 freezing: left to /proc */
  CHECK(!freezer_is_frozen(v1t, v2t, &err));
  CHECK(!freezer_is_frozen(-1, -1, &err));
  CHECK_INT(err, 0);
  CHECK(!freezer_is_frozen(v1n, v2t, &err)); /* no freezer.state: not an error */
  CHECK_INT(err, 0);
  CHECK(!freezer_is_frozen(v1b, v2t, &err));
  CHECK_INT(err, -EINVAL);
  CHECK(freezer_is_frozen(v1b, v2f, &err)); /* an unreadable v1 state, a frozen v2 tree */
  CHECK_INT(err, -EINVAL);
  int fds[] = {v1f, v1t, v1b, v1n, v2f, v2t, v2z};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    close(fds[i]);
}

int main(void) {
  test_texts();
  test_trees();
  test_hides();
  test_both();
  return test_result("test_freezer");
}
