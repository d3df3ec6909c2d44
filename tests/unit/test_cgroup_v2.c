/* cgroup v2 and PSI readers against the real kernel files in tests/fixtures/real, plus
 * malformed input written to a temporary directory. */
#include "cgroup_v2.h"
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

static int open_real(const char *sub) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", real_fixture_dir(), sub);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fprintf(stderr, "cannot open %s\n", path);
  return fd;
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

/* ---- temp dir helpers ---- */

static char tmpdir[256];

static int make_tmp(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cgv2.XXXXXX");
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

static void clear_tmp(int dfd) {
  static const char *const names[] = {
      "cpu.stat",      "cpu.max",      "memory.current",      "memory.max", "memory.stat",
      "memory.events", "memory.peak",  "memory.swap.current", "io.stat",    "pids.current",
      "pids.max",      "cpu.pressure", "memory.pressure",     "io.pressure"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (unlinkat(dfd, names[i], 0) != 0 && errno == EISDIR)
      unlinkat(dfd, names[i], AT_REMOVEDIR);
}

/* A valid set of files; each malformed test replaces one of them. */
static void put_valid(int dfd) {
  puts_(dfd, "cpu.stat", "usage_usec 30\nuser_usec 10\nsystem_usec 20\n");
  puts_(dfd, "cpu.max", "50000 100000\n");
  puts_(dfd, "memory.current", "4096\n");
  puts_(dfd, "memory.max", "8192\n");
  puts_(dfd, "memory.peak", "6000\n");
  puts_(dfd, "memory.stat", "anon 1\nfile 2\npgfault 3\npgmajfault 4\n");
  puts_(dfd, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 7\n");
  puts_(dfd, "io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
  puts_(dfd, "pids.current", "5\n");
  puts_(dfd, "pids.max", "100\n");
  puts_(dfd, "cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=11\n");
}

/* ---- real files ---- */

static void test_session_scope(void) {
  int fd = open_real("cgroup-v2/elastic-docker2-session-scope-1");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t m = {0};
  errs_t e = {0};
  int files = cgv2_read(fd, ~0u, &m, on_err, &e);
  CHECK_INT(e.count, 0);
  /* cpu.stat cpu.max memory.{current,max,swap.current,peak,stat,events} pids.{current,max}
   * {cpu,memory,io}.pressure; no io.stat */
  CHECK_INT(files, 13);
  CHECK(m.has_cpu_time);
  CHECK_U64(m.cpu_user_us, 2915072455u);
  CHECK_U64(m.cpu_system_us, 696275063u);
  CHECK(m.has_cfs); /* core_sched.force_idle_usec (dotted key) in between is ignored */
  CHECK_U64(m.cfs_periods, 0);
  CHECK_U64(m.cfs_throttled_periods, 0);
  CHECK_U64(m.cfs_throttled_us, 0);
  CHECK(!m.limits.has_cpu_quota); /* "max 100000" */
  CHECK(m.has_mem_usage);
  CHECK_U64(m.mem_usage, 10498404352u);
  CHECK(!m.limits.has_mem_limit); /* "max" */
  CHECK(m.has_mem_anon && m.has_mem_file);
  CHECK_U64(m.mem_anon, 1411100672u);
  CHECK_U64(m.mem_file, 8621432832u);
  CHECK(m.has_pgfaults);
  CHECK_U64(m.pgfault, 47908511u);
  CHECK_U64(m.pgmajfault, 14299u);
  CHECK(m.has_mem_swap);
  CHECK_U64(m.mem_swap, 17715200u);
  CHECK(m.has_oom_kill);
  CHECK_U64(m.oom_kill, 0);
  CHECK(m.limits.has_mem_peak);
  CHECK_U64(m.limits.mem_peak, 18772946944u);
  CHECK(!m.has_blkio);
  CHECK_INT(m.n_blkdev, 0);
  CHECK(m.has_pids_current);
  CHECK_U64(m.pids_current, 148);
  CHECK(!m.limits.has_pids_max); /* "max" */
  CHECK(m.psi[CG_PSI_CPU].has_some && m.psi[CG_PSI_CPU].has_full);
  CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 115056064u);
  CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 29254180u);
  CHECK_U64(m.psi[CG_PSI_MEMORY].some_total_us, 1736583u);
  CHECK_U64(m.psi[CG_PSI_MEMORY].full_total_us, 1677369u);
  CHECK_U64(m.psi[CG_PSI_IO].some_total_us, 10748370u);
  CHECK_U64(m.psi[CG_PSI_IO].full_total_us, 7726267u);

  /* Groups select files. */
  cg_metrics_t only = {0};
  CHECK_INT(cgv2_read(fd, CG_GROUP_PIDS | CG_READ_LIMITS, &only, on_err, &e), 2);
  CHECK(only.has_pids_current && !only.has_cpu_time && !only.has_mem_usage);
  CHECK(!only.psi[CG_PSI_CPU].has_some);
  CHECK_INT(e.count, 0);
  close(fd);
}

static void test_system_slice(void) {
  int fd = open_real("cgroup-v2/elastic-docker-system-slice-2");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv2_read(fd, ~0u, &m, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK_U64(m.cpu_user_us, 512367519674u);
  CHECK_U64(m.cpu_system_us, 225806327701u);
  CHECK(m.has_cfs);
  /* cpu.pressure before 5.13: only "some" */
  CHECK(m.psi[CG_PSI_CPU].has_some);
  CHECK(!m.psi[CG_PSI_CPU].has_full);
  CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 2798967170u);
  CHECK(m.psi[CG_PSI_MEMORY].has_some && m.psi[CG_PSI_MEMORY].has_full);
  CHECK_U64(m.psi[CG_PSI_MEMORY].some_total_us, 0);
  CHECK_U64(m.psi[CG_PSI_IO].some_total_us, 105680790u);
  CHECK_U64(m.psi[CG_PSI_IO].full_total_us, 103282599u);
  CHECK(m.has_blkio);
  CHECK_INT(m.n_blkdev, 3);
  CHECK_DEV(&m, 252, 0, 4096, 4096, 1, 1);
  CHECK_DEV(&m, 8, 0, 14598439936u, 613809529856u, 151279, 47321130);
  CHECK_DEV(&m, 253, 0, 14590931456u, 613804409344u, 150746, 44621629);
  CHECK_U64(m.mem_usage, 11583053824u);
  CHECK(!m.limits.has_mem_limit);
  CHECK_U64(m.mem_anon, 3531862016u);
  CHECK_U64(m.mem_file, 7489388544u);
  CHECK_U64(m.pgfault, 24359248243u);
  CHECK_U64(m.pgmajfault, 5713);
  CHECK(m.has_oom_kill); /* memory.events without oom_group_kill */
  CHECK_U64(m.oom_kill, 0);
  CHECK(m.has_mem_swap);
  CHECK_U64(m.mem_swap, 0);
  CHECK(!m.limits.has_mem_peak);
  CHECK(!m.has_pids_current && !m.limits.has_pids_max);
  close(fd);
}

static void test_edited_scope(void) {
  int fd = open_real("cgroup-v2/elastic-docker-container-scope-EDITED-3");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv2_read(fd, ~0u, &m, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK_U64(m.cfs_periods, 1);
  CHECK_U64(m.cfs_throttled_periods, 4);
  CHECK_U64(m.cfs_throttled_us, 10);
  CHECK_U64(m.cpu_user_us, 20979069928u);
  CHECK_INT(m.n_blkdev, 2);
  CHECK_DEV(&m, 8, 0, 512, 4096, 100, 1);
  CHECK_DEV(&m, 253, 0, 1024, 4096, 1, 1);
  CHECK(m.has_oom_kill);
  CHECK_U64(m.oom_kill, 1);
  CHECK_U64(m.mem_usage, 9125888);
  CHECK_U64(m.mem_anon, 411045888u);
  CHECK_U64(m.mem_file, 0);
  CHECK_U64(m.pgfault, 580970907u);
  CHECK(m.psi[CG_PSI_CPU].has_some && !m.psi[CG_PSI_CPU].has_full);
  CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 1676316);
  CHECK_U64(m.psi[CG_PSI_IO].some_total_us, 1154482);
  CHECK_U64(m.psi[CG_PSI_IO].full_total_us, 1154482);
  CHECK(!m.psi[CG_PSI_MEMORY].has_some); /* no memory.pressure in this sample */
  close(fd);
}

/* cpu.stat without the cpu controller: CPU time alone, no CFS, no error. */
static void test_cpu_stat_no_controller(void) {
  static const struct {
    const char *dir;
    uint64_t user, sys;
  } cases[] = {{"cgroup-v2/elastic-ubuntu1804-hybrid-unified-4", 120465, 64248},
               {"cgroup-v2/coroot-hybrid-unified-ssh-11", 99140470, 52299496},
               {"cgroup-v2/telegraf-qemu-machine-scope-8", 511415566817u, 103537582650u}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int fd = open_real(cases[i].dir);
    CHECK(fd >= 0);
    if (fd < 0)
      continue;
    cg_metrics_t m = {0};
    errs_t e = {0};
    CHECK_INT(cgv2_read(fd, CG_GROUP_CPU, &m, on_err, &e), 1);
    CHECK_INT(e.count, 0);
    CHECK(m.has_cpu_time);
    CHECK_U64(m.cpu_user_us, cases[i].user);
    CHECK_U64(m.cpu_system_us, cases[i].sys);
    CHECK(!m.has_cfs);
    CHECK(!m.limits.has_cpu_quota);
    /* The hybrid unified dir has no PSI files (4.15): nothing, no error. */
    CHECK_INT(cg_psi_read(fd, &m, on_err, &e), 0);
    CHECK(!m.psi[CG_PSI_CPU].has_some);
    CHECK_INT(e.count, 0);
    close(fd);
  }
}

static void test_k8s_quota(void) {
  int fd = open_real("cgroup-v2/coroot-k8s-besteffort-pod-9");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv2_read(fd, ~0u, &m, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK(m.limits.has_cpu_quota);
  CHECK_U64(m.limits.cpu_quota_us, 10000);
  CHECK_U64(m.limits.cpu_period_us, 100000);
  CHECK_U64(m.cfs_periods, 809036);
  CHECK_U64(m.cfs_throttled_periods, 76);
  CHECK_U64(m.cfs_throttled_us, 363166);
  CHECK_U64(m.cpu_user_us, 3160014031u);
  CHECK_U64(m.cpu_system_us, 635667223u);
  CHECK_INT(m.n_blkdev, 2);
  CHECK_DEV(&m, 252, 0, 11, 630538240u, 22, 57111);
  CHECK_DEV(&m, 253, 0, 33, 630538241u, 44, 57056);
  CHECK_U64(m.mem_usage, 48648192);
  CHECK(!m.limits.has_mem_limit);
  CHECK_U64(m.mem_anon, 44892160);
  CHECK_U64(m.mem_file, 1044480);
  CHECK_U64(m.pgfault, 29601375);
  CHECK_U64(m.pgmajfault, 0);
  CHECK(!m.has_oom_kill); /* no memory.events in this sample */
  CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 463529433u);
  CHECK_U64(m.psi[CG_PSI_IO].some_total_us, 17657662684u);
  CHECK_U64(m.psi[CG_PSI_MEMORY].full_total_us, 6934649214u);
  close(fd);

  fd = open_real("cgroup-v2/coroot-docker-scope-10");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t d = {0};
  cgv2_read(fd, ~0u, &d, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK(d.limits.has_mem_limit);
  CHECK_U64(d.limits.mem_limit, 4294967296u);
  CHECK(!d.limits.has_cpu_quota);
  CHECK_U64(d.mem_anon, 75247616);
  close(fd);
}

static void test_io_stat_quirks(void) {
  errs_t e = {0};
  /* "7:7 7:6 7:5 7:4 rbytes=..." : the stats belong to the last id of the run. */
  int fd = open_real("cgroup-v2/elastic-io-stat-ubuntu-5");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    CHECK_INT(cgv2_read(fd, CG_GROUP_BLKIO, &m, on_err, &e), 1);
    CHECK(m.has_blkio);
    CHECK_INT(m.n_blkdev, 2);
    CHECK_DEV(&m, 7, 4, 556032, 0, 78, 0);
    CHECK_DEV(&m, 7, 3, 21017600, 0, 629, 0);
    CHECK(find_dev(&m, 7, 7) == NULL);
    close(fd);
  }
  /* The file ends with a run of ids, no key=value and no newline. */
  fd = open_real("cgroup-v2/elastic-io-stat-ubuntu2-6");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    cgv2_read(fd, CG_GROUP_BLKIO, &m, on_err, &e);
    CHECK_INT(m.n_blkdev, 2);
    CHECK_DEV(&m, 253, 0, 45931053056u, 211814596608u, 1078394, 21426614);
    CHECK_DEV(&m, 259, 0, 48963873792u, 217588278272u, 1315370, 15358572);
    CHECK(find_dev(&m, 7, 0) == NULL);
    close(fd);
  }
  /* A line that is only "7:0 ", then cost.* keys. */
  fd = open_real("cgroup-v2/below-io-stat-empty-device-16");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    cgv2_read(fd, CG_GROUP_BLKIO, &m, on_err, &e);
    CHECK_INT(m.n_blkdev, 2);
    CHECK_DEV(&m, 253, 0, 531, 162379, 61, 81);
    CHECK_DEV(&m, 13, 0, 135, 162379, 61, 81);
    close(fd);
  }
  /* No final newline. */
  fd = open_real("cgroup-v2/runc-cgroups-io-12");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    cgv2_read(fd, CG_GROUP_BLKIO, &m, on_err, &e);
    CHECK_INT(m.n_blkdev, 3);
    CHECK_DEV(&m, 254, 1, 6901432320u, 14245535744u, 263278, 248603);
    CHECK_DEV(&m, 254, 0, 2702336, 0, 97, 0);
    CHECK_DEV(&m, 259, 0, 6911345664u, 14245536256u, 264538, 244914);
    /* Order of first appearance. */
    CHECK_INT(m.blkdev[0].major, 254);
    CHECK_INT(m.blkdev[0].minor, 1);
    CHECK_INT(m.blkdev[2].major, 259);
    close(fd);
  }
  /* cost.vrate=100.00 is a float: an unknown key, ignored. */
  fd = open_real("cgroup-v2/runc-cgroups-iocost-13");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    cgv2_read(fd, CG_GROUP_BLKIO, &m, on_err, &e);
    CHECK_INT(m.n_blkdev, 3);
    CHECK_DEV(&m, 251, 0, 2285568, 688128, 107, 168);
    CHECK_DEV(&m, 252, 0, 2037743988736u, 1036567117824u, 169193849, 41541021);
    CHECK_DEV(&m, 259, 0, 4085926524416u, 1036680064512u, 185034771, 40358485);
    close(fd);
  }
  CHECK_INT(e.count, 0);
}

