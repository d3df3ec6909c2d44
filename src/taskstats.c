/* Per-TGID taskstats and the exit-record listener: see taskstats.h. */
#define _GNU_SOURCE
#include "taskstats.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <netlink/msg.h> /* nlmsg_ok, nlmsg_next (as genl.c) */

#include "genl.h"
#include "util.h"

/* The layout of struct taskstats version 16 (include/uapi/linux/taskstats.h), written out here
 * so the parser does not depend on the installed header's version. Versions 2..14 are prefixes
 * of it (each added fields at the end); version 15 is handled by v15_offset(). */
struct ts_layout_v16 {
  uint16_t version;
  uint32_t ac_exitcode;
  uint8_t ac_flag;
  uint8_t ac_nice;
  uint64_t cpu_count __attribute__((aligned(8)));
  uint64_t cpu_delay_total;
  uint64_t blkio_count;
  uint64_t blkio_delay_total;
  uint64_t swapin_count;
  uint64_t swapin_delay_total;
  uint64_t cpu_run_real_total;
  uint64_t cpu_run_virtual_total;
  char ac_comm[32];
  uint8_t ac_sched __attribute__((aligned(8)));
  uint8_t ac_pad[3];
  uint32_t ac_uid __attribute__((aligned(8)));
  uint32_t ac_gid;
  uint32_t ac_pid;
  uint32_t ac_ppid;
  uint32_t ac_btime;
  uint64_t ac_etime __attribute__((aligned(8)));
  uint64_t ac_utime, ac_stime, ac_minflt, ac_majflt;
  uint64_t coremem, virtmem, hiwater_rss, hiwater_vm;
  uint64_t read_char, write_char, read_syscalls, write_syscalls;
  uint64_t read_bytes, write_bytes, cancelled_write_bytes;
  uint64_t nvcsw, nivcsw;
  uint64_t ac_utimescaled, ac_stimescaled, cpu_scaled_run_real_total;
  uint64_t freepages_count, freepages_delay_total; /* v7 */
  uint64_t thrashing_count, thrashing_delay_total; /* v9 */
  uint64_t ac_btime64;                             /* v10 */
  uint64_t compact_count, compact_delay_total;     /* v11 */
  uint32_t ac_tgid;                                /* v12 */
  uint64_t ac_tgetime __attribute__((aligned(8)));
  uint64_t ac_exe_dev, ac_exe_inode;
  uint64_t wpcopy_count, wpcopy_delay_total; /* v13 */
  uint64_t irq_count, irq_delay_total;       /* v14 */
  uint64_t delay_max_min[16];                /* v16: {cpu,blkio,...,irq}_delay_{max,min} */
};

/* The installed header (whatever its version) must agree with the common prefix. */
_Static_assert(offsetof(struct ts_layout_v16, cpu_delay_total) ==
                   offsetof(struct taskstats, cpu_delay_total),
               "taskstats layout");
_Static_assert(offsetof(struct ts_layout_v16, nivcsw) == offsetof(struct taskstats, nivcsw),
               "taskstats layout");
_Static_assert(offsetof(struct ts_layout_v16, freepages_delay_total) ==
                   offsetof(struct taskstats, freepages_delay_total),
               "taskstats layout");

#define L(f) offsetof(struct ts_layout_v16, f)

typedef enum {
  T_DELAY,
  T_NVCSW,
  T_NIVCSW,
  T_PID,
  T_PPID,
  T_BTIME,
  T_ETIME,
  T_BTIME64,
  T_TGID
} target_t;

typedef struct {
  size_t off; /* in the v16 layout */
  uint8_t size;
  uint8_t min_version;
  target_t target;
  int kind; /* T_DELAY: TS_DELAY_* */
} field_t;

static const field_t fields[] = {
    {L(cpu_delay_total), 8, 2, T_DELAY, TS_DELAY_CPU},
    {L(blkio_delay_total), 8, 2, T_DELAY, TS_DELAY_BLKIO},
    {L(swapin_delay_total), 8, 2, T_DELAY, TS_DELAY_SWAPIN},
    {L(ac_pid), 4, 2, T_PID, 0},
    {L(ac_ppid), 4, 2, T_PPID, 0},
    {L(ac_btime), 4, 2, T_BTIME, 0},
    {L(ac_etime), 8, 2, T_ETIME, 0},
    {L(nvcsw), 8, 2, T_NVCSW, 0},
    {L(nivcsw), 8, 2, T_NIVCSW, 0},
    {L(freepages_delay_total), 8, 7, T_DELAY, TS_DELAY_FREEPAGES},
    {L(thrashing_delay_total), 8, 9, T_DELAY, TS_DELAY_THRASHING},
    {L(ac_btime64), 8, 10, T_BTIME64, 0},
    {L(compact_delay_total), 8, 11, T_DELAY, TS_DELAY_COMPACT},
    {L(ac_tgid), 4, 12, T_TGID, 0},
    {L(wpcopy_delay_total), 8, 13, T_DELAY, TS_DELAY_WPCOPY},
    {L(irq_delay_total), 8, 14, T_DELAY, TS_DELAY_IRQ},
};

