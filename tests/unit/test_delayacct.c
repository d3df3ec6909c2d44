/* The monotonic accumulator (delay_merge, delay_route_exit): growth, exits, PID reuse, processes
 * moved in, counter wrap and resets, delay accounting switched off and on, exit records routed
 * by TGID and by parent, bounded memory; the /proc/PID/stat start time parser on real samples;
 * TGIDs of a fake cgroup tree. No root, no kernel round trip. */
#include "delayacct.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint32_t ALL = TS_F_ALL_DELAYS | TS_F_CTXSW;

static delay_proc_sample_t mk(pid_t tgid, uint64_t start_ms, uint64_t cpu, uint64_t blkio,
                              uint64_t nvcsw, uint64_t nivcsw) {
  delay_proc_sample_t s;
  memset(&s, 0, sizeof(s));
  s.ts.tgid = tgid;
  s.start_ms = start_ms;
  s.ts.stats.version = 16;
  s.ts.stats.present = ALL | TS_F_BASIC | TS_F_TGID;
  s.ts.stats.delay_ns[TS_DELAY_CPU] = cpu;
  s.ts.stats.delay_ns[TS_DELAY_BLKIO] = blkio;
  s.ts.stats.nvcsw = nvcsw;
  s.ts.stats.nivcsw = nivcsw;
  return s;
}

static size_t entries(void) {
  delay_stats_t st;
  delay_get_stats(&st);
  return st.entries;
}

static void test_growth_exit_reuse(void) {
  delay_state_t *st = delay_state_create();
  delay_totals_t t;
  /* first read at t=10 s: the zero point */
  delay_proc_sample_t s[3] = {mk(100, 1000, 500, 50, 10, 1), mk(200, 2000, 700, 0, 5, 5)};
  delay_merge(st, s, 2, 10000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 0);
  CHECK_U64(t.nvcsw, 0);
  CHECK_U64(t.present & ALL, ALL);
  CHECK(t.delay_on);
  CHECK_U64(t.n_tasks, 2);

  /* growth */
  s[0] = mk(100, 1000, 800, 60, 12, 3);
  s[1] = mk(200, 2000, 900, 0, 6, 9);
  delay_merge(st, s, 2, 20000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 300 + 200);
  CHECK_U64(t.delay_ns[TS_DELAY_BLKIO], 10);
  CHECK_U64(t.nvcsw, 2 + 1);
  CHECK_U64(t.nivcsw, 2 + 4);

  /* 200 exits: its share stays; a new process (born at 25 s, after the last read) counts in
   * full */
  s[1] = mk(300, 25000, 100, 0, 1, 1);
  delay_merge(st, s, 2, 30000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 500 + 100);
  CHECK_U64(t.nvcsw, 3 + 1);
  CHECK_U64(entries(), 3); /* 200 is kept one more read for a late exit record */
  delay_merge(st, s, 2, 40000, true, &t);
  CHECK_U64(entries(), 2); /* ...then dropped */
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 600);

  /* PID 100 reused by a process born at 45 s with smaller values: nothing subtracted, the new
   * one counted in full */
  s[0] = mk(100, 45000, 40, 0, 2, 0);
  delay_merge(st, s, 2, 50000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 640);
  CHECK_U64(t.nvcsw, 6);
  /* reused by a process that existed before the last read (moved in): from now on only */
  s[0] = mk(100, 30000, 9999, 0, 99, 0);
  delay_merge(st, s, 2, 60000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 640);
  s[0] = mk(100, 30000, 10009, 0, 99, 0);
  delay_merge(st, s, 2, 70000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 650);

  /* all gone: totals stay, memory is released */
  delay_merge(st, NULL, 0, 80000, true, &t);
  delay_merge(st, NULL, 0, 90000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 650);
  CHECK_U64(entries(), 0);
  delay_state_destroy(st);
}

