/* hoststat_parse on real /proc/stat samples (tests/fixtures/real/proc-stat): a missing cpu22,
 * a 131 KiB intr line, a file with only the "cpu" line, guest columns, procs_running and
 * procs_blocked; hoststat_read through a fake ProcRoot; sums over CPU masks; /proc/loadavg. */
#include "hoststat.h"
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static hoststat_t h; /* large: not on the stack */

static char *slurp(const char *rel, size_t *len) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/proc-stat/%s/stat", real_fixture_dir(), rel);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "missing fixture %s\n", path);
    exit(1);
  }
  static char buf[1 << 20];
  *len = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  return buf;
}

static void test_below_missing_cpu22(void) {
  size_t len;
  char *t = slurp("below-24cpu-2", &len);
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  CHECK(h.has_all);
  CHECK_U64(h.n_cpus, 23);
  CHECK(!hs_cpumask_isset(&h.present, 22));
  CHECK(hs_cpumask_isset(&h.present, 23));
  /* cpu23 5937943 460201 3057286 230166670 230819 0 42628 0 0 0 */
  CHECK_U64(h.cpu[23].idle, 230166670ull + 230819);
  CHECK_U64(h.cpu[23].total, 5937943ull + 460201 + 3057286 + 230166670 + 230819 + 0 + 42628);
  CHECK_U64(h.all.idle, 5513630980ull + 5288390);
  CHECK(h.has_btime);
  CHECK_U64(h.btime, 1569873858);
  uint64_t idle, total;
  unsigned n;
  hs_cpumask_t m;
  hs_cpumask_zero(&m);
  hs_cpumask_set(&m, 21);
  hs_cpumask_set(&m, 22); /* offline: skipped */
  hs_cpumask_set(&m, 23);
  CHECK_INT(hoststat_sum(&h, &m, &idle, &total, &n), 0);
  CHECK_U64(n, 2);
  CHECK_U64(idle, 230250433ull + 209736 + 230166670 + 230819);
  hs_cpumask_zero(&m);
  hs_cpumask_set(&m, 22);
  CHECK_INT(hoststat_sum(&h, &m, &idle, &total, &n), -ENOENT);
  CHECK_INT(hoststat_sum(&h, NULL, &idle, &total, &n), 0);
  CHECK_U64(idle, h.all.idle);
}

static void test_long_intr(void) {
  size_t len;
  char *t = slurp("procfs-8cpu-3", &len);
  CHECK(len > 131072);
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  CHECK_U64(h.n_cpus, 8);
  CHECK_U64(h.cpu[7].idle, 1139282ull + 555);
  CHECK(h.has_btime); /* after the long intr line */
  CHECK_U64(h.btime, 1418183276);

  /* The same file through hoststat_read and a fake ProcRoot. */
  char dir[] = "/tmp/hoststat-test.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[4200];
  snprintf(path, sizeof(path), "%s/stat", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fwrite(t, 1, len, f);
    fclose(f);
  }
  memset(&h, 0, sizeof(h));
  CHECK_INT(hoststat_read(dir, &h), 0);
  CHECK_U64(h.n_cpus, 8);
  CHECK_U64(h.btime, 1418183276);
  unlink(path);
  rmdir(dir);
  CHECK_INT(hoststat_read("/nonexistent-proc", &h), -ENOENT);
}

static void test_cpu_line_only(void) {
  size_t len;
  char *t = slurp("kepler-cpu-only-5", &len);
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  CHECK_U64(h.n_cpus, 0);
  CHECK(!h.has_btime);
  /* guest (5327346) is inside user already: not added */
  CHECK_U64(h.all.total,
            8608833ull + 7605 + 4179891 + 1295036209 + 426072 + 15697167 + 1285624 + 0);
  CHECK_U64(h.all.idle, 1295036209ull + 426072);
  /* A mask with no per-CPU lines falls back to the whole host. */
  hs_cpumask_t m;
  hs_cpumask_zero(&m);
  hs_cpumask_set(&m, 0);
  uint64_t idle, total;
  unsigned n;
  CHECK_INT(hoststat_sum(&h, &m, &idle, &total, &n), 0);
  CHECK_U64(idle, h.all.idle);
}

static void test_guest_columns(void) {
  size_t len;
  char *t = slurp("node-exporter-8cpu-4", &len);
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  /* cpu0 44490 19 21045 1087069 220 1 3410 0 2 1 */
  CHECK_U64(h.cpu[0].total, 44490ull + 19 + 21045 + 1087069 + 220 + 1 + 3410);
  uint64_t idle, total;
  unsigned n;
  CHECK_INT(hoststat_sum(&h, NULL, &idle, &total, &n), 0);
  CHECK_U64(total, 301854ull + 612 + 111922 + 8979004 + 3552 + 2 + 3944);
}

