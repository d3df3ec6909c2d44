/* cgroup v1 reader against the real kernel files in tests/fixtures/real and the fixture trees
 * in tests/fixtures, plus malformed input written to a temporary directory. */
#include "cgroup_v1.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  int count;
  char file[16][64];
  int err[16];
} errs_t;

static void on_err(void *ctx, const char *file, int err, const char *what) {
  errs_t *e = ctx;
  (void)what;
  if (e->count < 16) {
    snprintf(e->file[e->count], sizeof(e->file[0]), "%s", file);
    e->err[e->count] = err;
  }
  e->count++;
}

static int errs_for(const errs_t *e, const char *file) {
  int n = 0;
  for (int i = 0; i < e->count && i < 16; i++)
    n += strcmp(e->file[i], file) == 0;
  return n;
}

static int open_dir(const char *base, const char *sub) {
  char path[4096];
  if (snprintf(path, sizeof(path), "%s/%s", base, sub) >= (int)sizeof(path))
    return -1;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fprintf(stderr, "cannot open %s\n", path);
  return fd;
}

/* All controllers' files in one directory (how fixtures-real stores them). */
static cgv1_dirs_t one_dir(int fd) {
  return (cgv1_dirs_t){fd, fd, fd, fd, fd, false, false};
}

static uint64_t ticks_us(uint64_t ticks) {
  uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
  return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

static const cg_blkdev_t *find_dev(const cg_metrics_t *m, uint32_t maj, uint32_t min) {
  for (unsigned i = 0; i < m->n_blkdev; i++)
    if (m->blkdev[i].major == maj && m->blkdev[i].minor == min)
      return &m->blkdev[i];
  return NULL;
}

#define CHECK_DEV(m, maj, min, rb, wb, ro, wo)                                                     \
  do {                                                                                             \
    const cg_blkdev_t *d_ = find_dev(m, maj, min);                                                 \
    CHECK(d_ != NULL);                                                                             \
    if (d_) {                                                                                      \
      CHECK_U64(d_->read_bytes, rb);                                                               \
      CHECK_U64(d_->write_bytes, wb);                                                              \
      CHECK_U64(d_->read_ops, ro);                                                                 \
      CHECK_U64(d_->write_ops, wo);                                                                \
    }                                                                                              \
  } while (0)

/* ---- real files ---- */

/* Old kernel: cpuacct.stat ticks, no oom_kill, unlimited memory, non-recursive blkio. */
static void check_docker_cgroupfs(const cg_metrics_t *m) {
  CHECK(m->has_cpu_time);
  CHECK_U64(m->cpu_user_us, ticks_us(6195));
  CHECK_U64(m->cpu_system_us, ticks_us(773));
  if (sysconf(_SC_CLK_TCK) == 100) {
    CHECK_U64(m->cpu_user_us, 61950000);
    CHECK_U64(m->cpu_system_us, 7730000);
  }
  CHECK(m->has_cfs);
  CHECK_U64(m->cfs_periods, 769021);
  CHECK_U64(m->cfs_throttled_periods, 1046);
  CHECK_U64(m->cfs_throttled_us, 352597023); /* 352597023453 ns */
  CHECK(!m->limits.has_cpu_quota);           /* -1 */
  CHECK(m->has_mem_usage);
  CHECK_U64(m->mem_usage, 295997440);
  CHECK(!m->limits.has_mem_limit); /* 9223372036854771712 */
  CHECK(m->has_mem_anon && m->has_mem_file);
  CHECK_U64(m->mem_anon, 230662144);
  CHECK_U64(m->mem_file, 65101824);
  CHECK(m->has_mem_swap);
  CHECK_U64(m->mem_swap, 0);
  CHECK(m->has_pgfaults);
  CHECK_U64(m->pgfault, 91651);
  CHECK_U64(m->pgmajfault, 166);
  CHECK(!m->has_oom_kill); /* pre-4.13 memory.oom_control */
  CHECK(!m->limits.has_mem_peak);
  CHECK(m->has_blkio);
  CHECK_INT(m->n_blkdev, 3); /* the device-less Total line is not a device */
  CHECK_DEV(m, 7, 0, 4608, 0, 2, 0);
  CHECK_DEV(m, 253, 0, 4608, 0, 2, 0);
  CHECK_DEV(m, 253, 1, 1638912, 0, 42, 0);
}

/* Newer kernel: ns CPU counters, oom_kill, 2 GiB limit, _recursive blkio with Discard rows. */
static void check_amzn2(const cg_metrics_t *m) {
  CHECK(m->has_cpu_time);
  CHECK_U64(m->cpu_user_us, 122669369578u);
  CHECK_U64(m->cpu_system_us, 1990158250u);
  CHECK(m->has_cfs);
  CHECK_U64(m->cfs_periods, 0);
  CHECK(!m->limits.has_cpu_quota);
  CHECK_U64(m->mem_usage, 1215860736);
  CHECK(m->limits.has_mem_limit);
  CHECK_U64(m->limits.mem_limit, 2147483648u);
  CHECK(m->limits.has_mem_peak);
  CHECK_U64(m->limits.mem_peak, 1532657664);
  CHECK_U64(m->mem_anon, 1119465472);
  CHECK_U64(m->mem_file, 78397440);
  CHECK(m->has_mem_swap);
  CHECK_U64(m->mem_swap, 0);
  CHECK_U64(m->pgfault, 116218146);
  CHECK_U64(m->pgmajfault, 0);
  CHECK(m->has_oom_kill);
  CHECK_U64(m->oom_kill, 0);
  CHECK_INT(m->n_blkdev, 1);
  CHECK_DEV(m, 259, 0, 3448832, 25203200, 59, 5048);
  CHECK(m->has_pids_current);
  CHECK_U64(m->pids_current, 177);
  CHECK(!m->limits.has_pids_max); /* "max" */
}

static void test_real(void) {
  const char *base = real_fixture_dir();
  errs_t e = {0};
  int fd = open_dir(base, "cgroup-v1/elastic-docker-cgroupfs-2");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    /* cpuacct.stat cpuacct.usage_user? no. cpu.stat cfs_quota_us memory.{usage,limit,stat,
     * oom_control} blkio.throttle.{io_service_bytes,io_serviced} */
    CHECK_INT(cgv1_read(&d, ~0u, &m, on_err, &e), 9);
    check_docker_cgroupfs(&m);
    CHECK(!m.has_pids_current);
    close(fd);
  }
  fd = open_dir(base, "cgroup-v1/elastic-amzn2-k8s-pod-1");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    check_amzn2(&m);
    /* cpuacct.stat is the fallback only; the ns files win. */
    CHECK(m.cpu_user_us != ticks_us(10848891));
    close(fd);
  }
  /* Swap accounting off: no swap lines, not an error. */
  fd = open_dir(base, "cgroup-v1/elastic-ubuntu1804-service-3");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    CHECK(!m.has_mem_swap);
    CHECK(m.has_mem_anon);
    CHECK_U64(m.mem_anon, 8404992);
    CHECK_U64(m.mem_file, 0);
    CHECK_U64(m.pgfault, 3267);
    CHECK_U64(m.mem_usage, 9039872);
    CHECK(!m.limits.has_mem_limit);
    CHECK(m.has_oom_kill);
    CHECK_U64(m.oom_kill, 0);
    CHECK_INT(m.n_blkdev, 1);
    CHECK_DEV(&m, 8, 0, 8192, 0, 2, 0);
    CHECK(!m.has_cpu_time && !m.has_cfs);
    close(fd);
  }
  /* 26 devices, most idle: only those with I/O are kept (8:0 and ram 1:0-1:15). */
  fd = open_dir(base, "cgroup-v1/telegraf-blkio-4");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    CHECK_INT(cgv1_read(&d, CG_GROUP_BLKIO, &m, on_err, &e), 1);
    CHECK(m.has_blkio);
    CHECK_INT(m.n_blkdev, 17);
    CHECK_DEV(&m, 8, 0, 0, 0, 49134, 216703);
    CHECK_DEV(&m, 1, 15, 0, 0, 3, 0);
    CHECK_DEV(&m, 1, 0, 0, 0, 3, 0);
    CHECK(find_dev(&m, 11, 0) == NULL);
    CHECK(find_dev(&m, 7, 0) == NULL);
    close(fd);
  }
  fd = open_dir(base, "cgroup-v1/coroot-ssh-service-6");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    CHECK(!m.limits.has_mem_limit);
    CHECK_U64(m.mem_anon, 3637248);
    CHECK_U64(m.mem_file, 7299072);
    CHECK(!m.has_mem_swap);
    CHECK_U64(m.pgfault, 3320328);
    close(fd);
  }
  /* Only cpuacct.usage (no user/system split): no CPU time, no error. */
  fd = open_dir(base, "cgroup-v1/coroot-docker-service-7");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cgv1_dirs_t d = one_dir(fd);
    cg_metrics_t m = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    CHECK(!m.has_cpu_time);
    CHECK(m.has_cfs);
    CHECK(!m.limits.has_cpu_quota);
    close(fd);
  }
  CHECK_INT(e.count, 0);
}