static void test_no_final_newline(void) {
  errs_t e = {0};
  int fd = open_real("cgroup-v2/runc-cgroups-memory-14");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    cgv2_read(fd, CG_GROUP_MEMORY, &m, on_err, &e);
    CHECK(m.has_mem_anon);
    CHECK_U64(m.mem_anon, 790425600);
    CHECK_U64(m.mem_file, 6502666240u);
    CHECK_U64(m.pgfault, 103216687);
    CHECK_U64(m.pgmajfault, 6879);
    CHECK(!m.has_mem_usage);
    close(fd);
  }
  fd = open_real("cgroup-v2/runc-cgroups-psi-15");
  if (fd >= 0) {
    cg_metrics_t m = {0};
    CHECK_INT(cg_psi_read(fd, &m, on_err, &e), 1);
    CHECK(m.psi[CG_PSI_CPU].has_some && m.psi[CG_PSI_CPU].has_full);
    CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 230548833);
    CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 157622356);
    CHECK(!m.psi[CG_PSI_IO].has_some && !m.psi[CG_PSI_IO].has_full);
    close(fd);
  }
  CHECK_INT(e.count, 0);
}

/* /proc/pressure files have the same format; irq has only a "full" line and no newline. */
static void test_proc_pressure_format(void) {
  static const struct {
    const char *src, *dst;
  } map[] = {{"cpu", "cpu.pressure"}, {"irq", "memory.pressure"}, {"io", "io.pressure"}};
  int dfd = make_tmp();
  for (size_t i = 0; i < 3; i++) {
    char path[1024], buf[512];
    snprintf(path, sizeof(path), "%s/proc-pressure/node-exporter-1/%s", real_fixture_dir(),
             map[i].src);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f == NULL)
      return;
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    put(dfd, map[i].dst, buf, n);
  }
  cg_metrics_t m = {0};
  errs_t e = {0};
  CHECK_INT(cg_psi_read(dfd, &m, on_err, &e), 3);
  CHECK_INT(e.count, 0);
  CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 14036781);
  CHECK(m.psi[CG_PSI_CPU].has_full);
  CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 0);
  CHECK(!m.psi[CG_PSI_MEMORY].has_some); /* irq-style: full only */
  CHECK(m.psi[CG_PSI_MEMORY].has_full);
  CHECK_U64(m.psi[CG_PSI_MEMORY].full_total_us, 8494);
  CHECK_U64(m.psi[CG_PSI_IO].some_total_us, 159886802);
  CHECK_U64(m.psi[CG_PSI_IO].full_total_us, 159229614);
  unlinkat(dfd, "cpu.pressure", 0);
  unlinkat(dfd, "memory.pressure", 0);
  unlinkat(dfd, "io.pressure", 0);
  close(dfd);
  rmdir(tmpdir);
}