static void test_wrap_and_backwards(void) {
  delay_state_t *st = delay_state_create();
  delay_totals_t t;
  delay_proc_sample_t s = mk(7, 1000, 1000, (1ull << 62) + 5, 0xFFFFFFF0u, 100);
  delay_merge(st, &s, 1, 10000, true, &t);
  /* nvcsw wraps at 2^32 (32-bit kernel); blkio total reset to 0 by the kernel's s64 overflow */
  s = mk(7, 1000, 1000, 7, 0x10, 100);
  delay_merge(st, &s, 1, 20000, true, &t);
  CHECK_U64(t.nvcsw, 0x20);
  CHECK_U64(t.delay_ns[TS_DELAY_BLKIO], 7);
  /* delay values drop (accounting switched off, racing thread exit): no decrease, and no
   * double count when they come back */
  s = mk(7, 1000, 0, 7, 0x10, 100);
  delay_merge(st, &s, 1, 30000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 0);
  s = mk(7, 1000, 1500, 7, 0x10, 100);
  delay_merge(st, &s, 1, 40000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 500);
  /* a small decrease of a context-switch counter (a thread's share leaving the TGID sum) */
  s = mk(7, 1000, 1500, 7, 0x08, 100);
  delay_merge(st, &s, 1, 50000, true, &t);
  CHECK_U64(t.nvcsw, 0x20);
  s = mk(7, 1000, 1500, 7, 0x12, 100);
  delay_merge(st, &s, 1, 60000, true, &t);
  CHECK_U64(t.nvcsw, 0x22);
  delay_state_destroy(st);
}

static void test_delay_switched_on(void) {
  delay_state_t *st = delay_state_create();
  delay_totals_t t;
  delay_proc_sample_t s = mk(8, 1000, 0, 0, 10, 10);
  delay_merge(st, &s, 1, 10000, false, &t);
  CHECK(!t.delay_on);
  /* switched on: the CPU delay jumps to the scheduler's lifetime figure: re-based, not added */
  s = mk(8, 1000, 5000000, 0, 20, 20);
  delay_merge(st, &s, 1, 20000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 0);
  CHECK_U64(t.nvcsw, 10); /* context switches are not delays: counted */
  s = mk(8, 1000, 5000100, 0, 20, 20);
  delay_merge(st, &s, 1, 30000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 100);
  delay_state_destroy(st);
}

static ts_exit_record_t pid_record(uint32_t pid, uint32_t tgid, uint32_t ppid, uint64_t etime_ms,
                                   uint64_t cpu, uint64_t nvcsw) {
  ts_exit_record_t r;
  memset(&r, 0, sizeof(r));
  r.has_pid = true;
  r.pid = pid;
  r.pid_stats.version = 16;
  r.pid_stats.present = ALL | TS_F_BASIC | TS_F_TGID;
  r.pid_stats.pid = pid;
  r.pid_stats.tgid = tgid;
  r.pid_stats.ppid = ppid;
  r.pid_stats.etime_us = etime_ms * 1000;
  r.pid_stats.delay_ns[TS_DELAY_CPU] = cpu;
  r.pid_stats.nvcsw = nvcsw;
  return r;
}

