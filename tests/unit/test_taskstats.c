/* taskstats_parse across struct taskstats versions 8, 10, 14, 15 (the broken layout), 16 and a
 * future 17; shorter, torn and longer payloads; the nested AGGR attributes of replies and exit
 * records. Fixture payloads are built by hand at the byte offsets of each version's layout in
 * the kernel's include/uapi/linux/taskstats.h history (v8 ends after freepages_delay_total, v9
 * adds thrashing, v10 ac_btime64, v11 compact, v12 ac_tgid..., v13 wpcopy, v14 irq, v15 puts
 * max/min after every delay total, v16 moves them to the end). No root, no kernel needed.
 * As root, where the kernel has TASKSTATS: a batch of 256 real TGIDs loses no reply, also when
 * the receive buffer is shrunk under genl.c so that replies are dropped (ENOBUFS) and resent. */
#define _GNU_SOURCE
#include "genl.h"
#include "genl_testing.h"
#include "taskstats.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/netlink.h>
#include <linux/taskstats.h>

/* Offsets in the v16 layout (v2..v14 are prefixes of it). */
enum {
  O_CPU = 24,
  O_BLKIO = 40,
  O_SWAPIN = 56,
  O_PID = 128,
  O_PPID = 132,
  O_BTIME = 136,
  O_ETIME = 144,
  O_NVCSW = 272,
  O_NIVCSW = 280,
  O_FREEPAGES = 320,
  O_THRASHING = 336,
  O_BTIME64 = 344,
  O_COMPACT = 360,
  O_TGID = 368,
  O_WPCOPY = 408,
  O_IRQ = 424,
  O_MAXMIN16 = 432,
};
/* Sizes of each version's struct. */
enum { SZ_V8 = 328, SZ_V9 = 344, SZ_V10 = 352, SZ_V13 = 416, SZ_V14 = 432, SZ_V16 = 560 };

/* The installed header (v13 on Debian 12) must agree with the hand-written offsets. */
_Static_assert(offsetof(struct taskstats, cpu_delay_total) == O_CPU, "cpu");
_Static_assert(offsetof(struct taskstats, ac_pid) == O_PID, "pid");
_Static_assert(offsetof(struct taskstats, ac_etime) == O_ETIME, "etime");
_Static_assert(offsetof(struct taskstats, nivcsw) == O_NIVCSW, "nivcsw");
_Static_assert(offsetof(struct taskstats, freepages_delay_total) == O_FREEPAGES, "freepages");

static unsigned char buf[1024];

static void put64(size_t off, uint64_t v) {
  memcpy(buf + off, &v, 8);
}
static void put32(size_t off, uint32_t v) {
  memcpy(buf + off, &v, 4);
}
static void put16(size_t off, uint16_t v) {
  memcpy(buf + off, &v, 2);
}

/* Fills the buffer like a kernel of version v (v16 layout offsets, or v15's), with 0xAB garbage
 * everywhere else, so a field read from a wrong offset shows. */
static size_t shift15(int v, size_t off) {
  if (v != 15)
    return off;
  static const size_t totals[] = {O_CPU,       O_BLKIO,   O_SWAPIN, O_FREEPAGES,
                                  O_THRASHING, O_COMPACT, O_WPCOPY, O_IRQ};
  size_t s = 0;
  for (size_t i = 0; i < 8; i++)
    if (totals[i] < off)
      s += 16;
  return off + s;
}