/* ---- malformed input ---- */

typedef struct {
  const char *file;
  const char *data;
} bad_t;

static void test_malformed(void) {
  static const bad_t bad[] = {
      {"memory.stat", "anon abc\nfile 2\n"},
      {"memory.stat", "anon 1\nfi"}, /* truncated: file missing */
      {"memory.stat", ""},
      {"memory.stat", "anon -1\nfile 2\n"},
      {"memory.stat", "anon 99999999999999999999999\nfile 2\n"},
      {"memory.stat", "\x01\x02\xff garbage\n\n\n"},
      {"cpu.stat", "usage_usec 1\nuser_usec 1\n"},
      {"cpu.stat", "user_usec 1\nsystem_usec 2\nnr_periods 5\n"}, /* CFS keys cut off */
      {"cpu.stat", "user_usec 1\nsystem_usec x\n"},
      {"cpu.max", "max"},
      {"cpu.max", "abc 100000\n"},
      {"cpu.max", "10000 0\n"},
      {"cpu.max", "10000 100000 7\n"},
      {"cpu.max", ""},
      {"memory.current", ""},
      {"memory.current", "12 34\n"},
      {"memory.max", "maxx\n"},
      {"memory.max", "-1\n"},
      {"memory.events", "low 0\nhigh 0\n"},
      {"memory.events", "oom 1\noom_kill z\n"},
      {"io.stat", "8:0 rbytes=12x wbytes=1\n"},
      {"io.stat", "rbytes=5 8:0 wbytes=1\n"},
      {"io.stat", "8:0: rbytes=1\n"},
      {"io.stat", "8:0 rbytes=99999999999999999999999\n"},
      {"io.stat", "8:0 rbytes= wbytes=1\n"},
      {"io.stat", "8:0 garbage\n"},
      {"io.stat", "8 rbytes=1\n"},
      {"io.stat", ":0 rbytes=1\n"},
      {"io.stat", "4294967296:0 rbytes=1\n"},
      {"pids.current", "many\n"},
      {"pids.max", "\n"},
      {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=abc\n"},
      {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00\n"},
      {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=\n"},
      {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 xtotal=5\n"},
      {"cpu.pressure", "1\n"}, /* cgroup.pressure's content */
      {"cpu.pressure", ""},
  };
  int dfd = make_tmp();
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    clear_tmp(dfd);
    put_valid(dfd);
    puts_(dfd, bad[i].file, bad[i].data);
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(dfd, ~0u, &m, on_err, &e);
    if (e.count != 1 || errs_for(&e, bad[i].file) != 1)
      fprintf(stderr, "case %zu (%s: \"%s\"): %d errors\n", i, bad[i].file, bad[i].data, e.count);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, bad[i].file), 1);
    CHECK_INT(e.err[0], EINVAL);
    /* The file's values are not used, the others are. */
    bool cpu = strcmp(bad[i].file, "cpu.stat") == 0, quota = strcmp(bad[i].file, "cpu.max") == 0;
    bool stat = strcmp(bad[i].file, "memory.stat") == 0, io = strcmp(bad[i].file, "io.stat") == 0;
    bool cur = strcmp(bad[i].file, "memory.current") == 0;
    bool lim = strcmp(bad[i].file, "memory.max") == 0;
    bool ev = strcmp(bad[i].file, "memory.events") == 0;
    bool pc = strcmp(bad[i].file, "pids.current") == 0, pm = strcmp(bad[i].file, "pids.max") == 0;
    bool psi = strcmp(bad[i].file, "cpu.pressure") == 0;
    CHECK(m.has_cpu_time == !cpu);
    CHECK(m.has_cfs == false);
    CHECK(m.limits.has_cpu_quota == !quota);
    CHECK(m.has_mem_anon == !stat);
    CHECK(m.has_pgfaults == !stat);
    CHECK(m.has_mem_usage == !cur);
    CHECK(m.limits.has_mem_limit == !lim);
    CHECK(m.has_oom_kill == !ev);
    CHECK(m.has_blkio == !io);
    CHECK_INT(m.n_blkdev, io ? 0 : 1);
    CHECK(m.has_pids_current == !pc);
    CHECK(m.limits.has_pids_max == !pm);
    CHECK(m.psi[CG_PSI_CPU].has_some == !psi);
    if (!stat)
      CHECK_U64(m.mem_anon, 1);
    if (!io)
      CHECK_U64(m.blkdev[0].write_ops, 4);
    if (!quota)
      CHECK_U64(m.limits.cpu_quota_us, 50000);
  }

  /* Valid variants: no error. */
  static const bad_t good[] = {
      {"io.stat", "(unknown) rbytes=5 wbytes=6 rios=1 wios=1\n8:0 rbytes=1 wbytes=2 rios=3 wios=4"},
      {"io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 depth=64 avg_lat=12 win=50 cost.vrate=99.5"},
      {"io.stat", "7:1 7:0\n8:0 rbytes=1 wbytes=2 rios=3 wios=4\n8:1 \n"},
      {"io.stat", "8:0\trbytes=1\twbytes=2\trios=3\twios=4\r\n"},
      {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=11\nnew avg=1 total=x\n"},
      {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\n"}, /* pre-4.13: no oom_kill */
      {"cpu.stat", "usage_usec 30\nuser_usec 10\nsystem_usec 20\nnr_bursts x1\n"},
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    clear_tmp(dfd);
    put_valid(dfd);
    puts_(dfd, good[i].file, good[i].data);
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(dfd, ~0u, &m, on_err, &e);
    if (e.count != 0)
      fprintf(stderr, "good case %zu (%s): %d errors\n", i, good[i].file, e.count);
    CHECK_INT(e.count, 0);
    if (strcmp(good[i].file, "io.stat") == 0) {
      CHECK(m.has_blkio);
      CHECK_INT(m.n_blkdev, 1);
      CHECK_DEV(&m, 8, 0, 1, 2, 3, 4);
    }
    if (strcmp(good[i].file, "memory.events") == 0)
      CHECK(!m.has_oom_kill);
    CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 11);
  }

  /* A file larger than the read buffer: EFBIG, reported once. */
  clear_tmp(dfd);
  put_valid(dfd);
  {
    size_t len = 100000;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
      big[i] = (i % 10 == 9) ? '\n' : 'x';
    put(dfd, "io.stat", big, len);
    put(dfd, "memory.stat", big, 9000);
    free(big);
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(dfd, ~0u, &m, on_err, &e);
    CHECK_INT(e.count, 2);
    CHECK_INT(errs_for(&e, "io.stat"), 1);
    CHECK_INT(errs_for(&e, "memory.stat"), 1);
    CHECK_INT(e.err[0], EFBIG);
    CHECK(!m.has_blkio && !m.has_mem_anon);
    CHECK(m.has_mem_usage && m.has_cpu_time);
  }

  /* A read error other than ENOENT (here EISDIR): reported with its errno. */
  clear_tmp(dfd);
  put_valid(dfd);
  unlinkat(dfd, "memory.stat", 0);
  mkdirat(dfd, "memory.stat", 0755);
  {
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(dfd, ~0u, &m, on_err, &e);
    CHECK_INT(e.count, 1);
    CHECK_INT(errs_for(&e, "memory.stat"), 1);
    CHECK_INT(e.err[0], EISDIR);
    CHECK(m.has_mem_usage && !m.has_mem_anon);
  }
  unlinkat(dfd, "memory.stat", AT_REMOVEDIR);

  /* on_error may be NULL. */
  puts_(dfd, "memory.stat", "garbage");
  {
    cg_metrics_t m = {0};
    cgv2_read(dfd, ~0u, &m, NULL, NULL);
    CHECK(!m.has_mem_anon && m.has_mem_usage);
  }
  clear_tmp(dfd);
  close(dfd);
  rmdir(tmpdir);
}

/* More devices than the table holds: devices with I/O win over idle ones. */
static void test_many_devices(void) {
  int dfd = make_tmp();
  char *buf = malloc(16384), *p = buf;
  for (int i = 0; i < 40; i++)
    p += sprintf(p, "7:%d rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0\n", i);
  for (int i = 0; i < 5; i++)
    p += sprintf(p, "8:%d rbytes=%d wbytes=1 rios=1 wios=1\n", i * 16, i + 1);
  puts_(dfd, "io.stat", buf);
  cg_metrics_t m = {0};
  errs_t e = {0};
  cgv2_read(dfd, CG_GROUP_BLKIO, &m, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK_INT(m.n_blkdev, 5);
  for (int i = 0; i < 5; i++)
    CHECK_DEV(&m, 8, (uint32_t)i * 16, (uint64_t)i + 1, 1, 1, 1);

  /* 40 busy devices: the first CG_MAX_BLKDEV are kept, the rest dropped without error. */
  p = buf;
  for (int i = 0; i < 40; i++)
    p += sprintf(p, "7:%d rbytes=%d wbytes=0 rios=1 wios=0\n", i, i + 1);
  puts_(dfd, "io.stat", buf);
  cg_metrics_t m2 = {0};
  cgv2_read(dfd, CG_GROUP_BLKIO, &m2, on_err, &e);
  CHECK_INT(e.count, 0);
  CHECK_INT(m2.n_blkdev, CG_MAX_BLKDEV);
  CHECK_DEV(&m2, 7, 31, 32, 0, 1, 0);
  CHECK(find_dev(&m2, 7, 32) == NULL);
  free(buf);
  unlinkat(dfd, "io.stat", 0);
  close(dfd);
  rmdir(tmpdir);
}

/* Without CG_READ_LIMITS, cpu.max, memory.max, memory.peak and pids.max are neither opened nor
 * parsed, and
 * everything else is read exactly as with it. With it they are read but never kept open (see
 * CG_READ_LIMITS). */
static void test_without_limits(void) {
  const unsigned groups =
      CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;
  int dfd = make_tmp();
  put_valid(dfd);
  cg_files_set_budget(64);
  cg_files_t *f = cg_files_create();
  cg_metrics_t without, with;
  memset(&without, 0, sizeof(without));
  memset(&with, 0, sizeof(with));
  errs_t e = {0};
  CHECK_INT(cgv2_read_files(dfd, groups, &without, on_err, &e, f), 7); /* put_valid's 11 - 4 */
  CHECK_INT(cg_files_kept(), 7);
  CHECK(!without.limits.has_cpu_quota && !without.limits.has_mem_limit &&
        !without.limits.has_pids_max && !without.limits.has_mem_peak);
  CHECK(without.has_cpu_time && without.has_mem_usage && without.has_mem_anon &&
        without.has_oom_kill && without.has_blkio && without.has_pids_current &&
        without.psi[CG_PSI_CPU].has_some);
  CHECK_INT(cgv2_read_files(dfd, groups | CG_READ_LIMITS, &with, on_err, &e, f), 11);
  CHECK_INT(cg_files_kept(), 7);
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
  cg_files_destroy(f);
  cg_files_set_budget(0);

  /* Malformed limit files: not reported without it, once each with it. */
  puts_(dfd, "cpu.max", "garbage\n");
  puts_(dfd, "memory.max", "garbage\n");
  puts_(dfd, "pids.max", "garbage\n");
  cg_metrics_t m = {0};
  CHECK_INT(cgv2_read(dfd, groups, &m, on_err, &e), 7);
  CHECK_INT(e.count, 0);
  CHECK_U64(m.mem_usage, 4096);
  CHECK_U64(m.pids_current, 5);
  cg_metrics_t bad = {0};
  CHECK_INT(cgv2_read(dfd, groups | CG_READ_LIMITS, &bad, on_err, &e), 11);
  CHECK_INT(e.count, 3);
  CHECK(errs_for(&e, "cpu.max") == 1 && errs_for(&e, "memory.max") == 1 &&
        errs_for(&e, "pids.max") == 1);
  clear_tmp(dfd);
  close(dfd);
  rmdir(tmpdir);
}

/* A cgroup removed while its fd is open: openat gives ENOENT, which is silent. */
static void test_removed_dir(void) {
  int dfd = make_tmp();
  rmdir(tmpdir);
  cg_metrics_t m = {0};
  errs_t e = {0};
  CHECK_INT(cgv2_read(dfd, ~0u, &m, on_err, &e), 0);
  CHECK_INT(e.count, 0);
  CHECK(!m.has_cpu_time && !m.has_mem_usage && !m.has_blkio);
  close(dfd);
}

/* Random garbage must never crash or report a file twice. */
static void test_fuzz(void) {
  static const char *const files[] = {"cpu.stat",   "cpu.max",     "memory.current",
                                      "memory.max", "memory.stat", "memory.events",
                                      "io.stat",    "pids.max",    "cpu.pressure"};
  static const char alphabet[] = "0123456789 \n\t:=.-maxrbytesio()unknowtalsfu\x01\xff";
  int dfd = make_tmp();
  unsigned seed = 12345;
  char buf[600];
  int bad_iters = 0;
  for (int iter = 0; iter < 3000; iter++) {
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
      size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
      for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
      put(dfd, files[f], buf, len);
    }
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(dfd, ~0u, &m, on_err, &e);
    bool ok = m.n_blkdev <= CG_MAX_BLKDEV;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
      ok = ok && errs_for(&e, files[f]) <= 1;
    bad_iters += !ok;
  }
  CHECK_INT(bad_iters, 0);
  clear_tmp(dfd);
  close(dfd);
  rmdir(tmpdir);
}

static int open_tree(const char *tree, const char *sub) {
  char path[4096];
  if (snprintf(path, sizeof(path), "%s/%s/sys/fs/cgroup/%s", fixture_dir(), tree, sub) >=
      (int)sizeof(path))
    return -1;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fprintf(stderr, "cannot open %s\n", path);
  return fd;
}

/* The fixture trees in tests/fixtures read without errors and give the sources' values. */
static void test_trees(void) {
  errs_t e = {0};
  int fd =
      open_tree("v2-kubepods",
                "kubepods.slice/kubepods-burstable.slice/"
                "kubepods-burstable-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice/"
                "cri-containerd-1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496"
                ".scope");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cg_metrics_t m = {0};
    CHECK_INT(cgv2_read(fd, ~0u, &m, on_err, &e), 14);
    CHECK_U64(m.cpu_user_us, 2915072455u);
    CHECK_U64(m.limits.mem_peak, 18772946944u);
    CHECK_U64(m.pids_current, 148);
    CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 29254180u);
    CHECK_INT(m.n_blkdev, 2);
    CHECK_DEV(&m, 253, 0, 45931053056u, 211814596608u, 1078394, 21426614);
    CHECK_DEV(&m, 259, 0, 48963873792u, 217588278272u, 1315370, 15358572);
    close(fd);
  }
  fd = open_tree("v2-kubepods",
                 "kubepods.slice/kubepods-besteffort.slice/"
                 "kubepods-besteffort-pod8712f785_1a3e_41ec_a00b_e2dcc77431cb.slice/"
                 "docker-73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd.scope");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cg_metrics_t m = {0};
    CHECK_INT(cgv2_read(fd, ~0u, &m, on_err, &e), 9);
    CHECK(m.limits.has_cpu_quota);
    CHECK_U64(m.limits.cpu_quota_us, 10000);
    CHECK_U64(m.cfs_throttled_periods, 76);
    CHECK_INT(m.n_blkdev, 2);
    CHECK(!m.has_pids_current && !m.has_oom_kill);
    close(fd);
  }
  /* Hybrid: the unified dir gives PSI (cpu without "full") and, without controllers, CPU time
   * from a 3-field cpu.stat. */
  fd = open_tree("hybrid", "unified/system.slice/"
                           "docker-ba7b10d15d16e10e3de7a2dcd408a3d971169ae303f46cfad4c5453c6326fee2"
                           ".scope");
  CHECK(fd >= 0);
  if (fd >= 0) {
    cg_metrics_t m = {0};
    CHECK_INT(cg_psi_read(fd, &m, on_err, &e), 3);
    CHECK(m.psi[CG_PSI_CPU].has_some && !m.psi[CG_PSI_CPU].has_full);
    CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 2798967170u);
    CHECK_U64(m.psi[CG_PSI_IO].full_total_us, 103282599u);
    CHECK(!m.has_cpu_time);
    cg_metrics_t c = {0};
    CHECK_INT(cgv2_read(fd, CG_GROUP_CPU, &c, on_err, &e), 1);
    CHECK(c.has_cpu_time && !c.has_cfs && !c.limits.has_cpu_quota);
    CHECK_U64(c.cpu_user_us, 120465);
    close(fd);
  }
  CHECK_INT(e.count, 0);
}

