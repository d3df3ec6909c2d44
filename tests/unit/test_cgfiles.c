/* The cache of kept-open cgroup files (cgfiles.c): content, budget, negative entries, cleanup,
 * a removed cgroup (root only), and the cgroup readers giving the same values with and without
 * it. */
#include "cgfiles.h"
#include "cgroup_v1.h"
#include "cgroup_v2.h"
#include "testutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define BUDGET 1000
#define CGROUP2_MAGIC 0x63677270

static char tmpdir[256];
static int tmpfd = -1;
static bool high_fds; /* RLIMIT_NOFILE lets fds go above CG_FILES_MIN_FD */

static void put(int dfd, const char *name, const char *s) {
  int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t len = strlen(s);
  if (fd < 0 || write(fd, s, len) != (ssize_t)len) {
    perror(name);
    exit(1);
  }
  close(fd);
}

/* Rewrites the file in place: same inode, so a kept fd sees the new content. */
static void rewrite(int dfd, const char *name, const char *s) {
  int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
  size_t len = strlen(s);
  if (fd < 0 || pwrite(fd, s, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) != 0) {
    perror(name);
    exit(1);
  }
  close(fd);
}

/* Replaces the file with a new inode: a kept fd still reads the old one. */
static void replace(int dfd, const char *name, const char *s) {
  put(dfd, ".new", s);
  if (renameat(dfd, ".new", dfd, name) != 0) {
    perror("renameat");
    exit(1);
  }
}

static void tmp_path(char *dst, size_t n, const char *name) {
  snprintf(dst, n, "%s/%s", tmpdir, name);
}