static void fill(int v) {
  memset(buf, 0xAB, sizeof(buf));
  put16(0, (uint16_t)v);
  put64(shift15(v, O_CPU), 1001);
  put64(shift15(v, O_BLKIO), 1002);
  put64(shift15(v, O_SWAPIN), 1003);
  put32(shift15(v, O_PID), 4242);
  put32(shift15(v, O_PPID), 4241);
  put32(shift15(v, O_BTIME), 1700000000);
  put64(shift15(v, O_ETIME), 5000000);
  put64(shift15(v, O_NVCSW), 77);
  put64(shift15(v, O_NIVCSW), 88);
  put64(shift15(v, O_FREEPAGES), 1004);
  if (v >= 9)
    put64(shift15(v, O_THRASHING), 1005);
  if (v >= 10)
    put64(shift15(v, O_BTIME64), 1700000000);
  if (v >= 11)
    put64(shift15(v, O_COMPACT), 1006);
  if (v >= 12)
    put32(shift15(v, O_TGID), 4240);
  if (v >= 13)
    put64(shift15(v, O_WPCOPY), 1007);
  if (v >= 14)
    put64(shift15(v, O_IRQ), 1008);
  if (v == 15)
    for (int k = 0; k < 8; k++) {
      static const size_t totals[] = {O_CPU,       O_BLKIO,   O_SWAPIN, O_FREEPAGES,
                                      O_THRASHING, O_COMPACT, O_WPCOPY, O_IRQ};
      put64(shift15(15, totals[k]) + 8, 999999); /* max */
      put64(shift15(15, totals[k]) + 16, 1);     /* min */
    }
  if (v >= 16)
    for (int i = 0; i < 16; i++)
      put64(O_MAXMIN16 + 8 * (size_t)i, 999999);
}

static void check_common(const ts_stats_t *s) {
  CHECK_U64(s->delay_ns[TS_DELAY_CPU], 1001);
  CHECK_U64(s->delay_ns[TS_DELAY_BLKIO], 1002);
  CHECK_U64(s->delay_ns[TS_DELAY_SWAPIN], 1003);
  CHECK_U64(s->delay_ns[TS_DELAY_FREEPAGES], 1004);
  CHECK(s->present & TS_F_CTXSW);
  CHECK_U64(s->nvcsw, 77);
  CHECK_U64(s->nivcsw, 88);
  CHECK(s->present & TS_F_BASIC);
  CHECK_U64(s->pid, 4242);
  CHECK_U64(s->ppid, 4241);
  CHECK_U64(s->btime, 1700000000);
  CHECK_U64(s->etime_us, 5000000);
}

static void test_v8(void) {
  ts_stats_t s;
  fill(8);
  CHECK(taskstats_parse(buf, SZ_V8, 0, &s) > 0);
  CHECK_INT(s.version, 8);
  check_common(&s);
  uint32_t want = TS_F_DELAY(TS_DELAY_CPU) | TS_F_DELAY(TS_DELAY_BLKIO) |
                  TS_F_DELAY(TS_DELAY_SWAPIN) | TS_F_DELAY(TS_DELAY_FREEPAGES);
  CHECK_U64(s.present & TS_F_ALL_DELAYS, want);
  CHECK(!(s.present & (TS_F_BTIME64 | TS_F_TGID)));
  CHECK_U64(s.delay_ns[TS_DELAY_THRASHING], 0);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 0);

  /* A v8 kernel's payload followed by bytes it does not own: the version decides, not the
   * length. */
  CHECK(taskstats_parse(buf, SZ_V16, 0, &s) > 0);
  CHECK_U64(s.present & TS_F_ALL_DELAYS, want);
  CHECK_U64(s.delay_ns[TS_DELAY_THRASHING], 0);
  CHECK_U64(s.delay_ns[TS_DELAY_COMPACT], 0);
  CHECK_U64(s.tgid, 0);
}

static void test_v10(void) {
  ts_stats_t s;
  fill(10);
  CHECK(taskstats_parse(buf, SZ_V10, 0, &s) > 0);
  check_common(&s);
  CHECK(s.present & TS_F_DELAY(TS_DELAY_THRASHING));
  CHECK_U64(s.delay_ns[TS_DELAY_THRASHING], 1005);
  CHECK(s.present & TS_F_BTIME64);
  CHECK_U64(s.btime64, 1700000000);
  CHECK(!(s.present & TS_F_DELAY(TS_DELAY_COMPACT)));
  CHECK(!(s.present & TS_F_DELAY(TS_DELAY_WPCOPY)));
  CHECK(!(s.present & TS_F_DELAY(TS_DELAY_IRQ)));
  CHECK(!(s.present & TS_F_TGID));
}