/* Debian 12's kernel (6.1) on a pure v2 host, from the guest tests (tests/vm): a container with
 * a CPU cap, memory and swap limits, an OOM kill, direct I/O to vda and swap on vdb. */
static void test_guest_tree(void) {
  errs_t e = {0};
  int fd = open_tree("guest-v2-debian12",
                     "docker/b0c5e1d2a3f4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0");
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  cg_metrics_t m = {0};
  CHECK(cgv2_read(fd, ~0u, &m, on_err, &e) > 0);
  CHECK_U64(m.cpu_user_us, 5174911);
  CHECK_U64(m.cpu_system_us, 5199983);
  CHECK_U64(m.cfs_periods, 212);
  CHECK_U64(m.cfs_throttled_periods, 207);
  CHECK_U64(m.cfs_throttled_us, 27179650);
  CHECK(m.limits.has_cpu_quota);
  CHECK_U64(m.limits.cpu_quota_us, 50000);
  CHECK_U64(m.limits.cpu_period_us, 100000);
  CHECK_U64(m.mem_usage, 12664832);
  CHECK_U64(m.limits.mem_limit, 16777216);
  CHECK_U64(m.mem_anon, 10547200);
  CHECK_U64(m.mem_file, 614400);
  CHECK_U64(m.mem_swap, 14553088);
  CHECK_U64(m.pgfault, 9341);
  CHECK_U64(m.pgmajfault, 87);
  CHECK_U64(m.oom_kill, 1);
  CHECK_U64(m.limits.mem_peak, 16777216);
  CHECK_INT(m.n_blkdev, 2);
  CHECK_DEV(&m, 254, 0, 2097152, 4194304, 32, 64);
  CHECK_DEV(&m, 254, 16, 274432, 21417984, 67, 5229);
  CHECK_U64(m.pids_current, 2);
  CHECK_U64(m.limits.pids_max, 64);
  CHECK_U64(m.psi[CG_PSI_CPU].some_total_us, 16087817);
  CHECK_U64(m.psi[CG_PSI_CPU].full_total_us, 14487532);
  CHECK(m.psi[CG_PSI_MEMORY].has_full && m.psi[CG_PSI_IO].has_full);
  CHECK_INT(e.count, 0);
  close(fd);
}

/* This machine's own cgroup v2 / unified tree, if any: no errors expected. */
static void test_live(void) {
  static const char *const dirs[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
  for (size_t i = 0; i < 2; i++) {
    char probe[256];
    snprintf(probe, sizeof(probe), "%s/cgroup.controllers", dirs[i]);
    if (access(probe, F_OK) != 0)
      continue;
    int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      continue;
    cg_metrics_t m = {0};
    errs_t e = {0};
    cgv2_read(fd, ~0u, &m, on_err, &e);
    for (int k = 0; k < e.count && k < 16; k++)
      fprintf(stderr, "live %s: error in %s (%d)\n", dirs[i], e.file[k], e.err[k]);
    CHECK_INT(e.count, 0);
    CHECK(m.has_cpu_time);
    close(fd);
    break;
  }
}

int main(void) {
  test_session_scope();
  test_system_slice();
  test_edited_scope();
  test_cpu_stat_no_controller();
  test_k8s_quota();
  test_io_stat_quirks();
  test_no_final_newline();
  test_proc_pressure_format();
  test_trees();
  test_guest_tree();
  test_malformed();
  test_many_devices();
  test_without_limits();
  test_removed_dir();
  test_fuzz();
  test_live();
  return test_result("test_cgroup_v2");
}
