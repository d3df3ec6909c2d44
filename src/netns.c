#define _GNU_SOURCE
#include "netns.h"
#include "netns_testing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <netlink/msg.h> /* nlmsg_ok: NLMSG_OK without its signed/unsigned comparison */

/* A retired worker is replaced at most this often before network collection gives up: a failed
 * return to the host namespace means something is badly wrong. */
#define NETNS_MAX_RESPAWNS 3
/* Bounds a dump if the kernel never answers; far above the real cost (tens of µs). */
#define NETNS_RCV_TIMEOUT_SEC 2
/* The kernel never sends a dump skb larger than 32 KiB, so one recv() each without MSG_PEEK. */
#define NETNS_MSG_BUF 32768
#define DUMP_SEQ 1 /* each dump has a socket of its own */

/* A caller's batch of requests. It stays at the head of the queue while served: a replacement
 * worker goes on from next when the one serving it retired. */
typedef struct job {
  const netns_request_t *reqs;
  netns_result_t *results;
  int *statuses;
  size_t n, next; /* next: the first request not served yet */
  bool done;
  struct job *next_job;
} job_t;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work_cv, done_cv;
  job_t *head, *tail;
  bool initialized, stopping;
  bool thread_joinable; /* a worker (live or retired) waits to be joined */
  bool worker_retired;  /* the worker left its loop after a failed return */
  bool poisoned;        /* no more workers: every request fails */
  unsigned respawns;
  pthread_t thread;
  int host_fd;
  netns_id_t host_id;
  netns_log_fn log;
  unsigned fail_returns;       /* test hook */
  unsigned long jobs_taken_up; /* test hook: jobs the workers began or resumed */
} g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work_cv = PTHREAD_COND_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
    .host_fd = -1,
};

static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int level, const char *fmt, ...) {
  if (g.log == NULL)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  g.log(level, msg);
}

static void seterr(netns_result_t *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(netns_result_t *res, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
  va_end(ap);
}

const char *netns_status_str(int status) {
  switch (status) {
  case NETNS_OK:
    return "ok";
  case NETNS_HOST:
    return "host network namespace";
  case NETNS_NO_PID:
    return "no live process";
  case NETNS_SKIPPED:
    return "namespace reported by another container";
  case NETNS_NOPERM:
    return "permission denied";
  case NETNS_POISONED:
    return "namespace worker unusable";
  case NETNS_STOPPED:
    return "namespace worker not running";
  default:
    return status < 0 ? strerror(-status) : "unknown status";
  }
}

/* ---- pure parsing ---- */

/* Leading fields shared by rtnl_link_stats and rtnl_link_stats64, in this order. */
enum {
  F_RX_PACKETS,
  F_TX_PACKETS,
  F_RX_BYTES,
  F_TX_BYTES,
  F_RX_ERRORS,
  F_TX_ERRORS,
  F_RX_DROPPED,
  F_TX_DROPPED,
  F_COUNT
};

int netns_parse_link(const void *msg, size_t len, netns_if_stats_t *out) {
  const struct nlmsghdr *nlh = msg;
  if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) ||
      nlh->nlmsg_len > len)
    return -EINVAL;
  if (nlh->nlmsg_type != RTM_NEWLINK)
    return -EINVAL;
  memset(out, 0, sizeof(*out));
  const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
  out->ifindex = ifi->ifi_index;

  const void *st64 = NULL, *st32 = NULL;
  size_t st64_len = 0, st32_len = 0;
  bool have_name = false;
  int rem = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
  for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, rem); rta = RTA_NEXT(rta, rem)) {
    size_t plen = RTA_PAYLOAD(rta);
    switch (rta->rta_type) {
    case IFLA_IFNAME: {
      const char *s = RTA_DATA(rta);
      size_t n = strnlen(s, plen);
      if (n == 0 || n >= sizeof(out->name))
        return -EINVAL;
      memcpy(out->name, s, n);
      out->name[n] = '\0';
      have_name = true;
      break;
    }
    case IFLA_STATS64:
      st64 = RTA_DATA(rta);
      st64_len = plen;
      break;
    case IFLA_STATS:
      st32 = RTA_DATA(rta);
      st32_len = plen;
      break;
    }
  }
  if (!have_name)
    return -ENOENT;

  uint64_t v[F_COUNT];
  if (st64 != NULL && st64_len >= F_COUNT * sizeof(uint64_t)) {
    memcpy(v, st64, sizeof(v)); /* attribute data is only 4-byte aligned */
  } else if (st32 != NULL && st32_len >= F_COUNT * sizeof(uint32_t)) {
    uint32_t v32[F_COUNT];
    memcpy(v32, st32, sizeof(v32));
    for (int i = 0; i < F_COUNT; i++)
      v[i] = v32[i];
  } else {
    return -ENOENT;
  }
  out->rx_packets = v[F_RX_PACKETS];
  out->tx_packets = v[F_TX_PACKETS];
  out->rx_bytes = v[F_RX_BYTES];
  out->tx_bytes = v[F_TX_BYTES];
  out->rx_errors = v[F_RX_ERRORS];
  out->tx_errors = v[F_TX_ERRORS];
  out->rx_dropped = v[F_RX_DROPPED];
  out->tx_dropped = v[F_TX_DROPPED];
  return 0;
}