static void test_v14(void) {
  ts_stats_t s;
  fill(14);
  CHECK(taskstats_parse(buf, SZ_V14, 0, &s) > 0);
  check_common(&s);
  CHECK_U64(s.present & TS_F_ALL_DELAYS, TS_F_ALL_DELAYS);
  CHECK_U64(s.delay_ns[TS_DELAY_COMPACT], 1006);
  CHECK_U64(s.delay_ns[TS_DELAY_WPCOPY], 1007);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 1008);
  CHECK(s.present & TS_F_TGID);
  CHECK_U64(s.tgid, 4240);

  /* Shorter: a torn irq_delay_total is absent, not half-read. */
  CHECK(taskstats_parse(buf, O_IRQ + 4, 0, &s) > 0);
  CHECK(!(s.present & TS_F_DELAY(TS_DELAY_IRQ)));
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 0);
  CHECK_U64(s.delay_ns[TS_DELAY_WPCOPY], 1007);

  /* Much shorter: only the first delays; context switches and basic fields absent. */
  CHECK(taskstats_parse(buf, 64, 0, &s) > 0);
  CHECK_U64(s.present,
            TS_F_DELAY(TS_DELAY_CPU) | TS_F_DELAY(TS_DELAY_BLKIO) | TS_F_DELAY(TS_DELAY_SWAPIN));
  CHECK_U64(s.nvcsw, 0);
  /* nvcsw there, nivcsw torn: neither is flagged. */
  CHECK(taskstats_parse(buf, O_NIVCSW + 7, 0, &s) > 0);
  CHECK(!(s.present & TS_F_CTXSW));
}

static void test_v15(void) {
  ts_stats_t s;
  fill(15);
  CHECK(taskstats_parse(buf, SZ_V16, 0, &s) > 0);
  CHECK_INT(s.version, 15);
  check_common(&s);
  CHECK_U64(s.present & TS_F_ALL_DELAYS, TS_F_ALL_DELAYS);
  CHECK_U64(s.delay_ns[TS_DELAY_THRASHING], 1005);
  CHECK_U64(s.delay_ns[TS_DELAY_COMPACT], 1006);
  CHECK_U64(s.delay_ns[TS_DELAY_WPCOPY], 1007);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 1008);
  CHECK_U64(s.tgid, 4240);
  CHECK_U64(s.btime64, 1700000000);
}

static void test_v16_and_later(void) {
  ts_stats_t s;
  fill(16);
  CHECK(taskstats_parse(buf, SZ_V16, 0, &s) > 0);
  CHECK_INT(s.version, 16);
  check_common(&s);
  CHECK_U64(s.present & TS_F_ALL_DELAYS, TS_F_ALL_DELAYS);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 1008);
  CHECK_U64(s.tgid, 4240);

  /* A future version, longer: read with the v16 layout, the tail ignored. */
  fill(17);
  CHECK(taskstats_parse(buf, SZ_V16 + 64, 0, &s) > 0);
  CHECK_INT(s.version, 17);
  check_common(&s);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 1008);

  /* Version 0 (the TGID part of an exit record): the hint decides the layout... */
  fill(15);
  put16(0, 0);
  CHECK(taskstats_parse(buf, SZ_V16, 15, &s) > 0);
  CHECK_INT(s.version, 15);
  CHECK_U64(s.delay_ns[TS_DELAY_IRQ], 1008);
  /* ...without one, the newest layout, limited by the length. */
  fill(13);
  put16(0, 0);
  CHECK(taskstats_parse(buf, SZ_V13, 0, &s) > 0);
  CHECK_INT(s.version, TS_KNOWN_VERSION);
  CHECK_U64(s.delay_ns[TS_DELAY_WPCOPY], 1007);
  CHECK(!(s.present & TS_F_DELAY(TS_DELAY_IRQ)));
}

