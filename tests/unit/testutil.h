/* Minimal assertion helpers for the unit tests. Each test program returns 0 when every check
 * passed, 1 otherwise, and 77 (automake's SKIP) only through TEST_SKIP with a reason. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_checks, test_failures;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    test_checks++;                                                                                 \
    if (!(cond)) {                                                                                 \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define CHECK_U64(actual, expected)                                                                \
  do {                                                                                             \
    uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);                                   \
    test_checks++;                                                                                 \
    if (a_ != e_) {                                                                                \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: %s = %" PRIu64 ", expected %" PRIu64 "\n", __FILE__, __LINE__,       \
              #actual, a_, e_);                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_INT(actual, expected)                                                                \
  do {                                                                                             \
    long long a_ = (long long)(actual), e_ = (long long)(expected);                                \
    test_checks++;                                                                                 \
    if (a_ != e_) {                                                                                \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, #actual, a_, e_);   \
    }                                                                                              \
  } while (0)

#define CHECK_STR(actual, expected)                                                                \
  do {                                                                                             \
    const char *a_ = (actual), *e_ = (expected);                                                   \
    test_checks++;                                                                                 \
    if (a_ == NULL || strcmp(a_, e_) != 0) {                                                       \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: %s = \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual,        \
              a_ ? a_ : "(null)", e_);                                                             \
    }                                                                                              \
  } while (0)

#define CHECK_NEAR(actual, expected, tolerance)                                                    \
  do {                                                                                             \
    double a_ = (double)(actual), e_ = (double)(expected);                                         \
    test_checks++;                                                                                 \
    if (!(fabs(a_ - e_) <= (tolerance))) {                                                         \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: %s = %.6f, expected %.6f +- %g\n", __FILE__, __LINE__, #actual, a_,  \
              e_, (double)(tolerance));                                                            \
    }                                                                                              \
  } while (0)

#define TEST_SKIP(reason)                                                                          \
  do {                                                                                             \
    printf("SKIP: %s\n", reason);                                                                  \
    exit(77);                                                                                      \
  } while (0)

/* A part of a test that cannot run here (no root, no kernel feature): tests/run-all counts and
 * names every such line of a test's log in its summary. */
#define TEST_SKIP_PART(...)                                                                        \
  do {                                                                                             \
    printf("SKIP-PART: ");                                                                         \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
  } while (0)

static inline int test_result(const char *name) {
  printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
  return test_failures ? 1 : 0;
}

/* Directory holding the fixture trees (set by the Makefile, or the current directory). */
static inline const char *fixture_dir(void) {
  const char *d = getenv("FIXTURE_DIR");
  return d ? d : "tests/fixtures";
}

/* The real-host samples (tests/fixtures/real, see its README): part of the repository, so a
 * test that cannot read one fails instead of skipping. */
static inline const char *real_fixture_dir(void) {
  static char d[512]; /* small: the callers' path buffers have room for a sample name */
  if (d[0] == '\0' && (size_t)snprintf(d, sizeof(d), "%s/real", fixture_dir()) >= sizeof(d)) {
    fprintf(stderr, "FIXTURE_DIR too long: %s\n", fixture_dir());
    exit(1);
  }
  return d;
}

/* This process's open fds (from /proc/self/fd, the listing's own included), -1 if unlisted. */
static inline int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (d == NULL)
    return -1;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += de->d_name[0] != '.';
  closedir(d);
  return n;
}

/* How many of this process's fds are open on path (absolute and resolved, as readlink shows
 * it); *highest (may be NULL) gets the highest of them, or -1. */
static inline int fds_on(const char *path, int *highest) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0, top = -1;
  for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
    char link[300], target[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
    ssize_t len = de->d_name[0] == '.' ? -1 : readlink(link, target, sizeof(target) - 1);
    if (len < 0)
      continue;
    target[len] = '\0';
    if (strcmp(target, path) == 0) {
      n++;
      if (atoi(de->d_name) > top)
        top = atoi(de->d_name);
    }
  }
  if (d != NULL)
    closedir(d);
  if (highest != NULL)
    *highest = top;
  return d != NULL ? n : -1;
}

/* The highest fd open on path, or -1. */
static inline int highest_fd_on(const char *path) {
  int top;
  fds_on(path, &top);
  return top;
}

#endif