/* The X_delay_total fields in layout order: version 15 put a max and a min (16 bytes) right
 * after each of them. */
static const size_t delay_total_offsets[] = {
    L(cpu_delay_total),       L(blkio_delay_total),     L(swapin_delay_total),
    L(freepages_delay_total), L(thrashing_delay_total), L(compact_delay_total),
    L(wpcopy_delay_total),    L(irq_delay_total),
};

static size_t v15_offset(size_t off16) {
  size_t shift = 0;
  for (size_t i = 0; i < sizeof(delay_total_offsets) / sizeof(delay_total_offsets[0]); i++)
    if (delay_total_offsets[i] < off16)
      shift += 16;
  return off16 + shift;
}

static const char *const delay_names[TS_DELAY_COUNT] = {
    "cpu", "blkio", "swapin", "freepages", "thrashing", "compact", "wpcopy", "irq"};

const char *taskstats_delay_name(int kind) {
  return kind >= 0 && kind < TS_DELAY_COUNT ? delay_names[kind] : NULL;
}

int taskstats_parse(const void *payload, size_t len, uint16_t version_hint, ts_stats_t *out) {
  memset(out, 0, sizeof(*out));
  if (payload == NULL && len > 0)
    return -EINVAL;
  const unsigned char *p = payload;
  uint16_t version = 0;
  if (len >= sizeof(uint16_t))
    memcpy(&version, p, sizeof(version));
  if (version == 0)
    version = version_hint ? version_hint : TS_KNOWN_VERSION;
  if (version < 2)
    return -EPROTONOSUPPORT;
  out->version = version;
  int n = 0;
  uint32_t read_mask = 0; /* bit i: fields[i] was read */
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    const field_t *f = &fields[i];
    if (version < f->min_version)
      continue;
    size_t off = version == 15 ? v15_offset(f->off) : f->off;
    if (off + f->size > len)
      continue; /* a field the payload does not (wholly) carry is absent, never half-read */
    uint64_t v = 0;
    if (f->size == 8) {
      memcpy(&v, p + off, 8);
    } else {
      uint32_t v32;
      memcpy(&v32, p + off, 4);
      v = v32;
    }
    n++;
    read_mask |= 1u << i;
    switch (f->target) {
    case T_DELAY:
      out->delay_ns[f->kind] = v;
      out->present |= TS_F_DELAY(f->kind);
      break;
    case T_NVCSW:
      out->nvcsw = v;
      break;
    case T_NIVCSW:
      out->nivcsw = v;
      break;
    case T_PID:
      out->pid = (uint32_t)v;
      break;
    case T_PPID:
      out->ppid = (uint32_t)v;
      break;
    case T_BTIME:
      out->btime = (uint32_t)v;
      break;
    case T_ETIME:
      out->etime_us = v;
      break;
    case T_BTIME64:
      out->btime64 = v;
      out->present |= TS_F_BTIME64;
      break;
    case T_TGID:
      out->tgid = (uint32_t)v;
      out->present |= TS_F_TGID;
      break;
    }
  }
  /* Flags for groups of fields: all of the group or nothing (fields[] indexes 3..8). */
  const uint32_t basic = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6);
  const uint32_t ctxsw = (1u << 7) | (1u << 8);
  if ((read_mask & basic) == basic)
    out->present |= TS_F_BASIC;
  if ((read_mask & ctxsw) == ctxsw)
    out->present |= TS_F_CTXSW;
  return n;
}

/* Walks nested netlink attributes by hand (no libnl): header {u16 len, u16 type}, 4-byte
 * aligned. */
typedef struct {
  const unsigned char *p;
  size_t left;
} attr_iter_t;