static void test_bad(void) {
  ts_stats_t s;
  CHECK_INT(taskstats_parse(NULL, 8, 0, &s), -EINVAL);
  CHECK_INT(taskstats_parse(NULL, 0, 0, &s), 0);
  CHECK_U64(s.present, 0);
  fill(1);
  CHECK_INT(taskstats_parse(buf, 80, 0, &s), -EPROTONOSUPPORT);
  /* One byte: no version, nothing read. */
  CHECK_INT(taskstats_parse(buf, 1, 16, &s), 0);
  CHECK_U64(s.present, 0);
  CHECK_STR(taskstats_delay_name(TS_DELAY_CPU), "cpu");
  CHECK_STR(taskstats_delay_name(TS_DELAY_IRQ), "irq");
  CHECK(taskstats_delay_name(TS_DELAY_COUNT) == NULL);
}

/* Appends one attribute to out at *len. */
static void attr(unsigned char *out, size_t *len, uint16_t type, const void *data, size_t dlen) {
  struct nlattr h = {.nla_len = (uint16_t)(NLA_HDRLEN + dlen), .nla_type = type};
  memcpy(out + *len, &h, sizeof(h));
  memcpy(out + *len + NLA_HDRLEN, data, dlen);
  size_t step = NLA_ALIGN(NLA_HDRLEN + dlen);
  memset(out + *len + NLA_HDRLEN + dlen, 0, step - NLA_HDRLEN - dlen);
  *len += step;
}

static void test_nested(void) {
  /* A TASKSTATS_CMD_GET reply: AGGR_TGID { TGID, STATS }. */
  static unsigned char inner[2048], outer[4096];
  size_t il = 0, ol = 0;
  uint32_t id = 4240;
  fill(16);
  attr(inner, &il, TASKSTATS_TYPE_TGID, &id, 4);
  attr(inner, &il, TASKSTATS_TYPE_STATS, buf, SZ_V16);
  ts_stats_t s;
  uint32_t got = 0;
  CHECK_INT(taskstats_parse_aggr(inner, il, 0, &got, &s), 0);
  CHECK_U64(got, 4240);
  CHECK_U64(s.delay_ns[TS_DELAY_CPU], 1001);
  /* No STATS: an error. Truncated nesting: whatever is whole is read, the rest ignored. */
  CHECK_INT(taskstats_parse_aggr(inner, 8, 0, &got, &s), -EBADMSG);
  CHECK_INT(taskstats_parse_aggr(inner, il - 3, 0, &got, &s), -EBADMSG);

  /* An exit message: AGGR_PID { PID, STATS v15 } then AGGR_TGID { TGID, STATS version 0 }. */
  size_t pl = 0;
  static unsigned char pid_part[2048];
  uint32_t pid = 4242;
  fill(15);
  attr(pid_part, &pl, TASKSTATS_TYPE_PID, &pid, 4);
  attr(pid_part, &pl, TASKSTATS_TYPE_STATS, buf, SZ_V16);
  attr(outer, &ol, TASKSTATS_TYPE_AGGR_PID, pid_part, pl);
  il = 0;
  put16(0, 0); /* signal->stats is never stamped with a version */
  put64(shift15(15, O_CPU), 5005);
  attr(inner, &il, TASKSTATS_TYPE_TGID, &id, 4);
  attr(inner, &il, TASKSTATS_TYPE_STATS, buf, SZ_V16);
  attr(outer, &ol, TASKSTATS_TYPE_AGGR_TGID, inner, il);
  ts_exit_record_t rec;
  CHECK_INT(taskstats_parse_exit(outer, ol, &rec), 0);
  CHECK(rec.has_pid);
  CHECK_U64(rec.pid, 4242);
  CHECK_U64(rec.pid_stats.delay_ns[TS_DELAY_CPU], 1001);
  CHECK(rec.has_tgid);
  CHECK_U64(rec.tgid, 4240);
  CHECK_INT(rec.tgid_stats.version, 15);
  CHECK_U64(rec.tgid_stats.delay_ns[TS_DELAY_CPU], 5005);
  CHECK_U64(rec.tgid_stats.delay_ns[TS_DELAY_IRQ], 1008);
  CHECK_INT(taskstats_parse_exit(outer, 3, &rec), -EBADMSG);
  CHECK_INT(taskstats_parse_exit(NULL, 0, &rec), -EBADMSG);
}