static void test_content_and_reuse(void) {
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  cg_files_t *f = cg_files_create();
  CHECK(f != NULL);
  char buf[64], path[512];
  put(tmpfd, "a", "hello\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 6);
  CHECK_STR(buf, "hello\n");
  CHECK_INT(cg_files_kept(), base + 1);

  tmp_path(path, sizeof(path), "a");
  int kept_fd = highest_fd_on(path);
  CHECK(kept_fd >= 0);
  if (high_fds)
    CHECK(kept_fd >= CG_FILES_MIN_FD);
  else
    printf("note: RLIMIT_NOFILE <= %d, kept fd %d not checked against it\n", CG_FILES_MIN_FD,
           kept_fd);

  rewrite(tmpfd, "a", "a longer line\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 14);
  CHECK_STR(buf, "a longer line\n");
  rewrite(tmpfd, "a", "bye\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 4);
  CHECK_STR(buf, "bye\n");
  CHECK_INT(cg_files_kept(), base + 1);
  CHECK_INT(highest_fd_on(path), kept_fd);

  /* A new inode is not seen: proof that the read went through the kept fd. */
  replace(tmpfd, "a", "new inode\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 4);
  CHECK_STR(buf, "bye\n");

  /* The same name under another dirfd number is another entry. */
  int dup_dir = dup(tmpfd);
  CHECK_INT(cg_files_read(f, dup_dir, "a", buf, sizeof(buf)), 10);
  CHECK_STR(buf, "new inode\n");
  CHECK_INT(cg_files_kept(), base + 2);

  cg_files_destroy(f);
  close(dup_dir);
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(highest_fd_on(path), -1);
}

static void test_budget(void) {
  char buf[64], path_a[512], path_b[512];
  tmp_path(path_a, sizeof(path_a), "a");
  tmp_path(path_b, sizeof(path_b), "b");
  put(tmpfd, "a", "first\n");
  put(tmpfd, "b", "second\n");
  long base = cg_files_kept();

  /* Budget 0: every read opens and closes. */
  cg_files_set_budget(0);
  cg_files_t *f = cg_files_create();
  int fds = count_fds();
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 6);
  CHECK_STR(buf, "first\n");
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(count_fds(), fds);
  replace(tmpfd, "a", "replaced\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 9);
  CHECK_STR(buf, "replaced\n");
  /* No negative entry either: a file created after a miss is seen at once. */
  CHECK_INT(cg_files_read(f, tmpfd, "late", buf, sizeof(buf)), -ENOENT);
  put(tmpfd, "late", "here\n");
  CHECK_INT(cg_files_read(f, tmpfd, "late", buf, sizeof(buf)), 5);
  unlinkat(tmpfd, "late", 0);
  cg_files_destroy(f);

  /* Room for one: a is kept, b is read with open/read/close. */
  cg_files_set_budget(base + 1);
  f = cg_files_create();
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 9);
  CHECK_STR(buf, "replaced\n");
  CHECK_INT(cg_files_read(f, tmpfd, "b", buf, sizeof(buf)), 7);
  CHECK_STR(buf, "second\n");
  CHECK_INT(cg_files_kept(), base + 1);
  CHECK(highest_fd_on(path_a) >= 0);
  CHECK_INT(highest_fd_on(path_b), -1);
  replace(tmpfd, "a", "a again\n");
  replace(tmpfd, "b", "b again\n");
  CHECK_INT(cg_files_read(f, tmpfd, "a", buf, sizeof(buf)), 9);
  CHECK_STR(buf, "replaced\n"); /* kept: old inode */
  CHECK_INT(cg_files_read(f, tmpfd, "b", buf, sizeof(buf)), 8);
  CHECK_STR(buf, "b again\n"); /* reopened */
  CHECK_INT(cg_files_kept(), base + 1);

  /* A second cache shares the process-wide budget. */
  cg_files_t *g = cg_files_create();
  CHECK_INT(cg_files_read(g, tmpfd, "b", buf, sizeof(buf)), 8);
  CHECK_INT(cg_files_kept(), base + 1);
  cg_files_destroy(f);
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(cg_files_read(g, tmpfd, "b", buf, sizeof(buf)), 8);
  CHECK_INT(cg_files_kept(), base + 1);
  cg_files_destroy(g);
  CHECK_INT(cg_files_kept(), base);
  cg_files_set_budget(BUDGET);

  /* NULL cache: plain read. */
  CHECK_INT(cg_files_read(NULL, tmpfd, "b", buf, sizeof(buf)), 8);
  CHECK_STR(buf, "b again\n");
  CHECK_INT(cg_files_kept(), base);
}

static void test_missing(void) {
  char buf[64];
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  cg_files_t *f = cg_files_create();
  unlinkat(tmpfd, "m", 0);
  CHECK_INT(cg_files_read(f, tmpfd, "m", buf, sizeof(buf)), -ENOENT);
  CHECK_INT(cg_files_kept(), base);
  put(tmpfd, "m", "appeared\n");
  /* The file exists now: -ENOENT can only come from the negative entry, without a syscall. */
  int first_ok = -1;
  for (int i = 0; i < CG_FILES_NEG_READS + 5 && first_ok < 0; i++) {
    ssize_t n = cg_files_read(f, tmpfd, "m", buf, sizeof(buf));
    if (n >= 0)
      first_ok = i;
    else if (n != -ENOENT)
      CHECK_INT(n, -ENOENT);
  }
  CHECK_INT(first_ok, CG_FILES_NEG_READS);
  CHECK_STR(buf, "appeared\n");
  CHECK_INT(cg_files_kept(), base + 1);

  /* A kept file that is deleted stays readable through its fd (cgroup files go away with
   * ENODEV instead: see the removed-cgroup check). */
  unlinkat(tmpfd, "m", 0);
  CHECK_INT(cg_files_read(f, tmpfd, "m", buf, sizeof(buf)), 9);

  /* Several misses: each has its own window; none keeps an fd. */
  CHECK_INT(cg_files_read(f, tmpfd, "x1", buf, sizeof(buf)), -ENOENT);
  CHECK_INT(cg_files_read(f, tmpfd, "x2", buf, sizeof(buf)), -ENOENT);
  CHECK_INT(cg_files_read(f, tmpfd, "x1", buf, sizeof(buf)), -ENOENT);
  CHECK_INT(cg_files_kept(), base + 1);
  cg_files_destroy(f);
  CHECK_INT(cg_files_kept(), base);
}

static void test_efbig(void) {
  char big[200], buf[16];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  put(tmpfd, "big", big);
  put(tmpfd, "fits", "0123456789abcde"); /* exactly size - 1 */
  long base = cg_files_kept();
  for (int budget = 0; budget <= 1; budget++) {
    cg_files_set_budget(budget ? BUDGET : 0);
    cg_files_t *f = cg_files_create();
    CHECK_INT(cg_files_read(f, tmpfd, "big", buf, sizeof(buf)), -EFBIG);
    CHECK_INT(cg_files_read(f, tmpfd, "big", buf, sizeof(buf)), -EFBIG);
    CHECK_INT(cg_files_read(f, tmpfd, "fits", buf, sizeof(buf)), 15);
    CHECK_STR(buf, "0123456789abcde");
    /* The fd stays kept: EFBIG is the buffer's fault. A larger buffer then reads it. */
    char large[256];
    CHECK_INT(cg_files_read(f, tmpfd, "big", large, sizeof(large)), 199);
    CHECK_INT(cg_files_kept(), base + 2 * budget);
    cg_files_destroy(f);
    CHECK_INT(cg_files_kept(), base);
  }
  cg_files_set_budget(BUDGET);
}

static void test_cleanup(void) {
  char buf[64], name[16];
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  int fds = count_fds();
  cg_files_t *f = cg_files_create();
  for (int i = 0; i < 40; i++) { /* more than the initial array: it grows */
    snprintf(name, sizeof(name), "f%d", i);
    put(tmpfd, name, name);
  }
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 40; i++) {
      snprintf(name, sizeof(name), "f%d", i);
      CHECK_INT(cg_files_read(f, tmpfd, name, buf, sizeof(buf)), (ssize_t)strlen(name));
      CHECK_STR(buf, name);
    }
    CHECK_INT(cg_files_read(f, tmpfd, "nothere", buf, sizeof(buf)), -ENOENT);
    CHECK_INT(cg_files_kept(), base + 40);
    CHECK_INT(count_fds(), fds + 40);
    cg_files_close_all(f); /* then reusable */
    CHECK_INT(cg_files_kept(), base);
    CHECK_INT(count_fds(), fds);
  }
  CHECK_INT(cg_files_read(f, tmpfd, "f1", buf, sizeof(buf)), 2);
  CHECK_INT(cg_files_kept(), base + 1);
  cg_files_destroy(f);
  cg_files_destroy(NULL);
  cg_files_close_all(NULL);
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(count_fds(), fds);
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof(name), "f%d", i);
    unlinkat(tmpfd, name, 0);
  }
}