/* ---- namespace lookup (any thread) ---- */

static void result_init(netns_result_t *res) {
  memset(res, 0, sizeof(*res));
  res->pid = -1;
}

void netns_result_free(netns_result_t *res) {
  if (res == NULL)
    return;
  free(res->ifs);
  res->ifs = NULL;
  res->n_ifs = res->n_ifs_total = 0;
}

/* Opens the namespace of the first candidate that is alive and still in the container.
 * Returns NETNS_OK with *fd_out open, NETNS_NO_PID, NETNS_NOPERM, or -errno. */
static int open_ns(const netns_request_t *req, int *fd_out, netns_result_t *res) {
  int perm_errno = 0;
  pid_t perm_pid = -1;
  for (size_t i = 0; i < req->n_pids; i++) {
    pid_t pid = req->pids[i];
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%d/ns/net", req->proc_root, (int)pid);
    if (n < 0 || (size_t)n >= sizeof(path)) {
      seterr(res, "%s/%d/ns/net: path too long", req->proc_root, (int)pid);
      return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT || e == ESRCH)
        continue; /* exited: try the next PID */
      if (e == EACCES || e == EPERM) {
        perm_errno = e; /* another PID may still be readable */
        perm_pid = pid;
        continue;
      }
      seterr(res, "open %s: %s", path, strerror(e));
      return -e;
    }
    /* After the open: the PID may have been reused by a process outside the container. */
    if (req->still_member != NULL && !req->still_member(pid, req->ctx)) {
      close(fd);
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int e = errno;
      close(fd);
      seterr(res, "fstat %s: %s", path, strerror(e));
      return -e;
    }
    res->id = (netns_id_t){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
    res->pid = pid;
    *fd_out = fd;
    return NETNS_OK;
  }
  if (perm_errno != 0) {
    seterr(res, "open %s/%d/ns/net: %s: " NETNS_PERM_HINT, req->proc_root, (int)perm_pid,
           strerror(perm_errno));
    return NETNS_NOPERM;
  }
  return NETNS_NO_PID;
}

netns_id_t netns_host_id(void) {
  pthread_mutex_lock(&g.lock);
  netns_id_t id = g.host_id;
  pthread_mutex_unlock(&g.lock);
  return id;
}

int netns_identify(const netns_request_t *req, netns_result_t *res) {
  result_init(res);
  netns_id_t host = netns_host_id();
  int fd = -1;
  int rc = open_ns(req, &fd, res);
  if (rc != NETNS_OK)
    return rc;
  close(fd);
  return netns_id_equal(res->id, host) ? NETNS_HOST : NETNS_OK;
}

/* ---- the worker ---- */

typedef struct {
  netns_if_stats_t *ifs;
  size_t n, cap, total;
  int err;
} dump_ctx_t;

/* Appends one RTM_NEWLINK's counters; a link without stats has nothing to report. */
static int add_link(dump_ctx_t *d, const struct nlmsghdr *nlh) {
  netns_if_stats_t st;
  if (netns_parse_link(nlh, nlh->nlmsg_len, &st) != 0)
    return 0;
  if (d->total++ >= NETNS_MAX_IFS)
    return 0;
  if (d->n == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 8;
    netns_if_stats_t *p = realloc(d->ifs, cap * sizeof(*p));
    if (p == NULL)
      return -ENOMEM;
    d->ifs = p;
    d->cap = cap;
  }
  d->ifs[d->n++] = st;
  return 0;
}