static bool attr_next(attr_iter_t *it, uint16_t *type, const void **data, size_t *len) {
  if (it->left < NLA_HDRLEN)
    return false;
  struct nlattr h;
  memcpy(&h, it->p, sizeof(h));
  if (h.nla_len < NLA_HDRLEN || h.nla_len > it->left)
    return false;
  *type = h.nla_type & NLA_TYPE_MASK;
  *data = it->p + NLA_HDRLEN;
  *len = h.nla_len - NLA_HDRLEN;
  size_t step = NLA_ALIGN(h.nla_len);
  if (step > it->left)
    step = it->left;
  it->p += step;
  it->left -= step;
  return true;
}

int taskstats_parse_aggr(const void *data, size_t len, uint16_t version_hint, uint32_t *id,
                         ts_stats_t *out) {
  attr_iter_t it = {data, data ? len : 0};
  uint16_t type;
  const void *d;
  size_t dl;
  bool got = false;
  int rc = 0;
  *id = 0;
  memset(out, 0, sizeof(*out));
  while (attr_next(&it, &type, &d, &dl)) {
    if ((type == TASKSTATS_TYPE_PID || type == TASKSTATS_TYPE_TGID) && dl >= 4) {
      memcpy(id, d, 4);
    } else if (type == TASKSTATS_TYPE_STATS) {
      rc = taskstats_parse(d, dl, version_hint, out);
      if (rc < 0)
        return rc;
      got = true;
    }
  }
  return got ? 0 : -EBADMSG;
}

int taskstats_parse_exit(const void *attrs, size_t len, ts_exit_record_t *out) {
  memset(out, 0, sizeof(*out));
  attr_iter_t it = {attrs, attrs ? len : 0};
  uint16_t type;
  const void *d;
  size_t dl;
  /* The PID part comes first in the kernel's message; its version stamps the TGID part. */
  while (attr_next(&it, &type, &d, &dl)) {
    if (type == TASKSTATS_TYPE_AGGR_PID) {
      if (taskstats_parse_aggr(d, dl, 0, &out->pid, &out->pid_stats) == 0)
        out->has_pid = true;
    } else if (type == TASKSTATS_TYPE_AGGR_TGID) {
      uint16_t hint = out->has_pid ? out->pid_stats.version : 0;
      if (taskstats_parse_aggr(d, dl, hint, &out->tgid, &out->tgid_stats) == 0)
        out->has_tgid = true;
    }
  }
  return out->has_pid || out->has_tgid ? 0 : -EBADMSG;
}

/* ---- TASKSTATS_CMD_GET ---- */

/* Fills the query's stats and sets its rc to 0 (a reply without stats leaves -ENODATA). */
static int on_reply(struct nlattr **tb, void *arg) {
  ts_query_t *q = arg;
  const struct nlattr *a = tb[TASKSTATS_TYPE_AGGR_TGID];
  if (a == NULL)
    a = tb[TASKSTATS_TYPE_AGGR_PID];
  if (a == NULL)
    return -EBADMSG;
  uint32_t id;
  int rc = taskstats_parse_aggr(nla_data(a), (size_t)nla_len(a), 0, &id, &q->stats);
  if (rc < 0)
    return rc;
  q->rc = 0;
  return 0;
}

int taskstats_query_tgid(pid_t tgid, ts_stats_t *out) {
  ts_query_t q = {.tgid = tgid};
  taskstats_query_tgids(&q, 1, sizeof(q));
  if (q.rc == 0)
    *out = q.stats;
  return q.rc;
}

static ts_query_t *query_at(ts_query_t *q, size_t i, size_t stride) {
  return (ts_query_t *)((unsigned char *)q + i * stride);
}

int taskstats_query_tgids(ts_query_t *q, size_t n, size_t stride) {
  int first_err = 0;
  /* Requests built on the stack, GENL_BATCH at a time (genl.c may split them further). */
  for (size_t base = 0; base < n; base += GENL_BATCH) {
    size_t end = n - base < GENL_BATCH ? n : base + GENL_BATCH;
    genl_req_t reqs[GENL_BATCH];
    uint32_t ids[GENL_BATCH];
    size_t m = 0; /* requests sent: a TGID that cannot be one is answered here */
    for (size_t i = base; i < end; i++) {
      ts_query_t *qi = query_at(q, i, stride);
      if (qi->tgid <= 0) {
        qi->rc = -EINVAL;
        continue;
      }
      qi->rc = -ENODATA; /* until on_reply has the stats */
      ids[m] = (uint32_t)qi->tgid;
      /* No policy: the nested attributes are checked by taskstats_parse_aggr. */
      reqs[m] = (genl_req_t){.cmd = TASKSTATS_CMD_GET,
                             .attr_type = TASKSTATS_CMD_ATTR_TGID,
                             .data = &ids[m],
                             .len = sizeof(ids[m]),
                             .maxattr = TASKSTATS_TYPE_MAX,
                             .cb = on_reply,
                             .arg = qi};
      m++;
    }
    int rcs[GENL_BATCH];
    int rc = genl_request_batch(reqs, m, rcs);
    for (size_t j = 0; j < m; j++)
      if (rcs[j] != 0)
        ((ts_query_t *)reqs[j].arg)->rc = rcs[j];
    if (rc < 0 && first_err == 0)
      first_err = rc;
    if (rc == -EINVAL || rc == -ESHUTDOWN) {
      for (size_t i = end; i < n; i++)
        query_at(q, i, stride)->rc = rc;
      return rc;
    }
  }
  return first_err;
}