/* A kept fd of a cgroup that is removed fails with ENODEV, and is closed. */
static void test_removed_cgroup(void) {
  const char *root = NULL;
  struct statfs sfs;
  char probe[600];
  if (geteuid() != 0) {
    TEST_SKIP_PART("test_cgfiles: removed-cgroup check: not root");
    return;
  }
  if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
    root = "/sys/fs/cgroup/unified";
  else if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_MAGIC)
    root = "/sys/fs/cgroup";
  if (root == NULL) {
    TEST_SKIP_PART(
        "test_cgfiles: removed-cgroup check: no cgroup2 mount at /sys/fs/cgroup(/unified)");
    return;
  }
  if (access(root, W_OK) != 0) {
    TEST_SKIP_PART("test_cgfiles: removed-cgroup check: %s not writable", root);
    return;
  }
  char dir[512];
  snprintf(dir, sizeof(dir), "%s/test_cgfiles.%ld", root, (long)getpid());
  if (mkdir(dir, 0755) != 0) {
    TEST_SKIP_PART("test_cgfiles: removed-cgroup check: mkdir %s: %s", dir, strerror(errno));
    return;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(dfd >= 0);
  if (dfd < 0) {
    rmdir(dir);
    return;
  }
  snprintf(probe, sizeof(probe), "%s/cgroup.procs", dir);
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  int fds = count_fds();
  cg_files_t *f = cg_files_create();
  char buf[4096];
  CHECK_INT(cg_files_read(f, dfd, "cgroup.procs", buf, sizeof(buf)), 0); /* empty cgroup */
  CHECK_INT(cg_files_kept(), base + 1);
  CHECK(highest_fd_on(probe) >= 0);
  /* The readers through the same cache: cpu.stat is always there on cgroup2. */
  cg_metrics_t m = {0};
  CHECK(cgv2_read_files(dfd, CG_GROUP_CPU, &m, NULL, NULL, f) >= 1);
  CHECK(m.has_cpu_time);
  long before = cg_files_kept();
  CHECK(before >= base + 2);

  if (rmdir(dir) != 0) {
    CHECK(!"rmdir of the test cgroup failed");
    perror(dir);
  }
  ssize_t n = cg_files_read(f, dfd, "cgroup.procs", buf, sizeof(buf));
  CHECK(n == -ENODEV || n == -ENOENT);
  CHECK_INT(cg_files_kept(), before - 1);
  cg_metrics_t g = {0};
  CHECK_INT(cgv2_read_files(dfd, CG_GROUP_CPU, &g, NULL, NULL, f), -ENODEV);
  CHECK(!g.has_cpu_time);
  CHECK_INT(cg_files_kept(), base); /* every failed fd was dropped */
  /* The next call tries to open again: the directory is gone. */
  n = cg_files_read(f, dfd, "cgroup.procs", buf, sizeof(buf));
  CHECK(n == -ENOENT || n == -ENODEV);
  cg_files_destroy(f);
  close(dfd);
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(count_fds(), fds - 1);
  rmdir(dir); /* in case the CHECK above failed */
}

