#include "testutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  /* UTF-8 stays; bytes that are not UTF-8 (an interface name may hold any) become '_'. */
  sanitize_name(buf, "hs\xc3\xbc\xe2\x82\xac.'\\", sizeof(buf));
  CHECK_STR(buf, "hs\xc3\xbc\xe2\x82\xac.'\\");
  sanitize_name(buf, "hs\xff\xfe\x80", sizeof(buf));
  CHECK_STR(buf, "hs___");
  sanitize_name(buf, "a\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80z",
                sizeof(buf)); /* overlong, surrogate, > U+10FFFF */
  CHECK_STR(buf, "a_________z");
  sanitize_name(buf, "ab\xe2\x82", sizeof(buf)); /* a cut sequence */
  CHECK_STR(buf, "ab__");
  sanitize_name(buf, "0123456789abc\xf0\x9d\x84\x9e", sizeof(buf)); /* no room: left out whole */
  CHECK_STR(buf, "0123456789abc");

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

/* Read syscalls of this process so far (pread included), from /proc/self/io; -1 without it. */
static long read_syscalls(void) {
  char text[512];
  int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  const char *p = strstr(text, "syscr: ");
  return p ? strtol(p + 7, NULL, 10) : -1;
}

/* A file that fits is read with one read call: a second one, to see 0, would make a kernel
 * seq_file print the whole file again. Larger files still come whole. */
static void test_read_syscalls(void) {
  char buf[8192], big[6000];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  long before = read_syscalls();
  if (before < 0) {
    printf("# SKIP read-call count: no /proc/self/io (CONFIG_TASK_IO_ACCOUNTING off)\n");
  } else {
    ssize_t len = 0;
    for (int i = 0; i < 10; i++)
      len = pread_file(fd, buf, sizeof(buf));
    CHECK(len > 20 && buf[len - 1] == '\n');
    CHECK(read_file_at(AT_FDCWD, "/proc/self/stat", buf, sizeof(buf)) > 20);
    long after = read_syscalls();
    CHECK_INT(after - before, 11 + 1); /* + 1: the first read of /proc/self/io */
  }
  close(fd);

  /* A regular file above the short-read limit, in pieces of any size: still whole. */
  char tmpl[] = "/tmp/test_util_big_XXXXXX";
  int out = mkstemp(tmpl);
  CHECK(out >= 0);
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (char)('a' + i % 26);
  CHECK(write(out, big, sizeof(big)) == (ssize_t)sizeof(big));
  CHECK_INT(pread_file(out, buf, sizeof(buf)), (long)sizeof(big));
  CHECK(memcmp(buf, big, sizeof(big)) == 0);
  CHECK_INT(read_file_at(AT_FDCWD, tmpl, buf, sizeof(big)), -EFBIG);
  CHECK_INT(read_file_at(AT_FDCWD, tmpl, buf, sizeof(big) + 1), (long)sizeof(big));
  close(out);
  unlink(tmpl);
  CHECK(read_reached_end(100, 4095));
  CHECK(!read_reached_end(4095, 4095));
  CHECK(!read_reached_end(3000, 4095)); /* a seq_file's full buffer of records: read on */
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
  test_read_syscalls();
  return test_result("test_util");
}