#define NKIDS 256
static pid_t kids[NKIDS];
static bool reaped[NKIDS];

/* Queries every child's TGID in one call; returns how many got their own answer: stats for a
 * live child, -ESRCH for a reaped one (so a reply matched to the wrong request shows). */
static int query_kids(void) {
  ts_query_t q[NKIDS];
  for (int i = 0; i < NKIDS; i++)
    q[i] = (ts_query_t){.tgid = kids[i]};
  CHECK_INT(taskstats_query_tgids(q, NKIDS, sizeof(q[0])), 0);
  int ok = 0;
  for (int i = 0; i < NKIDS; i++)
    ok += reaped[i] ? q[i].rc == -ESRCH : q[i].rc == 0 && q[i].stats.version >= 2;
  return ok;
}

static void batch_checks(void) {
  CHECK_INT(query_kids(), NKIDS);
  genl_socket_stats_t st;
  CHECK_INT(genl_thread_socket_stats(&st), 0);
  printf("batch of %d: receive buffer %d bytes, batch %zu, overruns %lu\n", NKIDS, st.rcvbuf,
         st.batch, st.overruns);
  CHECK(st.rcvbuf >= GENL_RCVBUF); /* libnl's own default is 32 KiB */
  CHECK_INT(st.batch, GENL_BATCH);
  CHECK_INT(st.overruns, 0);
  /* A buffer shrunk behind genl.c's back holds about 12 replies, not GENL_BATCH: the dropped
   * ones are asked for again and the batch shrinks to what fits. */
  int small = 8192;
  CHECK_INT(setsockopt(genl_thread_socket_fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  for (int i = 0; i < NKIDS; i += 8) { /* every 8th child gone: its answer is -ESRCH */
    kill(kids[i], SIGKILL);
    waitpid(kids[i], NULL, 0);
    reaped[i] = true;
  }
  CHECK_INT(query_kids(), NKIDS);
  CHECK_INT(genl_thread_socket_stats(&st), 0);
  printf("shrunk buffer: batch now %zu, %lu overruns, %lu requests resent\n", st.batch, st.overruns,
         st.resent);
  CHECK(st.overruns >= 1 && st.resent >= 1);
  CHECK(st.batch >= 1 && st.batch < GENL_BATCH);
  unsigned long before = st.overruns;
  CHECK_INT(query_kids(), NKIDS); /* the smaller batch now fits */
  CHECK_INT(genl_thread_socket_stats(&st), 0);
  CHECK_INT(st.overruns, before);
}

static void test_batch_256(void) {
  if (geteuid() != 0) {
    TEST_SKIP_PART("test_taskstats: batch of %d TGIDs needs root (CAP_NET_ADMIN)", NKIDS);
    return;
  }
  int rc = genl_init();
  if (rc != 0) {
    TEST_SKIP_PART("test_taskstats: batch of %d TGIDs: no TASKSTATS family (%s)", NKIDS,
                   strerror(-rc));
    return;
  }
  int n = 0;
  for (; n < NKIDS; n++) {
    pid_t p = fork();
    if (p == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      pause();
      _exit(0);
    }
    if (p < 0)
      break;
    kids[n] = p;
  }
  CHECK_INT(n, NKIDS);
  if (n == NKIDS)
    batch_checks();
  for (int i = 0; i < n; i++)
    if (!reaped[i])
      kill(kids[i], SIGKILL);
  for (int i = 0; i < n; i++)
    if (!reaped[i])
      waitpid(kids[i], NULL, 0);
  genl_shutdown();
}

int main(void) {
  test_batch_256();
  test_v8();
  test_v10();
  test_v14();
  test_v15();
  test_v16_and_later();
  test_bad();
  test_nested();
  return test_result("test_taskstats");
}
