/* hoststat_parse on real /proc/stat samples (shared/fixtures-real/proc-stat): a missing cpu22,
 * a 131 KiB intr line, a file with only the "cpu" line, guest columns; hoststat_read through a
 * fake ProcRoot; sums over CPU masks. */
#include "hoststat.h"
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static hoststat_t h; /* large: not on the stack */

static char *slurp(const char *rel, size_t *len) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/proc-stat/%s/stat", shared_fixture_dir(), rel);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    TEST_SKIP("shared fixtures not found (set SHARED_FIXTURES)");
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

int main(void) {
  test_below_missing_cpu22();
  test_long_intr();
  test_cpu_line_only();
  test_guest_columns();
  test_synthetic();
  return test_result("test_hoststat");
}