/* ---- the readers with and without the cache ---- */

static bool psi_equal(const cg_psi_t *a, const cg_psi_t *b) {
  return a->has_some == b->has_some && a->has_full == b->has_full &&
         a->some_total_us == b->some_total_us && a->full_total_us == b->full_total_us;
}

#define SAME(field) (a->field == b->field)

static bool metrics_equal(const cg_metrics_t *a, const cg_metrics_t *b) {
  bool eq = SAME(has_cpu_time) && SAME(cpu_user_us) && SAME(cpu_system_us) && SAME(has_cfs) &&
            SAME(cfs_periods) && SAME(cfs_throttled_periods) && SAME(cfs_throttled_us) &&
            SAME(limits.has_cpu_quota) && SAME(limits.cpu_quota_us) && SAME(limits.cpu_period_us) &&
            SAME(has_mem_usage) && SAME(limits.has_mem_limit) && SAME(has_mem_anon) &&
            SAME(has_mem_file) && SAME(has_mem_swap) && SAME(mem_usage) && SAME(limits.mem_limit) &&
            SAME(mem_anon) && SAME(mem_file) && SAME(mem_swap) && SAME(has_pgfaults) &&
            SAME(pgfault) && SAME(pgmajfault) && SAME(has_oom_kill) && SAME(oom_kill) &&
            SAME(limits.has_mem_peak) && SAME(limits.mem_peak) && SAME(n_blkdev) &&
            SAME(has_blkio) && SAME(has_pids_current) && SAME(limits.has_pids_max) &&
            SAME(pids_current) && SAME(limits.pids_max);
  for (unsigned i = 0; eq && i < a->n_blkdev && i < CG_MAX_BLKDEV; i++)
    eq = SAME(blkdev[i].major) && SAME(blkdev[i].minor) && SAME(blkdev[i].read_bytes) &&
         SAME(blkdev[i].write_bytes) && SAME(blkdev[i].read_ops) && SAME(blkdev[i].write_ops);
  for (int i = 0; eq && i < CG_PSI_COUNT; i++)
    eq = psi_equal(&a->psi[i], &b->psi[i]);
  return eq;
}