/* ---- the exit-record listener ---- */

#define LISTENER_RCVBUF (4 << 20)
#define LISTENER_BUF 65536
#define LISTENER_ACK_MS 1000

struct ts_listener {
  int fd;      /* NETLINK_GENERIC socket registered for the CPUs */
  int wake_fd; /* eventfd: stop request */
  int family;
  char cpumask[256];
  ts_exit_fn cb;
  void *arg;
  ts_log_fn log;
  pthread_t thread;
  bool thread_started;
  atomic_uint_fast64_t overruns; /* ENOBUFS: said once */
  unsigned char *buf;
};

static void lg(ts_log_fn log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lg(ts_log_fn log, int level, const char *fmt, ...) {
  if (log == NULL)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  log(level, msg);
}

/* Sends TASKSTATS_CMD_GET with one string attribute (the cpumask) on fd. */
static int send_cpumask(int fd, int family, uint16_t attr, const char *mask, uint32_t seq) {
  unsigned char msg[512];
  memset(msg, 0, sizeof(msg));
  size_t slen = strlen(mask) + 1;
  size_t alen = NLA_HDRLEN + slen;
  size_t total = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(alen);
  if (total > sizeof(msg))
    return -EMSGSIZE;
  struct nlmsghdr *h = (struct nlmsghdr *)msg;
  h->nlmsg_len = (uint32_t)total;
  h->nlmsg_type = (uint16_t)family;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = seq;
  h->nlmsg_pid = 0;
  struct genlmsghdr *g = (struct genlmsghdr *)(msg + NLMSG_HDRLEN);
  g->cmd = TASKSTATS_CMD_GET;
  g->version = TASKSTATS_GENL_VERSION;
  struct nlattr *a = (struct nlattr *)(msg + NLMSG_HDRLEN + GENL_HDRLEN);
  a->nla_len = (uint16_t)alen;
  a->nla_type = attr;
  memcpy((unsigned char *)a + NLA_HDRLEN, mask, slen);
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(fd, msg, total, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
    return -errno;
  return 0;
}

/* Waits (bounded) for the ACK or error of request seq; exit records arriving meanwhile are
 * dropped (nothing is registered yet, except in a race we do not care about). */
static int wait_ack(int fd, uint32_t seq, unsigned char *buf) {
  for (int tries = 0; tries < 16; tries++) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, LISTENER_ACK_MS);
    if (pr == 0)
      return -ETIMEDOUT;
    if (pr < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    ssize_t n = recv(fd, buf, LISTENER_BUF, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS)
        continue;
      return -errno;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
      if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
          return -EBADMSG;
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error;
      }
    }
  }
  return -ETIMEDOUT;
}

static void default_cpumask(char *dst, size_t n) {
  char buf[256];
  ssize_t len = read_file_at(AT_FDCWD, "/sys/devices/system/cpu/possible", buf, sizeof(buf));
  if (len > 0) {
    buf[strcspn(buf, "\n")] = '\0';
    if (buf[0]) {
      snprintf(dst, n, "%s", buf);
      return;
    }
  }
  long cpus = sysconf(_SC_NPROCESSORS_CONF);
  snprintf(dst, n, "0-%ld", cpus > 1 ? cpus - 1 : 0);
}

static void handle_messages(ts_listener_t *l, unsigned char *buf, int len) {
  for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
    if (h->nlmsg_type != l->family || h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
      continue;
    const struct genlmsghdr *g = NLMSG_DATA(h);
    if (g->cmd != TASKSTATS_CMD_NEW)
      continue;
    const unsigned char *attrs = (const unsigned char *)g + GENL_HDRLEN;
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
    ts_exit_record_t rec;
    if (taskstats_parse_exit(attrs, alen, &rec) == 0 && l->cb)
      l->cb(&rec, l->arg);
  }
}