static void test_exit_records(void) {
  delay_state_t *a = delay_state_create(), *b = delay_state_create();
  delay_totals_t t;
  delay_stats_t before, after;
  /* container a: a shell (pid 10) and a worker (pid 11); container b: pid 20 */
  delay_proc_sample_t sa[2] = {mk(10, 1000, 100, 0, 1, 1), mk(11, 5000, 200, 0, 1, 1)};
  delay_proc_sample_t sb = mk(20, 1000, 100, 0, 1, 1);
  delay_merge(a, sa, 2, 10000, true, &t);
  delay_merge(b, &sb, 1, 10000, true, &t);

  /* worker 11 exits at 12 s (started at 5 s: etime 7 s) with more delay than last read */
  delay_get_stats(&before);
  ts_exit_record_t r = pid_record(11, 11, 10, 7000, 260, 4);
  CHECK_INT(delay_route_exit(&r, 12000), 1);
  /* the same record again (duplicate): the entry is closed, nothing more */
  CHECK_INT(delay_route_exit(&r, 12000), 0);
  /* next read of a: 11 is gone; its last 60 ns and 3 switches are kept */
  delay_merge(a, sa, 1, 20000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 60);
  CHECK_U64(t.nvcsw, 3);

  /* a short-lived child of the shell, born at 21 s after a's last read, exits at 21.5 s */
  r = pid_record(30, 30, 10, 500, 40, 2);
  CHECK_INT(delay_route_exit(&r, 21500), 1);
  /* a thread (tid 31 of tgid 10) exits: skipped, the group's totals hold it */
  r = pid_record(31, 10, 1, 500, 40, 2);
  CHECK_INT(delay_route_exit(&r, 21500), 0);
  /* a process of nobody we know */
  r = pid_record(40, 40, 39, 500, 40, 2);
  CHECK_INT(delay_route_exit(&r, 21500), 0);
  /* a child of the shell that existed before a's last read (so not in the container): no */
  r = pid_record(41, 41, 10, 15000, 40, 2);
  CHECK_INT(delay_route_exit(&r, 21500), 0);
  /* a record whose start does not match the entry (PID 20 reused, the record of the new one,
   * started after b's last read, parent unknown): not attributed to the old process */
  r = pid_record(20, 20, 99, 1000, 5000, 9);
  CHECK_INT(delay_route_exit(&r, 20000), 0);
  delay_get_stats(&after);
  CHECK_U64(after.exits_matched - before.exits_matched, 1);
  CHECK_U64(after.exits_by_parent - before.exits_by_parent, 1);
  CHECK_U64(after.exits_threads - before.exits_threads, 1);
  CHECK_U64(after.exits_unrouted - before.exits_unrouted, 4); /* + the duplicate */

  delay_merge(a, sa, 1, 30000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 60 + 40);
  CHECK_U64(t.nvcsw, 3 + 2);
  delay_merge(b, &sb, 1, 30000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 0);

  /* a multi-threaded process of b exits: the TGID part (version 0, no context switches) */
  r = pid_record(22, 21, 20, 100, 5, 1);
  memset(&r.tgid_stats, 0, sizeof(r.tgid_stats));
  r.has_tgid = true;
  r.tgid = 21;
  r.tgid_stats.version = 16;
  r.tgid_stats.present = ALL;
  r.tgid_stats.delay_ns[TS_DELAY_CPU] = 900;
  delay_proc_sample_t sb2[2] = {sb, mk(21, 15000, 300, 0, 50, 50)};
  delay_merge(b, sb2, 2, 40000, true, &t);
  CHECK_INT(delay_route_exit(&r, 45000), 1);
  delay_merge(b, &sb, 1, 50000, true, &t);
  CHECK_U64(t.delay_ns[TS_DELAY_CPU], 600);
  CHECK_U64(t.nvcsw, 0); /* the TGID part's zero switches subtract nothing */

  delay_state_destroy(a);
  delay_state_destroy(b);
  CHECK_U64(entries(), 0);
}

static void test_many_processes_bounded(void) {
  delay_state_t *st = delay_state_create();
  delay_totals_t t;
  static delay_proc_sample_t s[5000];
  for (int i = 0; i < 5000; i++)
    s[i] = mk(1000 + i, 1000, 10, 0, 1, 1);
  delay_merge(st, s, 5000, 10000, true, &t);
  CHECK_U64(entries(), 5000);
  for (int round = 0; round < 3; round++)
    delay_merge(st, NULL, 0, 20000 + round * 10000, true, &t);
  CHECK_U64(entries(), 0);
  delay_state_destroy(st);
}

static void test_starttime(void) {
  static const struct {
    const char *dir;
    uint64_t start;
  } cases[] = {
      {"runc-gunicorn-2", 9126532}, {"procfs-parens-spaces-7", 10839175}, {"procfs-vim-8", 82375}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char path[4096], buf[4096];
    snprintf(path, sizeof(path), "%s/proc-pid-stat/%s/stat", real_fixture_dir(), cases[i].dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
      fprintf(stderr, "missing fixture %s\n", path);
      exit(1);
    }
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    uint64_t v = 0;
    CHECK_INT(delay_parse_starttime(buf, len, &v), 0);
    CHECK_U64(v, cases[i].start);
  }
  uint64_t v;
  const char *bad = "12 (x) S 1 2";
  CHECK_INT(delay_parse_starttime(bad, strlen(bad), &v), -EINVAL);
  CHECK_INT(delay_parse_starttime("no paren", 8, &v), -EINVAL);
}

int main(void) {
  test_growth_exit_reuse();
  test_wrap_and_backwards();
  test_delay_switched_on();
  test_exit_records();
  test_many_processes_bounded();
  test_starttime();
  return test_result("test_delayacct");
}