static void test_synthetic(void) {
  /* Old kernels: 4 numbers; no final newline; junk lines and a bad cpu line ignored. */
  const char *t = "cpu  10 0 10 80\ncpuX 1 2 3\ncpu0 5 0 5 40\ncpu1 5 0 5 x\nintr 1 2";
  CHECK_INT(hoststat_parse(t, strlen(t), &h), 0);
  CHECK_U64(h.all.total, 100);
  CHECK_U64(h.all.idle, 80);
  CHECK_U64(h.n_cpus, 1);
  CHECK_U64(h.cpu[0].idle, 40);
  const char *bad = "intr 1 2 3\nctxt 5\n";
  CHECK_INT(hoststat_parse(bad, strlen(bad), &h), -EINVAL);
  const char *ovf = "cpu  99999999999999999999999 0 0 0\n";
  CHECK_INT(hoststat_parse(ovf, strlen(ovf), &h), -EINVAL);
  CHECK_INT(hoststat_parse("", 0, &h), -EINVAL);
}

/* procs_running / procs_blocked from the real files (all four have them) and synthetic ones. */
static void test_procs(void) {
  size_t len;
  char *t = slurp("node-exporter-8cpu-4", &len);
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  CHECK(h.has_procs);
  CHECK_U64(h.procs_running, 2);
  CHECK_U64(h.procs_blocked, 0);
  t = slurp("procfs-8cpu-3", &len); /* after a 131 KiB intr line */
  CHECK_INT(hoststat_parse(t, len, &h), 0);
  CHECK(h.has_procs);
  CHECK_U64(h.procs_running, 2);
  CHECK_U64(h.procs_blocked, 1);
  const char *one = "cpu  1 0 1 8\nprocs_running 7\n";
  CHECK_INT(hoststat_parse(one, strlen(one), &h), 0);
  CHECK(!h.has_procs); /* both or none */
  const char *both = "cpu  1 0 1 8\nprocs_blocked 3\nprocs_running 12";
  CHECK_INT(hoststat_parse(both, strlen(both), &h), 0);
  CHECK(h.has_procs);
  CHECK_U64(h.procs_running, 12);
  CHECK_U64(h.procs_blocked, 3);
  const char *bad = "cpu  1 0 1 8\nprocs_running x\nprocs_blocked 3\n";
  CHECK_INT(hoststat_parse(bad, strlen(bad), &h), 0);
  CHECK(!h.has_procs);
}

/* /proc/loadavg as the kernel prints it ("%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n"). */
static void test_loadavg_file(void) {
  hostload_t l;
  const char *t = "2.82 0.77 0.27 3/109 19540\n"; /* this machine, 6.18 */
  CHECK_INT(hostload_parse(t, strlen(t), &l), 0);
  CHECK_NEAR(l.avg[0], 2.82, 1e-12);
  CHECK_NEAR(l.avg[1], 0.77, 1e-12);
  CHECK_NEAR(l.avg[2], 0.27, 1e-12);
  CHECK_INT(l.hundredths[0], 282);
  CHECK_U64(l.running, 3);
  CHECK_U64(l.threads, 109);
  CHECK_U64(l.last_pid, 19540);
  const char *big = "1234.05 0.00 10.10 6010/6244 4194303"; /* no newline */
  CHECK_INT(hostload_parse(big, strlen(big), &l), 0);
  CHECK_INT(l.hundredths[0], 123405);
  CHECK_NEAR(l.avg[2], 10.10, 1e-12);
  CHECK_U64(l.running, 6010);
  static const char *const bad[] = {"",
                                    "2.82 0.77 0.27\n",
                                    "2.8 0.77 0.27 3/109 1\n",
                                    "2.82 0.77 0.27 3 109 1\n",
                                    "2.82 0.77 -0.27 3/109 1\n",
                                    "2.82 0.77 0.27 3/109 1 extra\n",
                                    "99999999999999999999.00 0.77 0.27 3/109 1\n",
                                    "a.82 0.77 0.27 3/109 1\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK_INT(hostload_parse(bad[i], strlen(bad[i]), &l), -EINVAL);

  /* Through a fake ProcRoot, and the real one. */
  char dir[] = "/tmp/hostload-test.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[4200];
  snprintf(path, sizeof(path), "%s/loadavg", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(t, f);
    fclose(f);
  }
  int fds = count_fds();
  CHECK_INT(hostload_read(dir, &l), 0);
  CHECK_U64(l.last_pid, 19540);
  f = fopen(path, "w");
  if (f) { /* longer than any loadavg line: refused, not truncated */
    for (int i = 0; i < 40; i++)
      fputs("1234567890", f);
    fclose(f);
  }
  CHECK_INT(hostload_read(dir, &l), -EINVAL);
  CHECK_INT(count_fds(), fds);
  unlink(path);
  rmdir(dir);
  CHECK_INT(hostload_read("/nonexistent-proc", &l), -ENOENT);
  if (access("/proc/loadavg", R_OK) == 0) {
    CHECK_INT(hostload_read("/proc", &l), 0);
    CHECK(l.running >= 1 && l.threads >= l.running); /* this thread is running */
  }
}

int main(void) {
  test_below_missing_cpu22();
  test_long_intr();
  test_cpu_line_only();
  test_guest_columns();
  test_synthetic();
  test_procs();
  test_loadavg_file();
  return test_result("test_hoststat");
}
