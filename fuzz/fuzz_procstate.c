/* libFuzzer target: the /proc/TID/stat state and start-time parsers on the raw input, and
 * procstate_count() end to end on real files in a temporary directory: the input's first
 * chunk (up to a NUL byte) is the cgroup's cgroup.threads (or tasks) file, the second the stat file
 * of every task in the fake /proc (TIDs 1-4 with task/TID/stat, 5-8 with only TID/stat). */
#define _GNU_SOURCE
#include "procstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static int cg_fd = -1, proc_fd = -1;

static void write_file(int dirfd, const char *name, const void *data, size_t len) {
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    abort();
  if (len > 0 && write(fd, data, len) != (ssize_t)len)
    abort();
  close(fd);
}

static void cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  if (root[0] && system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(root, sizeof(root), "%s/fuzz-procstate.XXXXXX", base);
  if (!mkdtemp(root))
    abort();
  atexit(cleanup);
  char path[128];
  snprintf(path, sizeof(path), "%s/cg", root);
  mkdir(path, 0755);
  cg_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  snprintf(path, sizeof(path), "%s/proc", root);
  mkdir(path, 0755);
  proc_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0 || proc_fd < 0)
    abort();
  for (int tid = 1; tid <= 8; tid++) {
    snprintf(path, sizeof(path), "%d", tid);
    mkdirat(proc_fd, path, 0755);
    if (tid <= 4) {
      snprintf(path, sizeof(path), "%d/task", tid);
      mkdirat(proc_fd, path, 0755);
      snprintf(path, sizeof(path), "%d/task/%d", tid, tid);
      mkdirat(proc_fd, path, 0755);
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* libFuzzer's buffer has exactly size bytes: the parser must not need a NUL. */
  char st = 0;
  if (procstate_parse_stat((const char *)data, size, &st) == 0 && memchr(data, ')', size) == NULL)
    abort();
  task_counts_t c = {0};
  procstate_classify(st, &c);
  uint64_t ticks = 0;
  if (procstate_parse_starttime((const char *)data, size, &ticks) == 0 &&
      memchr(data, ')', size) == NULL)
    abort();

  const uint8_t *nul = memchr(data, 0, size);
  size_t tl = nul ? (size_t)(nul - data) : size;
  const uint8_t *stat = nul ? nul + 1 : (const uint8_t *)"";
  size_t sl = nul ? size - tl - 1 : 0;
  write_file(cg_fd, "cgroup.threads", data, tl);
  char path[64];
  for (int tid = 1; tid <= 8; tid++) {
    if (tid <= 4)
      snprintf(path, sizeof(path), "%d/task/%d/stat", tid, tid);
    else
      snprintf(path, sizeof(path), "%d/stat", tid);
    write_file(proc_fd, path, stat, sl);
  }
  task_counts_t out = {0};
  procstate_starts_t starts = {0};
  int rc = procstate_count(cg_fd, proc_fd, &out, &starts, NULL);
  if (rc > 0)
    abort();
  /* At most one count per listed TID, and only TIDs 1-8 exist; at most one start time per listed
   * TID (counted or not: I and Z tasks have one too), every one findable after sorting. */
  uint64_t total = out.running + out.sleeping + out.uninterruptible + out.stopped + out.iowait;
  if (rc == 0 && total > tl)
    abort();
  if (starts.n > tl / 2 + 1)
    abort();
  procstate_starts_sort(&starts);
  for (size_t i = 0; i < starts.n; i++) {
    uint64_t t;
    if (starts.v[i].tid < 1 || starts.v[i].tid > 8 ||
        !procstate_starts_find(&starts, starts.v[i].tid, &t))
      abort();
  }
  procstate_starts_free(&starts);
  return 0;
}