static void *listener_main(void *arg) {
  ts_listener_t *l = arg;
  for (;;) {
    struct pollfd pfd[2] = {{.fd = l->fd, .events = POLLIN}, {.fd = l->wake_fd, .events = POLLIN}};
    int pr = poll(pfd, 2, -1);
    if (pr < 0) {
      if (errno == EINTR)
        continue;
      lg(l->log, LOG_ERR, "taskstats exit listener: poll: %s; exit records are no longer read.",
         strerror(errno));
      break;
    }
    if (pfd[1].revents)
      break;
    if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      /* POLLERR with ENOBUFS: the socket overflowed; recv reports and clears it. */
    }
    ssize_t n = recv(l->fd, l->buf, LISTENER_BUF, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        if (atomic_fetch_add(&l->overruns, 1) == 0)
          lg(l->log, LOG_WARNING,
             "taskstats exit listener: the kernel dropped exit records (its socket was full): "
             "the delays of processes that exited then count up to their last read. Said once.");
        continue;
      }
      if (errno == EINTR || errno == EAGAIN)
        continue;
      lg(l->log, LOG_ERR, "taskstats exit listener: recv: %s; exit records are no longer read.",
         strerror(errno));
      break;
    }
    handle_messages(l, l->buf, (int)n);
  }
  return NULL;
}

static void listener_free(ts_listener_t *l) {
  if (l->fd >= 0)
    close(l->fd);
  if (l->wake_fd >= 0)
    close(l->wake_fd);
  free(l->buf);
  free(l);
}

int ts_listener_start(const char *cpumask, ts_exit_fn cb, void *arg, ts_log_fn log,
                      ts_listener_t **out) {
  *out = NULL;
  int family = genl_family_id();
  if (family < 0)
    return family;
  ts_listener_t *l = calloc(1, sizeof(*l));
  if (l == NULL)
    return -ENOMEM;
  l->fd = l->wake_fd = -1;
  l->family = family;
  l->cb = cb;
  l->arg = arg;
  l->log = log;
  if (cpumask && cpumask[0])
    snprintf(l->cpumask, sizeof(l->cpumask), "%s", cpumask);
  else
    default_cpumask(l->cpumask, sizeof(l->cpumask));
  l->buf = malloc(LISTENER_BUF);
  int rc = 0;
  if (l->buf == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  l->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->fd < 0 || l->wake_fd < 0) {
    rc = -errno;
    goto fail;
  }
  /* Exits come in bursts (a make -j, a container stopping): a big buffer loses fewer. With
   * CAP_NET_ADMIN, SO_RCVBUFFORCE may exceed rmem_max. */
  int sz = LISTENER_RCVBUF;
  if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
    setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  struct sockaddr_nl self = {.nl_family = AF_NETLINK};
  if (bind(l->fd, (struct sockaddr *)&self, sizeof(self)) != 0) {
    rc = -errno;
    goto fail;
  }
  rc = send_cpumask(l->fd, family, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, l->cpumask, 1);
  if (rc == 0)
    rc = wait_ack(l->fd, 1, l->buf);
  if (rc != 0) {
    if (rc == -EPERM)
      lg(log, LOG_WARNING,
         "taskstats exit listener: registering for exit records needs CAP_NET_ADMIN (%s); delay "
         "accrued between the last read and a process's exit is not counted.",
         strerror(-rc));
    else
      lg(log, LOG_WARNING,
         "taskstats exit listener: cannot register for CPUs %s: %s; delay accrued between the "
         "last read and a process's exit is not counted.",
         l->cpumask, strerror(-rc));
    goto fail;
  }
  rc = -pthread_create(&l->thread, NULL, listener_main, l);
  if (rc != 0) {
    send_cpumask(l->fd, family, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, l->cpumask, 2);
    goto fail;
  }
  l->thread_started = true;
  pthread_setname_np(l->thread, "container delay");
  *out = l;
  return 0;
fail:
  listener_free(l);
  return rc;
}

void ts_listener_stop(ts_listener_t *l) {
  if (l == NULL)
    return;
  if (l->thread_started) {
    uint64_t one = 1;
    if (write(l->wake_fd, &one, sizeof(one)) < 0) {
      /* cannot happen with an eventfd below its maximum; the join below would then block */
    }
    pthread_join(l->thread, NULL);
  }
  /* The kernel would also drop us at the first failed send after close; deregistering at once
   * spares it the work. No wait for the ACK: the socket is closed right after. */
  send_cpumask(l->fd, l->family, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, l->cpumask, 2);
  listener_free(l);
}
