/* Per-TGID taskstats (delay accounting, context switches) from the kernel's TASKSTATS family,
 * through genl.c, and a listener for the per-process exit records. No collectd calls.
 *
 * struct taskstats is versioned and only grows at its end, with one exception: version 15
 * (Linux 6.15 before the fix) inserted X_delay_max, X_delay_min after each X_delay_total, which
 * moved every later field; version 16 put them at the end again. The parser therefore reads
 * every field from the offset of the reply's own version, copies only whole fields the payload
 * carries, and flags the fields it read: a field newer than the kernel is absent (flag clear,
 * value 0), never garbage. Payloads longer than the newest known layout are fine (the extra
 * bytes are ignored); a payload with version 0 (the kernel sends that for the TGID part of an
 * exit record: signal->stats is never stamped) is read with the version of the PID part of the
 * same message, or, without one, with the newest layout that fits its length. */
#ifndef CONTAINER_TASKSTATS_H
#define CONTAINER_TASKSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The delay kinds, in the order the values are dispatched. */
enum {
  TS_DELAY_CPU,
  TS_DELAY_BLKIO,
  TS_DELAY_SWAPIN,
  TS_DELAY_FREEPAGES,
  TS_DELAY_THRASHING,
  TS_DELAY_COMPACT,
  TS_DELAY_WPCOPY,
  TS_DELAY_IRQ,
  TS_DELAY_COUNT
};

/* Bits of ts_stats_t.present. */
#define TS_F_DELAY(k) (1u << (k)) /* delay_ns[k] (the kernel has that delay kind) */
#define TS_F_CTXSW (1u << 8)      /* nvcsw, nivcsw */
#define TS_F_BASIC (1u << 9)      /* pid, ppid, btime, etime_us */
#define TS_F_BTIME64 (1u << 10)   /* btime64 (v10) */
#define TS_F_TGID (1u << 11)      /* tgid (v12) */
#define TS_F_ALL_DELAYS ((1u << TS_DELAY_COUNT) - 1)

/* Newest layout this parser knows; newer versions are read with it (they only append). */
#define TS_KNOWN_VERSION 16

typedef struct {
  uint16_t version; /* the layout used (the payload's, or the hint for version 0) */
  uint32_t present;
  uint64_t delay_ns[TS_DELAY_COUNT];
  uint64_t nvcsw, nivcsw;
  uint32_t pid, ppid, tgid;
  uint32_t btime;    /* s since 1970 */
  uint64_t btime64;  /* s since 1970 */
  uint64_t etime_us; /* elapsed since the task started */
} ts_stats_t;

/* "cpu", "blkio", ... for TS_DELAY_*; NULL outside the range. */
const char *taskstats_delay_name(int kind);

/* Parses the payload of a TASKSTATS_TYPE_STATS attribute. version_hint is used when the payload
 * says version 0 (0 = no hint). Returns the number of fields read (>= 0), -EINVAL (NULL payload
 * with a length), or -EPROTONOSUPPORT (version 1, whose layout predates ac_exitcode). */
int taskstats_parse(const void *payload, size_t len, uint16_t version_hint, ts_stats_t *out);

/* Parses the payload of a TASKSTATS_TYPE_AGGR_TGID or _AGGR_PID attribute (nested: a PID or
 * TGID u32 and a STATS). *id gets the PID/TGID (0 if absent). Returns 0, -EBADMSG (no STATS,
 * malformed nesting) or a taskstats_parse error. */
int taskstats_parse_aggr(const void *data, size_t len, uint16_t version_hint, uint32_t *id,
                         ts_stats_t *out);

/* Asks for the statistics of one thread group (all its live threads plus the accumulated delays
 * of its exited threads). genl_init() must have succeeded. Returns 0, or -errno: -ESRCH (no such
 * process, or a zombie), -EPERM (needs CAP_NET_ADMIN), -ETIMEDOUT, -ESHUTDOWN, -EBADMSG. */
int taskstats_query_tgid(pid_t tgid, ts_stats_t *out);

/* One TGID's part of taskstats_query_tgids. */
typedef struct {
  pid_t tgid;       /* in */
  int rc;           /* out: what taskstats_query_tgid would return */
  ts_stats_t stats; /* out, where rc is 0 */
} ts_query_t;

/* taskstats_query_tgid for n TGIDs at once (genl_request_batch: two system calls per
 * GENL_BATCH instead of two per TGID). The queries lie stride bytes apart, so they can sit
 * inside the caller's own records (stride = sizeof(ts_query_t) for an array). Sets every rc.
 * Returns 0, or the first transport error (the queries it cut short have it as rc). */
int taskstats_query_tgids(ts_query_t *q, size_t n, size_t stride);

/* ---- exit records ---- */

/* What one TASKSTATS_CMD_NEW message from the kernel says about an exiting task. */
typedef struct {
  bool has_pid; /* TASKSTATS_TYPE_AGGR_PID: the exiting thread */
  uint32_t pid; /* its TID (the TGID for a single-threaded process) */
  ts_stats_t pid_stats;
  bool has_tgid; /* TASKSTATS_TYPE_AGGR_TGID: sent when the last thread of a multi-threaded */
  uint32_t tgid; /* process exits: the whole group's accumulated delays */
  ts_stats_t tgid_stats;
} ts_exit_record_t;

/* Pure parser of the attributes of a TASKSTATS_CMD_NEW message (the bytes after the genl
 * header). Returns 0, or -EBADMSG when neither part is there. */
int taskstats_parse_exit(const void *attrs, size_t len, ts_exit_record_t *out);

typedef void (*ts_exit_fn)(const ts_exit_record_t *rec, void *arg);
typedef void (*ts_log_fn)(int level, const char *msg); /* syslog levels (LOG_ERR...) */

typedef struct ts_listener ts_listener_t;

/* Starts the exit-record listener: its own generic-netlink socket (not genl.c's per-thread
 * request sockets, whose replies are matched by sequence number) registers for every possible
 * CPU (cpumask NULL: /sys/devices/system/cpu/possible, or "0-(nprocs-1)"), then a thread owned by
 * the caller's module receives the records and calls cb for each (on that thread). genl_init()
 * must have succeeded. Returns 0, or -errno: -EPERM (no CAP_NET_ADMIN; logged at ERROR through
 * log), -EINVAL (the kernel refuses listeners outside the initial user and PID namespaces),
 * -ENOMEM. Without a listener, the delay a process accrues between the last read and its exit
 * is lost (see delayacct.h). */
int ts_listener_start(const char *cpumask, ts_exit_fn cb, void *arg, ts_log_fn log,
                      ts_listener_t **out);

/* Stops the thread (bounded: it polls with a wake-up fd), deregisters, closes the socket and
 * frees everything. NULL is fine. */
void ts_listener_stop(ts_listener_t *l);

#endif