/* Reads the dump's messages up to NLMSG_DONE. 1: done, 0: more to read, <0: -errno. */
static int dump_chunk(dump_ctx_t *d, const unsigned char *buf, size_t len, netns_result_t *res) {
  const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
  for (int rem = (int)len; nlmsg_ok(h, rem); h = NLMSG_NEXT(h, rem)) {
    if (h->nlmsg_seq != DUMP_SEQ)
      continue;
    if (h->nlmsg_type == NLMSG_DONE)
      return 1;
    if (h->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *e = NLMSG_DATA(h);
      int err = h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EBADMSG : e->error;
      if (err == 0)
        return 1;
      seterr(res, "link dump: %s", strerror(-err));
      return err;
    }
    if (h->nlmsg_type == RTM_NEWLINK && add_link(d, h) != 0) {
      seterr(res, "link dump: out of memory");
      return -ENOMEM;
    }
  }
  return 0;
}

/* One RTM_GETLINK dump on a raw NETLINK_ROUTE socket, parsed in place: one send and one receive
 * per chunk. (libnl's socket cost 5 more system calls per namespace to set up, its receive a
 * peek before each read; rtnl_link_alloc_cache() builds a full object per interface.) A dump
 * the kernel marks interrupted (NLM_F_DUMP_INTR, links changed meanwhile) still has good
 * counters for every link it lists. */
static int dump_links(int fd, netns_result_t *res) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg ifi;
  } rq = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                .nlmsg_type = RTM_GETLINK,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                .nlmsg_seq = DUMP_SEQ},
          .ifi = {.ifi_family = AF_UNSPEC}};
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &rq, rq.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
    int e = errno;
    seterr(res, "RTM_GETLINK request: %s", strerror(e));
    return -EIO;
  }
  union {
    struct nlmsghdr align;
    unsigned char bytes[NETNS_MSG_BUF];
  } buf;
  dump_ctx_t d = {0};
  int rc = 0;
  while (rc == 0) {
    struct sockaddr_nl from = {0};
    struct iovec iov = {.iov_base = buf.bytes, .iov_len = sizeof(buf.bytes)};
    struct msghdr mh = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
    /* The kernel queues each chunk before sendto or the previous recvmsg returns: waiting is
     * the exception, so no timeout is set on the socket (a system call per namespace). */
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      int ready = poll(&pfd, 1, NETNS_RCV_TIMEOUT_SEC * 1000);
      if (ready > 0 || (ready < 0 && errno == EINTR))
        continue;
      errno = ready == 0 ? ETIMEDOUT : errno;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n == 0 ? EIO : errno;
      seterr(res, "link dump: %s", strerror(e));
      rc = -EIO;
    } else if (mh.msg_flags & MSG_TRUNC) {
      seterr(res, "link dump: a message longer than %d bytes", NETNS_MSG_BUF);
      rc = -EIO;
    } else if (from.nl_pid == 0) {
      rc = dump_chunk(&d, buf.bytes, (size_t)n, res);
    }
  }
  if (rc < 0) {
    free(d.ifs);
    return rc == -ENOMEM ? rc : -EIO;
  }
  res->ifs = d.ifs;
  res->n_ifs = d.n;
  res->n_ifs_total = d.total;
  return NETNS_OK;
}

static int return_to_host(void) {
  pthread_mutex_lock(&g.lock);
  bool fail = g.fail_returns > 0;
  if (fail)
    g.fail_returns--;
  pthread_mutex_unlock(&g.lock);
  if (fail) {
    errno = EINVAL;
    return -1;
  }
  return setns(g.host_fd, CLONE_NEWNET);
}

