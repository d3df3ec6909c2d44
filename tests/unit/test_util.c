#include "testutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_parse(void) {
  uint64_t v = 0;
  CHECK_INT(parse_u64("12345\n", &v), 0);
  CHECK_U64(v, 12345);
  CHECK_INT(parse_u64("18446744073709551615", &v), 0);
  CHECK_U64(v, UINT64_MAX);
  CHECK_INT(parse_u64("18446744073709551616", &v), -ERANGE);
  CHECK_INT(parse_u64("-1", &v), -EINVAL);
  CHECK_INT(parse_u64("12a", &v), -EINVAL);
  CHECK_INT(parse_u64("", &v), -EINVAL);
  CHECK_INT(parse_u64("1 2", &v), -EINVAL);

  bool unlimited = false;
  CHECK_INT(parse_limit("max\n", &v, &unlimited), 0);
  CHECK(unlimited);
  CHECK_INT(parse_limit("4096", &v, &unlimited), 0);
  CHECK(!unlimited);
  CHECK_U64(v, 4096);
  CHECK_INT(parse_limit("maximum", &v, &unlimited), -EINVAL);

  const char *end = NULL;
  CHECK_INT(parse_u64_token("  42 rest", &v, &end), 0);
  CHECK_U64(v, 42);
  CHECK_STR(end, " rest");
}

static void test_kv(void) {
  kv_iter_t it;
  const char *k, *v;
  kv_iter_init(&it, "usage_usec 10\nuser_usec 7\n\nbroken\nsystem_usec 3");
  CHECK(kv_iter_next(&it, &k, &v));
  CHECK_STR(k, "usage_usec");
  CHECK_STR(v, "10");
  CHECK(kv_iter_next(&it, &k, &v));
  CHECK_STR(k, "user_usec");
  CHECK(kv_iter_next(&it, &k, &v)); /* the empty and key-only lines are skipped */
  CHECK_STR(k, "system_usec");
  CHECK_STR(v, "3");
  CHECK(!kv_iter_next(&it, &k, &v));
}

static void test_names_and_paths(void) {
  char buf[16];
  sanitize_name(buf, "a/b c\"d\te", sizeof(buf));
  CHECK_STR(buf, "a_b_c_d_e");
  sanitize_name(buf, "0123456789abcdefXYZ", sizeof(buf));
  CHECK_STR(buf, "0123456789abcde");

  char path[32];
  CHECK_INT(path_join(path, sizeof(path), "/sys/fs/cgroup/", "/cpu"), 0);
  CHECK_STR(path, "/sys/fs/cgroup/cpu");
  CHECK_INT(path_join(path, sizeof(path), "/", "x"), 0);
  CHECK_STR(path, "/x");
  CHECK_INT(path_join(path, 8, "/sys/fs/cgroup", "cpu"), -ENAMETOOLONG);
  CHECK(is_hex("0123abcdef", 10));
  CHECK(!is_hex("0123ABCDEF", 10));
  CHECK(!is_hex("01g", 3));
}

static void test_read_file(void) {
  char tmpl[] = "/tmp/test_util_XXXXXX";
  int fd = mkstemp(tmpl);
  CHECK(fd >= 0);
  CHECK(write(fd, "hello world", 11) == 11);
  char buf[64];
  CHECK_INT(read_file_at(AT_FDCWD, tmpl, buf, sizeof(buf)), 11);
  CHECK_STR(buf, "hello world");
  CHECK_INT(read_file_at(AT_FDCWD, tmpl, buf, 11), -EFBIG);
  CHECK_INT(read_file_at(AT_FDCWD, tmpl, buf, 12), 11);
  CHECK_INT(pread_file(fd, buf, sizeof(buf)), 11);
  CHECK_INT(pread_file(fd, buf, sizeof(buf)), 11); /* re-reads from the start */
  CHECK_INT(read_file_at(AT_FDCWD, "/nonexistent/x", buf, sizeof(buf)), -ENOENT);
  close(fd);
  unlink(tmpl);
}

/* A directory without subdirectories has 2 links (cgroupfs, tmpfs, ext4): no listing needed. */
static void test_dir_children(void) {
  char dir[] = "/tmp/test_util.XXXXXX", sub[64];
  CHECK(mkdtemp(dir) != NULL);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(!cg_dir_may_have_children(fd));
  snprintf(sub, sizeof(sub), "%s/child", dir);
  CHECK(mkdir(sub, 0755) == 0);
  CHECK(cg_dir_may_have_children(fd));
  CHECK(rmdir(sub) == 0);
  CHECK(!cg_dir_may_have_children(fd));
  CHECK(cg_dir_may_have_children(-1)); /* cannot tell: list */
  close(fd);
  CHECK(rmdir(dir) == 0);
}

int main(void) {
  test_dir_children();
  test_parse();
  test_kv();
  test_names_and_paths();
  test_read_file();
  return test_result("test_util");
}