/* The fixture trees, one directory per hierarchy. */
static void test_trees(void) {
  char base[1024];
  snprintf(base, sizeof(base), "%s/v1-docker-cgroupfs/sys/fs/cgroup", fixture_dir());
  static const char *const ids[] = {
      "b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242",
      "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496"};
  errs_t e = {0};
  for (int c = 0; c < 2; c++) {
    char sub[5][256];
    static const char *const ctl[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
    int fds[5];
    for (int i = 0; i < 5; i++) {
      snprintf(sub[i], sizeof(sub[i]), "%s/docker/%s", ctl[i], ids[c]);
      fds[i] = open_dir(base, sub[i]);
      CHECK(fds[i] >= 0);
    }
    cgv1_dirs_t d = {fds[0], fds[1], fds[2], fds[3], fds[4], false, false};
    cg_metrics_t m = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    if (c == 0) {
      check_docker_cgroupfs(&m);
      CHECK(m.has_pids_current);
      CHECK_U64(m.pids_current, 177);
    } else {
      check_amzn2(&m);
    }
    /* A missing hierarchy (-1) leaves its values unset. */
    cgv1_dirs_t partial = d;
    partial.memory = -1;
    partial.cpuacct = -1;
    cg_metrics_t p = {0};
    cgv1_read(&partial, ~0u, &p, on_err, &e);
    CHECK(!p.has_mem_usage && !p.has_cpu_time);
    CHECK(p.has_cfs && p.has_blkio && p.has_pids_current);
    /* Groups select controllers. */
    cg_metrics_t g = {0};
    CHECK_INT(cgv1_read(&d, CG_GROUP_PIDS | CG_GROUP_PRESSURE | CG_READ_LIMITS, &g, on_err, &e), 2);
    CHECK(g.has_pids_current && !g.has_cfs && !g.has_blkio);
    for (int i = 0; i < 5; i++)
      if (fds[i] >= 0)
        close(fds[i]);
  }

  snprintf(base, sizeof(base), "%s/hybrid/sys/fs/cgroup", fixture_dir());
  const char *h =
      "system.slice/docker-ba7b10d15d16e10e3de7a2dcd408a3d971169ae303f46cfad4c5453c6326fee2"
      ".scope";
  char sub[512];
  int fds[5];
  static const char *const ctl[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
  for (int i = 0; i < 5; i++) {
    snprintf(sub, sizeof(sub), "%s/%s", ctl[i], h);
    fds[i] = open_dir(base, sub);
    CHECK(fds[i] >= 0);
  }
  cgv1_dirs_t d = {fds[0], fds[1], fds[2], fds[3], fds[4], false, false};
  cg_metrics_t m = {0};
  cgv1_read(&d, ~0u, &m, on_err, &e);
  CHECK_U64(m.cpu_user_us, 122669369578u);
  CHECK_U64(m.mem_anon, 8404992);
  CHECK(!m.has_mem_swap);
  CHECK_INT(m.n_blkdev, 1);
  CHECK_DEV(&m, 8, 0, 8192, 0, 2, 0);
  CHECK_U64(m.pids_current, 177);
  for (int i = 0; i < 5; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  CHECK_INT(e.count, 0);
}

/* Debian 12's kernel (6.1) on a pure v1 host with systemd's mounts (cpu and cpuacct are one
 * "cpu,cpuacct" hierarchy), from the guest tests (tests/vm): a container with a CPU quota, memory
 * and memsw limits, an OOM kill, direct I/O to vda and swap reads from vdb (6.1 counts v1 I/O
 * only on devices with a throttle rule: the capture set one on both). */
static void test_guest_tree(void) {
  char base[1024];
  snprintf(base, sizeof(base), "%s/guest-v1-debian12/sys/fs/cgroup", fixture_dir());
  static const char *const ctl[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
  int fds[5];
  for (int i = 0; i < 5; i++) {
    char sub[256];
    snprintf(sub, sizeof(sub),
             "%s/docker/b0c5e1d2a3f4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0", ctl[i]);
    fds[i] = open_dir(base, sub);
    CHECK(fds[i] >= 0);
  }
  cgv1_dirs_t d = {fds[0], fds[1], fds[2], fds[3], fds[4], false, false};
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv1_read(&d, ~0u, &m, on_err, &e);
  CHECK_U64(m.cpu_user_us, 4836000);
  CHECK_U64(m.cpu_system_us, 4092000);
  CHECK_U64(m.cfs_periods, 251);
  CHECK_U64(m.cfs_throttled_periods, 243);
  CHECK_U64(m.cfs_throttled_us, 32364133);
  CHECK(m.limits.has_cpu_quota);
  CHECK_U64(m.limits.cpu_quota_us, 50000);
  CHECK_U64(m.mem_usage, 15708160);
  CHECK_U64(m.limits.mem_limit, 16777216);
  CHECK_U64(m.mem_anon, 12263424);
  CHECK_U64(m.mem_file, 2285568);
  CHECK_U64(m.mem_swap, 11911168);
  CHECK_U64(m.pgfault, 9409);
  CHECK_U64(m.pgmajfault, 101);
  CHECK_U64(m.oom_kill, 1);
  CHECK_U64(m.limits.mem_peak, 16777216);
  CHECK_INT(m.n_blkdev, 2);
  CHECK_DEV(&m, 254, 0, 2097152, 4194304, 32, 64);
  CHECK_DEV(&m, 254, 16, 233472, 0, 57, 0);
  CHECK_U64(m.pids_current, 2);
  CHECK_U64(m.limits.pids_max, 64);
  CHECK_INT(e.count, 0);
  for (int i = 0; i < 5; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

/* ---- malformed input ---- */

static char tmpdir[256];

static int make_tmp(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cgv1.XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  return open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void put(int dfd, const char *name, const char *data, size_t len) {
  int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
    perror(name);
    exit(1);
  }
  close(fd);
}

static void puts_(int dfd, const char *name, const char *s) {
  put(dfd, name, s, strlen(s));
}

static const char *const all_files[] = {"cpuacct.usage_user",
                                        "cpuacct.usage_sys",
                                        "cpuacct.stat",
                                        "cpu.stat",
                                        "cpu.cfs_quota_us",
                                        "cpu.cfs_period_us",
                                        "memory.usage_in_bytes",
                                        "memory.limit_in_bytes",
                                        "memory.max_usage_in_bytes",
                                        "memory.stat",
                                        "memory.oom_control",
                                        "blkio.throttle.io_service_bytes_recursive",
                                        "blkio.throttle.io_serviced_recursive",
                                        "blkio.throttle.io_service_bytes",
                                        "blkio.throttle.io_serviced",
                                        "pids.current",
                                        "pids.max"};

static void clear_tmp(int dfd) {
  for (size_t i = 0; i < sizeof(all_files) / sizeof(all_files[0]); i++)
    unlinkat(dfd, all_files[i], 0);
}

static void put_valid(int dfd) {
  puts_(dfd, "cpuacct.usage_user", "5000000\n");
  puts_(dfd, "cpuacct.usage_sys", "3000000\n");
  puts_(dfd, "cpuacct.stat", "user 100\nsystem 200\n");
  puts_(dfd, "cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n");
  puts_(dfd, "cpu.cfs_quota_us", "50000\n");
  puts_(dfd, "cpu.cfs_period_us", "100000\n");
  puts_(dfd, "memory.usage_in_bytes", "4096\n");
  puts_(dfd, "memory.limit_in_bytes", "8192\n");
  puts_(dfd, "memory.max_usage_in_bytes", "6000\n");
  puts_(dfd, "memory.stat",
        "cache 9\nrss 8\ntotal_cache 2\ntotal_rss 1\ntotal_pgfault 3\n"
        "total_pgmajfault 4\n");
  puts_(dfd, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n");
  puts_(dfd, "blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 1\n8:0 Write 2\n8:0 Sync 3\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 3\nTotal 3\n");
  puts_(dfd, "blkio.throttle.io_serviced_recursive",
        "8:0 Read 3\n8:0 Write 4\n8:0 Sync 7\n8:0 Async 0\n8:0 Total 7\nTotal 7\n");
  puts_(dfd, "pids.current", "5\n");
  puts_(dfd, "pids.max", "100\n");
}

typedef struct {
  const char *file, *data;
} bad_t;

static void test_valid_tmp(int dfd) {
  clear_tmp(dfd);
  put_valid(dfd);
  cgv1_dirs_t d = one_dir(dfd);
  cg_metrics_t m = {0};
  errs_t e = {0};
  CHECK_INT(cgv1_read(&d, ~0u, &m, on_err, &e), 14); /* cpuacct.stat not needed */
  CHECK_INT(e.count, 0);
  CHECK_U64(m.cpu_user_us, 5000);
  CHECK_U64(m.cpu_system_us, 3000);
  CHECK_U64(m.cfs_throttled_us, 5);
  CHECK(m.limits.has_cpu_quota);
  CHECK_U64(m.limits.cpu_quota_us, 50000);
  CHECK_U64(m.limits.cpu_period_us, 100000);
  CHECK_U64(m.limits.mem_limit, 8192);
  CHECK_U64(m.limits.mem_peak, 6000);
  CHECK_U64(m.mem_anon, 1); /* total_* win over the local keys */
  CHECK_U64(m.mem_file, 2);
  CHECK(!m.has_mem_swap);
  CHECK_U64(m.oom_kill, 7);
  CHECK_INT(m.n_blkdev, 1);
  CHECK_DEV(&m, 8, 0, 1, 2, 3, 4);
  CHECK_U64(m.limits.pids_max, 100);

  /* Falls back to the non-recursive blkio files, then to the local memory.stat keys. */
  unlinkat(dfd, "blkio.throttle.io_service_bytes_recursive", 0);
  unlinkat(dfd, "blkio.throttle.io_serviced_recursive", 0);
  puts_(dfd, "blkio.throttle.io_service_bytes", "8:16 Read 10\n8:16 Write 20\nTotal 30\n");
  puts_(dfd, "blkio.throttle.io_serviced", "8:16 Read 1\n8:16 Write 2\nTotal 3");
  puts_(dfd, "memory.stat", "cache 9\nrss 8\nswap 7\npgfault 6\npgmajfault 5");
  /* Page-rounded LONG_MAX with 64 KiB pages is unlimited too. */
  puts_(dfd, "memory.limit_in_bytes", "9223372036854710272\n");
  puts_(dfd, "cpu.cfs_quota_us", "-1\n");
  cg_metrics_t f = {0};
  cgv1_read(&d, ~0u, &f, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK_INT(f.n_blkdev, 1);
  CHECK_DEV(&f, 8, 16, 10, 20, 1, 2);
  CHECK_U64(f.mem_anon, 8);
  CHECK_U64(f.mem_file, 9);
  CHECK(f.has_mem_swap);
  CHECK_U64(f.mem_swap, 7);
  CHECK_U64(f.pgfault, 6);
  CHECK(!f.limits.has_mem_limit);
  CHECK(!f.limits.has_cpu_quota);

  /* Just below the threshold is a real limit; "Total 0" alone is blkio without devices. */
  puts_(dfd, "memory.limit_in_bytes", "9223372036853727231\n");
  puts_(dfd, "blkio.throttle.io_service_bytes", "Total 0\n");
  puts_(dfd, "blkio.throttle.io_serviced", "Total 0\n");
  /* Without usage_user/usage_sys: cpuacct.stat ticks. */
  unlinkat(dfd, "cpuacct.usage_sys", 0);
  cg_metrics_t g = {0};
  cgv1_read(&d, ~0u, &g, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK(g.limits.has_mem_limit);
  CHECK_U64(g.limits.mem_limit, 9223372036853727231u);
  CHECK(g.has_blkio);
  CHECK_INT(g.n_blkdev, 0);
  CHECK_U64(g.cpu_user_us, ticks_us(100));
  CHECK_U64(g.cpu_system_us, ticks_us(200));
}

/* Without CG_READ_LIMITS, cpu.cfs_quota_us, cpu.cfs_period_us, memory.limit_in_bytes,
 * memory.max_usage_in_bytes and pids.max are neither opened nor parsed, and everything else is read
 * exactly as with it. With it they are read but never kept open (see CG_READ_LIMITS). */
static void test_without_limits(int dfd) {
  const unsigned groups = CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS;
  clear_tmp(dfd);
  put_valid(dfd);
  cgv1_dirs_t d = one_dir(dfd);
  cg_files_set_budget(64);
  cg_files_t *f = cg_files_create();
  cg_metrics_t without, with;
  memset(&without, 0, sizeof(without));
  memset(&with, 0, sizeof(with));
  errs_t e = {0};
  CHECK_INT(cgv1_read_files(&d, groups, &without, on_err, &e, f), 9); /* 14 - 4 limits - peak */
  CHECK_INT(cg_files_kept(), 9);
  CHECK(!without.limits.has_cpu_quota && !without.limits.has_mem_limit &&
        !without.limits.has_pids_max && !without.limits.has_mem_peak);
  CHECK(without.has_cpu_time && without.has_cfs && without.has_mem_usage && without.has_mem_anon &&
        without.has_oom_kill && without.has_blkio && without.has_pids_current);
  CHECK_INT(cgv1_read_files(&d, groups | CG_READ_LIMITS, &with, on_err, &e, f), 14);
  CHECK_INT(cg_files_kept(), 9);
  CHECK_INT(e.count, 0);
  cg_limits_t l = with.limits;
  CHECK(l.has_cpu_quota && l.has_mem_limit && l.has_pids_max && l.has_mem_peak);
  CHECK_U64(l.mem_peak, 6000);
  CHECK_U64(l.cpu_quota_us, 50000);
  CHECK_U64(l.cpu_period_us, 100000);
  CHECK_U64(l.mem_limit, 8192);
  CHECK_U64(l.pids_max, 100);
  with.limits = (cg_limits_t){0};
  CHECK(memcmp(&with, &without, sizeof(with)) == 0);

  /* cfs_idle: cpu.stat only with the limits, and never kept; the rest as before. */
  cg_metrics_t no_cfs, idle_with;
  memset(&no_cfs, 0, sizeof(no_cfs));
  memset(&idle_with, 0, sizeof(idle_with));
  cg_files_close_all(f);
  d.cfs_idle = true;
  CHECK_INT(cgv1_read_files(&d, groups, &no_cfs, on_err, &e, f), 8);
  CHECK_INT(cg_files_kept(), 8);
  CHECK(!no_cfs.has_cfs && no_cfs.has_cpu_time);
  no_cfs.has_cfs = true;
  no_cfs.cfs_periods = without.cfs_periods;
  no_cfs.cfs_throttled_periods = without.cfs_throttled_periods;
  no_cfs.cfs_throttled_us = without.cfs_throttled_us;
  CHECK(memcmp(&no_cfs, &without, sizeof(no_cfs)) == 0);
  CHECK_INT(cgv1_read_files(&d, groups | CG_READ_LIMITS, &idle_with, on_err, &e, f), 14);
  CHECK_INT(cg_files_kept(), 8);
  CHECK(idle_with.limits.has_cpu_quota && idle_with.has_cfs);
  idle_with.limits = (cg_limits_t){0};
  CHECK(memcmp(&idle_with, &without, sizeof(without)) == 0);
  d.cfs_idle = false;
  cg_files_destroy(f);
  cg_files_set_budget(0);

  /* Malformed limit files (a valid quota, so its period is read): not reported without it,
   * once each with it. */
  puts_(dfd, "cpu.cfs_period_us", "garbage\n");
  puts_(dfd, "memory.limit_in_bytes", "garbage\n");
  puts_(dfd, "pids.max", "garbage\n");
  cg_metrics_t m = {0};
  CHECK_INT(cgv1_read(&d, groups, &m, on_err, &e), 9);
  CHECK_INT(e.count, 0);
  CHECK_U64(m.mem_usage, 4096);
  CHECK_U64(m.pids_current, 5);
  cg_metrics_t bad = {0};
  CHECK_INT(cgv1_read(&d, groups | CG_READ_LIMITS, &bad, on_err, &e), 14);
  CHECK_INT(e.count, 3);
  CHECK(errs_for(&e, "cpu.cfs_period_us") == 1 && errs_for(&e, "memory.limit_in_bytes") == 1 &&
        errs_for(&e, "pids.max") == 1);
}

static void test_malformed(int dfd) {
  static const bad_t bad[] = {
      {"memory.stat", "total_rss 12a\ntotal_cache 1\n"},
      {"memory.stat", "total_cache 1\n"},
      {"memory.stat", ""},
      {"memory.stat", "\xff\xfe garbage\n\x01\n"},
      {"memory.oom_control", "oom_kill_disable 0\n"},
      {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill -1\n"},
      {"memory.usage_in_bytes", "\n"},
      {"memory.limit_in_bytes", "-1\n"},
      {"memory.max_usage_in_bytes", "1.5\n"},
      {"cpuacct.stat", "user 1\n"},
      {"cpuacct.stat", "user 1\nsystem two\n"},
      {"cpu.stat", "nr_periods 1\nnr_throttled 2\n"},
      {"cpu.stat", "nr_periods 1\nnr_throttled 2\nthrottled_time -3\n"},
      {"cpu.cfs_quota_us", "-2\n"},
      {"cpu.cfs_quota_us", "\n"},
      {"cpu.cfs_quota_us", "-1 0\n"},
      {"cpu.cfs_period_us", "x\n"},
      {"cpu.cfs_period_us", "0\n"},
      {"blkio.throttle.io_service_bytes_recursive", "8:0 Read\n"},
      {"blkio.throttle.io_service_bytes_recursive", "8:0 Read 5 6\n"},
      {"blkio.throttle.io_service_bytes_recursive", "8:0 Read x\n"},
      {"blkio.throttle.io_service_bytes_recursive", "8:0: Read 5\n"},
      {"blkio.throttle.io_service_bytes_recursive", "sda Read 5\n"},
      {"blkio.throttle.io_service_bytes_recursive", "8:0 Read 99999999999999999999999\n"},
      {"pids.current", "-1\n"},
      {"pids.max", "unlimited\n"},
  };
  cgv1_dirs_t d = one_dir(dfd);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    clear_tmp(dfd);
    put_valid(dfd);
    /* cpuacct.stat is only read when the ns files are absent. */
    if (strcmp(bad[i].file, "cpuacct.stat") == 0) {
      unlinkat(dfd, "cpuacct.usage_user", 0);
      unlinkat(dfd, "cpuacct.usage_sys", 0);
    }
    puts_(dfd, bad[i].file, bad[i].data);
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    if (e.count != 1 || errs_for(&e, bad[i].file) != 1)
      fprintf(stderr, "case %zu (%s: \"%s\"): %d errors\n", i, bad[i].file, bad[i].data, e.count);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, bad[i].file), 1);
    CHECK_INT(e.err[0], EINVAL);
    const char *f = bad[i].file;
    bool stat = !strcmp(f, "memory.stat"), oom = !strcmp(f, "memory.oom_control");
    bool usage = !strcmp(f, "memory.usage_in_bytes"), lim = !strcmp(f, "memory.limit_in_bytes");
    bool peak = !strcmp(f, "memory.max_usage_in_bytes"), acct = !strcmp(f, "cpuacct.stat");
    bool cfs = !strcmp(f, "cpu.stat");
    bool quota = !strcmp(f, "cpu.cfs_quota_us") || !strcmp(f, "cpu.cfs_period_us");
    bool blk = !strncmp(f, "blkio.", 6);
    bool pc = !strcmp(f, "pids.current"), pm = !strcmp(f, "pids.max");
    CHECK(m.has_mem_anon == !stat);
    CHECK(m.has_oom_kill == !oom);
    CHECK(m.has_mem_usage == !usage);
    CHECK(m.limits.has_mem_limit == !lim);
    CHECK(m.limits.has_mem_peak == !peak);
    CHECK(m.has_cpu_time == !acct);
    CHECK(m.has_cfs == !cfs);
    CHECK(m.limits.has_cpu_quota == !quota);
    CHECK(m.has_pids_current == !pc);
    CHECK(m.limits.has_pids_max == !pm);
    /* A malformed bytes file drops only its own counters: the ops file still counts. */
    CHECK(m.has_blkio);
    CHECK_INT(m.n_blkdev, 1);
    CHECK_DEV(&m, 8, 0, blk ? 0 : 1, blk ? 0 : 2, 3, 4);
  }

  /* Garbage with a NUL inside. */
  clear_tmp(dfd);
  put_valid(dfd);
  put(dfd, "memory.stat", "rss 1\0cache 2\n", 14);
  {
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, "memory.stat"), 1);
    CHECK(!m.has_mem_anon && m.has_mem_usage);
  }

  /* A malformed cpuacct.usage_user is reported and cpuacct.stat still gives CPU time. */
  clear_tmp(dfd);
  put_valid(dfd);
  puts_(dfd, "cpuacct.usage_user", "12 34\n");
  {
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv1_read(&d, CG_GROUP_CPU, &m, on_err, &e);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, "cpuacct.usage_user"), 1);
    CHECK(m.has_cpu_time);
    CHECK_U64(m.cpu_user_us, ticks_us(100));
  }

  /* Larger than the buffer: EFBIG once. */
  clear_tmp(dfd);
  put_valid(dfd);
  {
    size_t len = 70000;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
      big[i] = (i % 12 == 11) ? '\n' : '1';
    put(dfd, "blkio.throttle.io_serviced_recursive", big, len);
    free(big);
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, "blkio.throttle.io_serviced_recursive"), 1);
    CHECK_INT(e.err[0], EFBIG);
    /* Not replaced by the non-recursive file: that would mix two kinds of counter. */
    CHECK_DEV(&m, 8, 0, 1, 2, 0, 0);
  }
  clear_tmp(dfd);
}

static void test_fuzz(int dfd) {
  static const char alphabet[] = "0123456789 \n\t:-.TotalReadWritemaxuser_systemcache\x01\xff";
  unsigned seed = 777;
  char buf[500];
  cgv1_dirs_t d = one_dir(dfd);
  int bad_iters = 0;
  for (int iter = 0; iter < 2000; iter++) {
    for (size_t f = 0; f < sizeof(all_files) / sizeof(all_files[0]); f++) {
      size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
      for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
      put(dfd, all_files[f], buf, len);
    }
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv1_read(&d, ~0u, &m, on_err, &e);
    bool ok = m.n_blkdev <= CG_MAX_BLKDEV;
    for (size_t f = 0; f < sizeof(all_files) / sizeof(all_files[0]); f++)
      ok = ok && errs_for(&e, all_files[f]) <= 1;
    bad_iters += !ok;
  }
  CHECK_INT(bad_iters, 0);
  clear_tmp(dfd);
}

/* This machine's own v1 hierarchies, if mounted: the root cgroup must read without errors. */
static void test_live(void) {
  static const char *const ctl[] = {"cpu", "cpuacct", "memory", "blkio", "pids"};
  int fds[5];
  bool any = false;
  for (int i = 0; i < 5; i++) {
    char path[64];
    snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/tasks", ctl[i]);
    fds[i] = -1;
    if (access(path, F_OK) == 0) {
      snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", ctl[i]);
      fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      any = any || fds[i] >= 0;
    }
  }
  if (!any)
    return;
  cgv1_dirs_t d = {fds[0], fds[1], fds[2], fds[3], fds[4], false, false};
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv1_read(&d, ~0u, &m, on_err, &e);
  for (int k = 0; k < e.count && k < 16; k++)
    fprintf(stderr, "live: error in %s (%d)\n", e.file[k], e.err[k]);
  CHECK_INT(e.count, 0);
  for (int i = 0; i < 5; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

int main(void) {
  test_real();
  test_trees();
  test_guest_tree();
  int dfd = make_tmp();
  test_valid_tmp(dfd);
  test_without_limits(dfd);
  test_malformed(dfd);
  test_fuzz(dfd);
  close(dfd);
  rmdir(tmpdir);
  test_live();
  return test_result("test_cgroup_v1");
}