/* Serves one request; sets *retire when this thread is stuck outside the host namespace. */
static int serve(const netns_request_t *req, netns_result_t *res, bool *retire) {
  int fd = -1;
  int rc = open_ns(req, &fd, res);
  if (rc != NETNS_OK)
    return rc;
  if (netns_id_equal(res->id, g.host_id)) {
    close(fd);
    return NETNS_HOST;
  }
  if (req->claim != NULL && !req->claim(res->id, req->ctx)) {
    close(fd);
    return NETNS_SKIPPED;
  }
  if (setns(fd, CLONE_NEWNET) != 0) {
    int e = errno;
    close(fd);
    if (e == EPERM) {
      seterr(res, "setns into the network namespace of PID %d: %s: " NETNS_PERM_HINT, (int)res->pid,
             strerror(e));
      return NETNS_NOPERM;
    }
    seterr(res, "setns into the network namespace of PID %d: %s", (int)res->pid, strerror(e));
    return -e;
  }
  /* The socket belongs to the namespace it is created in, and keeps working after we leave. */
  int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int sk_errno = errno;
  int back = return_to_host();
  int back_errno = errno;
  close(fd); /* at once: an open ns fd would keep a dead container's namespace alive */
  if (back != 0) {
    if (sk >= 0)
      close(sk);
    *retire = true;
    seterr(res, "setns back to the host network namespace: %s", strerror(back_errno));
    logf_(LOG_ERR,
          "netns worker could not return to the host network namespace (setns: %s); "
          "retiring the thread",
          strerror(back_errno));
    return NETNS_POISONED;
  }
  if (sk < 0) {
    seterr(res, "NETLINK_ROUTE socket in the namespace of PID %d: %s", (int)res->pid,
           strerror(sk_errno));
    return -EIO;
  }
  rc = dump_links(sk, res);
  close(sk); /* it too holds the namespace */
  return rc;
}

/* Under g.lock: takes the finished job at the head off the queue and wakes its caller. */
static void finish_head(void) {
  job_t *j = g.head;
  g.head = j->next_job;
  if (g.head == NULL)
    g.tail = NULL;
  j->done = true;
  pthread_cond_broadcast(&g.done_cv);
}

/* Under g.lock: the requests of j not served yet get status, and j is done. */
static void fail_rest(job_t *j, int status) {
  for (; j->next < j->n; j->next++) {
    seterr(&j->results[j->next], "%s", netns_status_str(status));
    j->statuses[j->next] = status;
  }
  j->done = true;
}

/* Under g.lock: fails every queued request. */
static void fail_queue(int status) {
  while (g.head != NULL) {
    job_t *j = g.head;
    g.head = j->next_job;
    fail_rest(j, status);
  }
  g.tail = NULL;
  pthread_cond_broadcast(&g.done_cv);
}

static void *worker_main(void *arg) {
  (void)arg;
  /* collectd's signal handling must never land on this thread. */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);

  bool retire = false;
  pthread_mutex_lock(&g.lock);
  while (!retire) {
    while (!g.stopping && g.head == NULL)
      pthread_cond_wait(&g.work_cv, &g.lock);
    if (g.stopping)
      break; /* netns_shutdown() fails what is left */
    job_t *j = g.head;
    g.jobs_taken_up++;
    while (j->next < j->n && !retire && !g.stopping) {
      size_t i = j->next;
      pthread_mutex_unlock(&g.lock);
      int status = serve(&j->reqs[i], &j->results[i], &retire);
      pthread_mutex_lock(&g.lock);
      j->statuses[i] = status;
      j->next = i + 1;
    }
    if (j->next == j->n)
      finish_head();
  }
  if (retire) {
    /* This thread sits in a foreign namespace: never serve again. A waiting caller starts the
     * replacement (from a host-namespace thread: a thread created here would inherit the
     * foreign namespace). */
    g.worker_retired = true;
    if (g.respawns >= NETNS_MAX_RESPAWNS) {
      g.poisoned = true;
      logf_(LOG_ERR, "netns worker retired %u times: network collection stops", g.respawns + 1);
      fail_queue(NETNS_POISONED);
    }
    pthread_cond_broadcast(&g.done_cv); /* waiters start the replacement */
  }
  pthread_mutex_unlock(&g.lock);
  return NULL;
}