static int errors;
static bool errors_expected;
static void on_err(void *ctx, const char *file, int err, const char *what) {
  (void)ctx;
  if (!errors_expected)
    fprintf(stderr, "reader error: %s: %d %s\n", file, err, what);
  errors++;
}

/* Copies every regular file of src_path into the directory dst. */
static int copy_dir(const char *src_path, int dst) {
  DIR *d = opendir(src_path);
  int n = 0;
  if (d == NULL)
    return -1;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    char path[4400], buf[65536];
    snprintf(path, sizeof(path), "%s/%s", src_path, de->d_name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (read_file_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
      continue;
    put(dst, de->d_name, buf);
    n++;
  }
  closedir(d);
  return n;
}

static void test_v2_reader(void) {
  char src[4096];
  snprintf(src, sizeof(src),
           "%s/v2-kubepods/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/"
           "kubepods-burstable-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice/"
           "cri-containerd-1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496.scope",
           fixture_dir());
  if (mkdirat(tmpfd, "v2", 0755) != 0 && errno != EEXIST) {
    perror("mkdir v2");
    exit(1);
  }
  int dfd = openat(tmpfd, "v2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(dfd >= 0);
  int copied = copy_dir(src, dfd);
  CHECK(copied >= 14);
  if (dfd < 0 || copied < 14) {
    fprintf(stderr, "cannot copy fixture %s\n", src);
    return;
  }
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  cg_files_t *f = cg_files_create();
  errors = 0;

  cg_metrics_t plain = {0}, c1 = {0}, c2 = {0};
  int rp = cgv2_read(dfd, ~0u, &plain, on_err, NULL);
  CHECK_INT(rp, 14);
  CHECK_U64(plain.pids_current, 148);
  CHECK_INT(cgv2_read_files(dfd, ~0u, &c1, on_err, NULL, f), rp);
  long after_first = cg_files_kept();
  cg_metrics_t no_limits = {0}; /* the limit files are read but not kept (CG_READ_LIMITS) */
  CHECK_INT(after_first, base + cgv2_read(dfd, ~0u & ~CG_READ_LIMITS, &no_limits, on_err, NULL));
  CHECK_INT(after_first, base + 10); /* 14 - cpu.max, memory.max, memory.peak, pids.max */
  CHECK_INT(cgv2_read_files(dfd, ~0u, &c2, on_err, NULL, f), rp);
  CHECK_INT(cg_files_kept(), after_first); /* reused, not reopened */
  CHECK(metrics_equal(&plain, &c1));
  CHECK(metrics_equal(&plain, &c2));

  /* Values change in place between intervals: the cache sees them. */
  rewrite(dfd, "pids.current", "149\n");
  rewrite(dfd, "memory.current", "1234\n");
  cg_metrics_t p3 = {0}, c3 = {0};
  CHECK_INT(cgv2_read(dfd, ~0u, &p3, on_err, NULL), rp);
  CHECK_INT(cgv2_read_files(dfd, ~0u, &c3, on_err, NULL, f), rp);
  CHECK_U64(c3.pids_current, 149);
  CHECK_U64(c3.mem_usage, 1234);
  CHECK(metrics_equal(&p3, &c3));

  /* PSI alone, same cache. */
  cg_metrics_t pp = {0}, cp = {0};
  CHECK_INT(cg_psi_read(dfd, &pp, on_err, NULL), 3);
  CHECK_INT(cg_psi_read_files(dfd, &cp, on_err, NULL, f), 3);
  CHECK(metrics_equal(&pp, &cp));
  CHECK_INT(cg_files_kept(), after_first);

  /* A malformed file is reported the same way, once per read, on the kept fd. */
  rewrite(dfd, "pids.current", "many\n");
  int before = errors;
  cg_metrics_t c4 = {0};
  errors_expected = true;
  CHECK_INT(cgv2_read_files(dfd, CG_GROUP_PIDS | CG_READ_LIMITS, &c4, on_err, NULL, f), 2);
  errors_expected = false;
  CHECK_INT(errors - before, 1);
  CHECK(!c4.has_pids_current && !c4.limits.has_pids_max); /* pids.max is "max" */
  errors = before;                                        /* that one was expected */
  CHECK_INT(errors, 0);

  cg_files_close_all(f);
  CHECK_INT(cg_files_kept(), base);
  cg_files_destroy(f);
  DIR *d = fdopendir(dfd);
  if (d != NULL) {
    for (struct dirent *de; (de = readdir(d)) != NULL;)
      if (de->d_name[0] != '.')
        unlinkat(dfd, de->d_name, 0);
    closedir(d);
  }
  unlinkat(tmpfd, "v2", AT_REMOVEDIR);
}

static void test_v1_reader(void) {
  static const char *const ctl[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
  char base_path[4096];
  snprintf(base_path, sizeof(base_path), "%s/v1-docker-cgroupfs/sys/fs/cgroup", fixture_dir());
  /* The first container dir under memory/docker. */
  char sub[512] = "";
  char mem[4200];
  snprintf(mem, sizeof(mem), "%s/memory/docker", base_path);
  DIR *d = opendir(mem);
  CHECK(d != NULL);
  if (d == NULL)
    return;
  for (struct dirent *de; (de = readdir(d)) != NULL && sub[0] == '\0';)
    if (de->d_name[0] != '.' && de->d_type == DT_DIR)
      snprintf(sub, sizeof(sub), "docker/%s", de->d_name);
  closedir(d);
  CHECK(sub[0] != '\0');
  int fds[5];
  for (int i = 0; i < 5; i++) {
    char path[4800];
    snprintf(path, sizeof(path), "%s/%s/%s", base_path, ctl[i], sub);
    fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  cgv1_dirs_t dirs = {fds[0], fds[1], fds[2], fds[3], fds[4], false, false};
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  cg_files_t *f = cg_files_create();
  errors = 0;
  cg_metrics_t plain = {0}, c1 = {0}, c2 = {0};
  int rp = cgv1_read(&dirs, ~0u, &plain, on_err, NULL);
  CHECK(rp > 5);
  CHECK(plain.has_cpu_time && plain.has_mem_usage);
  CHECK_INT(cgv1_read_files(&dirs, ~0u, &c1, on_err, NULL, f), rp);
  long kept = cg_files_kept();
  cg_metrics_t no_limits = {0}; /* the limit files are read but not kept (CG_READ_LIMITS) */
  CHECK_INT(kept, base + cgv1_read(&dirs, ~0u & ~CG_READ_LIMITS, &no_limits, on_err, NULL));
  CHECK(kept < base + rp);
  CHECK_INT(cgv1_read_files(&dirs, ~0u, &c2, on_err, NULL, f), rp);
  CHECK_INT(cg_files_kept(), kept);
  CHECK(metrics_equal(&plain, &c1));
  CHECK(metrics_equal(&plain, &c2));
  CHECK_INT(errors, 0);
  cg_files_destroy(f);
  CHECK_INT(cg_files_kept(), base);
  for (int i = 0; i < 5; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

/* cg_files_fd: the caller reads the kept fd itself. */
static void test_fd_for_caller(void) {
  cg_files_set_budget(BUDGET);
  long base = cg_files_kept();
  put(tmpfd, "list", "1\n2\n");
  cg_files_t *f = cg_files_create();
  int fd = cg_files_fd(f, tmpfd, "list");
  CHECK(fd >= 0);
  CHECK_INT(cg_files_kept(), base + 1);
  CHECK_INT(cg_files_fd(f, tmpfd, "list"), fd); /* the same fd again, no new open */
  CHECK_INT(cg_files_kept(), base + 1);
  char buf[16];
  CHECK_INT(pread(fd, buf, sizeof(buf), 0), 4);
  /* The cache's own reads share the entry. */
  CHECK_INT(cg_files_read(f, tmpfd, "list", buf, sizeof(buf)), 4);
  CHECK_INT(cg_files_kept(), base + 1);
  /* A missing file: the error, then answered from memory. */
  CHECK_INT(cg_files_fd(f, tmpfd, "nope"), -ENOENT);
  put(tmpfd, "nope", "x");
  CHECK_INT(cg_files_fd(f, tmpfd, "nope"), -ENOENT);
  unlinkat(tmpfd, "nope", 0);
  /* Forget closes the fd and gives it back to the budget. */
  int fds = count_fds();
  cg_files_forget(f, tmpfd, "list");
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(count_fds(), fds - 1);
  cg_files_forget(f, tmpfd, "list"); /* not kept: nothing happens */
  cg_files_forget(NULL, tmpfd, "list");
  /* No budget, or no cache: the caller opens the file itself. */
  cg_files_set_budget(base);
  CHECK_INT(cg_files_fd(f, tmpfd, "list"), -EMFILE);
  CHECK_INT(cg_files_fd(NULL, tmpfd, "list"), -EMFILE);
  CHECK_INT(cg_files_kept(), base);
  /* open_for_read/end_read: a fresh fd without budget, closed at the end. */
  bool kept = true;
  fds = count_fds();
  int fresh = cg_files_open_for_read(f, tmpfd, "list", &kept);
  CHECK(fresh >= 0 && !kept);
  CHECK_INT(cg_files_end_read(f, tmpfd, "list", fresh, kept, -ENODEV), -ENODEV);
  CHECK_INT(count_fds(), fds);
  CHECK_INT(cg_files_open_for_read(f, tmpfd, "absent", &kept), -ENOENT);
  /* With budget: kept, and kept after a good read; a failed read forgets it (ENODEV: gone). */
  cg_files_set_budget(BUDGET);
  int k = cg_files_open_for_read(f, tmpfd, "list", &kept);
  CHECK(k >= 0 && kept);
  CHECK_INT(cg_files_end_read(f, tmpfd, "list", k, kept, 0), 0);
  CHECK_INT(cg_files_kept(), base + 1);
  CHECK_INT(cg_files_open_for_read(f, tmpfd, "list", &kept), k);
  CHECK_INT(cg_files_end_read(f, tmpfd, "list", k, kept, -ENODEV), -ENOENT);
  CHECK_INT(cg_files_kept(), base);
  cg_files_destroy(f);
  cg_files_set_budget(BUDGET);
  unlinkat(tmpfd, "list", 0);
}

int main(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <= CG_FILES_MIN_FD + 100 &&
      (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > CG_FILES_MIN_FD + 100)) {
    rl.rlim_cur = CG_FILES_MIN_FD + 100;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  high_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > CG_FILES_MIN_FD;

  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cgfiles.XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmpfd < 0) {
    perror(tmpdir);
    return 1;
  }

  test_content_and_reuse();
  test_budget();
  test_missing();
  test_efbig();
  test_cleanup();
  test_removed_cgroup();
  test_fd_for_caller();
  test_v2_reader();
  test_v1_reader();
  CHECK_INT(cg_files_kept(), 0);

  static const char *const left[] = {"a", "b", "big", "fits", "m"};
  for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
    unlinkat(tmpfd, left[i], 0);
  close(tmpfd);
  if (rmdir(tmpdir) != 0)
    fprintf(stderr, "note: %s left behind: %s\n", tmpdir, strerror(errno));
  return test_result("test_cgfiles");
}