/* Under g.lock: joins a retired worker and starts a fresh one. */
static int respawn_locked(void) {
  if (g.thread_joinable) {
    pthread_join(g.thread, NULL); /* it has left its loop: it needs the lock no more */
    g.thread_joinable = false;
  }
  g.worker_retired = false;
  int err = pthread_create(&g.thread, NULL, worker_main, NULL);
  if (err != 0)
    return -err;
  pthread_setname_np(g.thread, "container netns"); /* as collectd names its own threads */
  g.thread_joinable = true;
  return 0;
}

int netns_init(netns_log_fn log) {
  char path[64];
  /* thread-self: the namespace of this thread, not of the thread-group leader. */
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(path, sizeof(path), "/proc/self/task/%d/ns/net", (int)gettid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  pthread_mutex_lock(&g.lock);
  if (g.initialized) {
    pthread_mutex_unlock(&g.lock);
    close(fd);
    return -EALREADY;
  }
  g.log = log;
  g.host_fd = fd;
  g.host_id = (netns_id_t){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
  g.stopping = g.poisoned = g.worker_retired = false;
  g.respawns = 0;
  g.fail_returns = 0;
  int err = respawn_locked();
  if (err != 0) {
    close(g.host_fd);
    g.host_fd = -1;
    pthread_mutex_unlock(&g.lock);
    return err;
  }
  g.initialized = true;
  pthread_mutex_unlock(&g.lock);
  return 0;
}

void netns_shutdown(void) {
  pthread_mutex_lock(&g.lock);
  if (!g.initialized) {
    pthread_mutex_unlock(&g.lock);
    return;
  }
  g.stopping = true;
  pthread_cond_broadcast(&g.work_cv);
  bool join = g.thread_joinable;
  g.thread_joinable = false;
  pthread_mutex_unlock(&g.lock);
  if (join)
    pthread_join(g.thread, NULL);
  pthread_mutex_lock(&g.lock);
  fail_queue(NETNS_STOPPED);
  close(g.host_fd);
  g.host_fd = -1;
  g.host_id = (netns_id_t){0};
  g.initialized = false;
  g.log = NULL;
  pthread_mutex_unlock(&g.lock);
}

/* Under g.lock: replaces a retired worker. Returns false once the worker is poisoned. */
static bool ensure_worker_locked(void) {
  if (g.worker_retired && !g.poisoned) {
    g.respawns++;
    int err = respawn_locked();
    if (err != 0) {
      g.poisoned = true;
      logf_(LOG_ERR, "netns worker could not be restarted: %s", strerror(-err));
    } else {
      logf_(LOG_WARNING, "netns worker restarted after a failed return to the host namespace");
    }
  }
  if (g.poisoned)
    fail_queue(NETNS_POISONED);
  return !g.poisoned;
}

void netns_read_batch(const netns_request_t *reqs, netns_result_t *results, int *statuses,
                      size_t n) {
  for (size_t i = 0; i < n; i++)
    result_init(&results[i]);
  if (n == 0)
    return;
  job_t j = {.reqs = reqs, .results = results, .statuses = statuses, .n = n};
  pthread_mutex_lock(&g.lock);
  if (!g.initialized || g.stopping) {
    fail_rest(&j, NETNS_STOPPED);
    pthread_mutex_unlock(&g.lock);
    return;
  }
  if (!ensure_worker_locked()) {
    fail_rest(&j, NETNS_POISONED);
    pthread_mutex_unlock(&g.lock);
    return;
  }
  if (g.tail)
    g.tail->next_job = &j;
  else
    g.head = &j;
  g.tail = &j;
  pthread_cond_signal(&g.work_cv);
  while (!j.done) {
    pthread_cond_wait(&g.done_cv, &g.lock);
    if (!j.done && !g.stopping)
      ensure_worker_locked(); /* our job is still queued behind a retired worker */
  }
  pthread_mutex_unlock(&g.lock);
}

int netns_read(const netns_request_t *req, netns_result_t *res) {
  int status;
  netns_read_batch(req, res, &status, 1);
  return status;
}

void netns_test_fail_returns(unsigned n) {
  pthread_mutex_lock(&g.lock);
  g.fail_returns = n;
  pthread_mutex_unlock(&g.lock);
}

unsigned long netns_test_jobs_taken_up(void) {
  pthread_mutex_lock(&g.lock);
  unsigned long n = g.jobs_taken_up;
  pthread_mutex_unlock(&g.lock);
  return n;
}
