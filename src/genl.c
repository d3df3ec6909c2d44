/* Generic-netlink client for the TASKSTATS family: see genl.h. */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include "genl.h"
#include "genl_testing.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

/* Reply attribute tables live on the stack: cgroupstats and taskstats need fewer than 8. */
#define GENL_MAX_ATTR 32
/* Room for one reply: a taskstats reply is about 600 bytes, cgroupstats less. A bigger message
 * arrives truncated (MSG_TRUNC) and fails the exchange with -EMSGSIZE. */
#define GENL_REPLY_SLOT 2048
/* Reply slots read by one recvmmsg (a batch's replies take as many calls as needed). */
#define GENL_RECV_SLOTS 32

/* One per thread that has sent a request; linked so genl_shutdown can close every socket. */
typedef struct genl_tls {
  struct nl_sock *sk;
  unsigned char *batch_buf; /* GENL_RECV_SLOTS reply slots, for batches of more than one request */
  int rcvbuf;               /* of sk, as getsockopt says */
  size_t batch;             /* requests sk's receive buffer holds the replies of */
  unsigned long overruns, resent;
  struct genl_tls *prev, *next;
} genl_tls_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_key_err;
static genl_tls_t *g_threads; /* under g_lock */
static int g_nsocks;          /* under g_lock */
static atomic_int g_family = -1;

static int nlerr_to_errno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
  case NLE_SUCCESS:
    return 0;
  case NLE_AGAIN:
    return -ETIMEDOUT; /* SO_RCVTIMEO of the family resolution */
  case NLE_NOMEM:
    return -ENOMEM;
  case NLE_INVAL:
    return -EINVAL;
  case NLE_RANGE:
  case NLE_ATTRSIZE:
    return -ERANGE;
  case NLE_MSGSIZE:
    return -EMSGSIZE;
  case NLE_OPNOTSUPP:
  case NLE_MSGTYPE_NOSUPPORT:
    return -EOPNOTSUPP;
  case NLE_OBJ_NOTFOUND:
    return -ENOENT;
  case NLE_PERM:
    return -EPERM;
  case NLE_NOACCESS:
    return -EACCES;
  case NLE_BUSY:
    return -EBUSY;
  case NLE_BAD_SOCK:
    return -EBADF;
  case NLE_INTR:
    return -EINTR;
  case NLE_MSG_TRUNC:
  case NLE_MSG_TOOSHORT:
  case NLE_MSG_OVERFLOW:
  case NLE_PARSE_ERR:
  case NLE_NOATTR:
  case NLE_MISSING_ATTR:
    return -EBADMSG;
  default:
    return -EIO;
  }
}

static int open_socket(struct nl_sock **out) {
  struct nl_sock *sk = nl_socket_alloc();
  if (sk == NULL)
    return -ENOMEM;
  int rc = nl_connect(sk, NETLINK_GENERIC);
  if (rc < 0) {
    nl_socket_free(sk);
    return nlerr_to_errno(rc);
  }
  *out = sk;
  return 0;
}

/* Sets the socket's receive buffer to GENL_RCVBUF (past rmem_max with CAP_NET_ADMIN) and returns
 * what the kernel granted, which already counts its doubling for bookkeeping. */
static int set_rcvbuf(int fd) {
  int want = GENL_RCVBUF, got = 0;
  socklen_t len = sizeof(got);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)); /* capped at rmem_max */
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0)
    got = 0;
  return got;
}

static size_t batch_for(int rcvbuf) {
  size_t b = rcvbuf > 0 ? (size_t)rcvbuf / GENL_REPLY_COST : 1;
  return b < 1 ? 1 : b > GENL_BATCH ? GENL_BATCH : b;
}

/* The TASKSTATS family id, or -errno. */
static int resolve_family(void) {
  struct nl_sock *sk;
  int rc = open_socket(&sk);
  if (rc)
    return rc;
  /* libnl waits for the controller's answer in a blocking receive: never forever. */
  struct timeval tv = {.tv_sec = GENL_TIMEOUT_MS / 1000,
                       .tv_usec = (GENL_TIMEOUT_MS % 1000) * 1000};
  if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
    rc = -errno;
  else if ((rc = genl_ctrl_resolve(sk, TASKSTATS_GENL_NAME)) < 0)
    rc = nlerr_to_errno(rc);
  nl_socket_free(sk); /* closes the fd */
  return rc;
}

/* Runs at thread exit (pthread key destructor). */
static void tls_destroy(void *p) {
  genl_tls_t *t = p;
  if (t == NULL)
    return;
  pthread_mutex_lock(&g_lock);
  if (t->prev)
    t->prev->next = t->next;
  else
    g_threads = t->next;
  if (t->next)
    t->next->prev = t->prev;
  if (t->sk) {
    nl_socket_free(t->sk);
    g_nsocks--;
  }
  pthread_mutex_unlock(&g_lock);
  free(t->batch_buf);
  free(t);
}

static void key_create(void) {
  g_key_err = -pthread_key_create(&g_key, tls_destroy);
}

static void close_thread_socket(genl_tls_t *t) {
  pthread_mutex_lock(&g_lock);
  if (t->sk) {
    nl_socket_free(t->sk);
    t->sk = NULL;
    g_nsocks--;
  }
  pthread_mutex_unlock(&g_lock);
}

/* The calling thread's state, with its connected socket (created on first use). */
static int thread_state(genl_tls_t **out) {
  pthread_once(&g_key_once, key_create);
  if (g_key_err)
    return g_key_err;
  genl_tls_t *t = pthread_getspecific(g_key);
  if (t == NULL) {
    t = calloc(1, sizeof(*t));
    if (t == NULL)
      return -ENOMEM;
    int rc = -pthread_setspecific(g_key, t);
    if (rc) {
      free(t);
      return rc;
    }
    pthread_mutex_lock(&g_lock);
    t->next = g_threads;
    if (g_threads)
      g_threads->prev = t;
    g_threads = t;
    pthread_mutex_unlock(&g_lock);
  }
  if (t->sk == NULL) {
    struct nl_sock *sk;
    int rc = open_socket(&sk);
    if (rc)
      return rc;
    t->rcvbuf = set_rcvbuf(nl_socket_get_fd(sk));
    t->batch = batch_for(t->rcvbuf);
    t->overruns = t->resent = 0;
    pthread_mutex_lock(&g_lock);
    t->sk = sk;
    g_nsocks++;
    pthread_mutex_unlock(&g_lock);
  }
  *out = t;
  return 0;
}

int genl_init(void) {
  pthread_once(&g_key_once, key_create);
  if (g_key_err)
    return g_key_err;
  pthread_mutex_lock(&g_lock);
  int rc = 0;
  if (atomic_load(&g_family) < 0) {
    int id = resolve_family();
    if (id < 0)
      rc = id;
    else
      atomic_store(&g_family, id);
  }
  pthread_mutex_unlock(&g_lock);
  return rc;
}

int genl_family_id(void) {
  int id = atomic_load(&g_family);
  return id < 0 ? -ESHUTDOWN : id;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Handles one message of our request: sets *done at its reply or error; *rc keeps the first
 * error seen. */
static void handle_message(const genl_req_t *req, int family, struct nlmsghdr *h, bool *done,
                           int *rc) {
  if (h->nlmsg_type == NLMSG_ERROR) {
    if (h->nlmsg_len < (uint32_t)nlmsg_size(sizeof(struct nlmsgerr))) {
      if (*rc == 0)
        *rc = -EBADMSG;
    } else {
      const struct nlmsgerr *e = nlmsg_data(h);
      if (*rc == 0 && e->error < 0)
        *rc = e->error;
    }
    *done = true;
  } else if (h->nlmsg_type == NLMSG_DONE) {
    *done = true;
  } else if (h->nlmsg_type == family) {
    /* The GET commands answer with one message: it ends the request (no ACK asked for, so
     * no second message to wait for). */
    *done = true;
    struct nlattr *tb[GENL_MAX_ATTR + 1];
    int e = genlmsg_parse(h, 0, tb, req->maxattr, req->policy);
    if (e < 0) {
      if (*rc == 0)
        *rc = nlerr_to_errno(e) == -EINVAL ? -EBADMSG : nlerr_to_errno(e);
    } else if (req->cb) {
      e = req->cb(tb, req->arg);
      if (*rc == 0 && e < 0)
        *rc = e;
    }
  }
}

static bool request_valid(const genl_req_t *req) {
  return req->maxattr >= 0 && req->maxattr <= GENL_MAX_ATTR &&
         (req->data != NULL || req->len == 0) && req->len <= GENL_MAX_PAYLOAD;
}

/* Sends reqs[idx[0..k)] (k <= GENL_BATCH) in one sendmmsg; *seq0 gets the first one's sequence
 * number (the others follow it). Returns 0 or -errno. */
static int send_requests(struct nl_sock *sk, int family, const genl_req_t *reqs, const size_t *idx,
                         size_t k, int *rcs, bool *done, uint32_t *seq0) {
  int fd = nl_socket_get_fd(sk);
  struct {
    struct nlmsghdr n;
    struct genlmsghdr g;
    struct nlattr a;
    unsigned char data[GENL_MAX_PAYLOAD];
  } out[GENL_BATCH];
  struct mmsghdr mm[GENL_BATCH];
  struct iovec iov[GENL_BATCH];
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  for (size_t j = 0; j < k; j++) {
    const genl_req_t *req = &reqs[idx[j]];
    uint32_t seq = nl_socket_use_seq(sk);
    if (j == 0)
      *seq0 = seq;
    size_t attr = req->data ? NLA_HDRLEN + req->len : 0;
    memset(&out[j], 0, sizeof(out[j]));
    out[j].n = (struct nlmsghdr){.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + NLA_ALIGN(attr)),
                                 .nlmsg_type = (uint16_t)family,
                                 /* no NLM_F_ACK: the reply or the error is the one answer */
                                 .nlmsg_flags = NLM_F_REQUEST,
                                 .nlmsg_seq = seq,
                                 .nlmsg_pid = nl_socket_get_local_port(sk)};
    out[j].g = (struct genlmsghdr){.cmd = req->cmd, .version = TASKSTATS_GENL_VERSION};
    if (attr) {
      out[j].a = (struct nlattr){.nla_len = (uint16_t)attr, .nla_type = req->attr_type};
      memcpy(out[j].data, req->data, req->len);
    }
    iov[j] = (struct iovec){.iov_base = &out[j], .iov_len = out[j].n.nlmsg_len};
    mm[j] = (struct mmsghdr){.msg_hdr = {.msg_name = &kernel,
                                         .msg_namelen = sizeof(kernel),
                                         .msg_iov = &iov[j],
                                         .msg_iovlen = 1}};
    rcs[idx[j]] = 0;
    done[j] = false;
  }
  for (size_t sent = 0; sent < k;) {
    int r = sendmmsg(fd, mm + sent, (unsigned)(k - sent), 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? -errno : -EIO;
    sent += (size_t)r;
  }
  return 0;
}

/* Reads the replies of the k requests sent from seq0 on with recvmmsg; done[j] tells whether
 * request idx[j] got its reply or error (its result then in rcs[idx[j]]). Returns 0 when every
 * answer came; -ENOBUFS when the receive buffer overflowed: the kernel answers while the
 * requests are sent, so once the queue is drained the requests not done are exactly those whose
 * replies it dropped; or another -errno when the socket can no longer be trusted. */
static int receive_replies(struct nl_sock *sk, unsigned char *slots, size_t nslots, int family,
                           const genl_req_t *reqs, const size_t *idx, size_t k, uint32_t seq0,
                           int *rcs, bool *done) {
  int fd = nl_socket_get_fd(sk);
  struct mmsghdr mm[GENL_RECV_SLOTS];
  struct iovec iov[GENL_RECV_SLOTS];
  size_t pending = k;
  bool overrun = false;
  double deadline = now_ms() + GENL_TIMEOUT_MS;
  while (pending > 0) {
    struct sockaddr_nl from[GENL_RECV_SLOTS];
    size_t want = pending < nslots ? pending : nslots;
    for (size_t m = 0; m < want; m++) {
      iov[m] = (struct iovec){.iov_base = slots + m * GENL_REPLY_SLOT, .iov_len = GENL_REPLY_SLOT};
      mm[m] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[m],
                                           .msg_namelen = sizeof(from[m]),
                                           .msg_iov = &iov[m],
                                           .msg_iovlen = 1}};
    }
    /* The replies were queued while the requests were sent: no waiting between them. */
    int r = recvmmsg(fd, mm, (unsigned)want, MSG_DONTWAIT, NULL);
    if (r < 0 && errno == ENOBUFS) { /* reported once; the replies queued before it follow */
      overrun = true;
      continue;
    }
    if (r < 0 && errno == EAGAIN) {
      if (overrun)
        return -ENOBUFS; /* drained: what is missing was dropped */
      int wait_ms = (int)(deadline - now_ms());
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      int ready = wait_ms > 0 ? poll(&pfd, 1, wait_ms) : 0;
      if (ready > 0 || (ready < 0 && errno == EINTR))
        continue;
      return ready == 0 ? -ETIMEDOUT : -errno;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? -errno : -EIO;
    for (int m = 0; m < r; m++) {
      if (mm[m].msg_hdr.msg_flags & MSG_TRUNC)
        return -EMSGSIZE;
      if (from[m].nl_pid != 0) /* only the kernel speaks for the family */
        continue;
      int len = (int)mm[m].msg_len;
      for (struct nlmsghdr *h = (struct nlmsghdr *)(slots + (size_t)m * GENL_REPLY_SLOT);
           nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        uint32_t j = h->nlmsg_seq - seq0; /* leftovers of earlier requests fall outside */
        if (j >= k || done[j])
          continue;
        handle_message(&reqs[idx[j]], family, h, &done[j], &rcs[idx[j]]);
        pending -= done[j];
      }
    }
    if (pending > 0 && now_ms() > deadline) /* messages, but not ours */
      return -ETIMEDOUT;
  }
  return 0;
}

/* One round: sends reqs[idx[0..k)] (k <= GENL_BATCH) and reads their replies (see
 * receive_replies). On an error other than -ENOBUFS the results not yet in are that error. */
static int exchange(struct nl_sock *sk, unsigned char *slots, size_t nslots, int family,
                    const genl_req_t *reqs, const size_t *idx, size_t k, int *rcs, bool *done) {
  uint32_t seq0 = 0;
  int rc = send_requests(sk, family, reqs, idx, k, rcs, done, &seq0);
  if (rc == 0)
    rc = receive_replies(sk, slots, nslots, family, reqs, idx, k, seq0, rcs, done);
  if (rc == 0 || rc == -ENOBUFS)
    return rc;
  for (size_t j = 0; j < k; j++)
    if (!done[j])
      rcs[idx[j]] = rc;
  return rc;
}

/* Answers every request in idx[0..k) (k <= GENL_BATCH), in rounds of at most t->batch. After an
 * overflow exactly the requests whose replies were dropped are sent again (before the rest), and
 * t->batch becomes 3/4 of what fitted. Gives up (-ENOBUFS for what is left) after two rounds in
 * a row without a single answer. Returns 0, -ENOBUFS, or a transport error (rcs set). */
static int answer_all(genl_tls_t *t, unsigned char *slots, size_t nslots, int family,
                      const genl_req_t *reqs, size_t *idx, size_t k, int *rcs) {
  bool done[GENL_BATCH];
  int barren = 0;
  while (k > 0) {
    size_t m = k < t->batch ? k : t->batch;
    int rc = exchange(t->sk, slots, nslots, family, reqs, idx, m, rcs, done);
    if (rc < 0 && rc != -ENOBUFS)
      return rc;
    size_t lost = 0;
    for (size_t j = 0; j < m; j++)
      if (!done[j])
        idx[lost++] = idx[j];
    memmove(idx + lost, idx + m, (k - m) * sizeof(*idx));
    k = lost + (k - m);
    if (rc == 0)
      continue;
    size_t fitted = m - lost;
    t->overruns++;
    t->resent += lost;
    t->batch = fitted * 3 / 4 > 1 ? fitted * 3 / 4 : 1;
    barren = fitted == 0 ? barren + 1 : 0;
    if (barren >= 2) {
      for (size_t j = 0; j < k; j++)
        rcs[idx[j]] = -ENOBUFS;
      return -ENOBUFS;
    }
  }
  return 0;
}

static int fail_all(int *rcs, size_t n, int rc) {
  for (size_t i = 0; i < n; i++)
    rcs[i] = rc;
  return rc;
}

int genl_request_batch(const genl_req_t *reqs, size_t n, int *rcs) {
  if (n == 0)
    return 0;
  if (rcs == NULL)
    return -EINVAL;
  if (reqs == NULL)
    return fail_all(rcs, n, -EINVAL);
  for (size_t i = 0; i < n; i++)
    if (!request_valid(&reqs[i]))
      return fail_all(rcs, n, -EINVAL);
  int family = atomic_load(&g_family);
  if (family < 0)
    return fail_all(rcs, n, -ESHUTDOWN);
  genl_tls_t *t;
  int rc = thread_state(&t);
  if (rc)
    return fail_all(rcs, n, rc);
  /* A single request (cgroupstats, taskstats_query_tgid) replies into a slot on the stack, so
   * threads that never batch carry no reply slots on the heap. */
  union {
    struct nlmsghdr align;
    unsigned char bytes[GENL_REPLY_SLOT];
  } one;
  unsigned char *slots = one.bytes;
  size_t nslots = 1;
  if (n > 1) {
    if (t->batch_buf == NULL && (t->batch_buf = malloc(GENL_RECV_SLOTS * GENL_REPLY_SLOT)) == NULL)
      return fail_all(rcs, n, -ENOMEM);
    slots = t->batch_buf;
    nslots = GENL_RECV_SLOTS;
  }
  int first_err = 0;
  for (size_t base = 0; base < n; base += GENL_BATCH) {
    size_t k = n - base < GENL_BATCH ? n - base : GENL_BATCH;
    size_t idx[GENL_BATCH];
    for (size_t j = 0; j < k; j++)
      idx[j] = base + j;
    rc = answer_all(t, slots, nslots, family, reqs, idx, k, rcs);
    if (rc == -ENOBUFS) { /* the socket is drained and usable: go on with the rest */
      first_err = first_err ? first_err : rc;
    } else if (rc < 0) {
      /* A late answer must not be read as the reply to a later request: start afresh. */
      close_thread_socket(t);
      fail_all(rcs + base + k, n - base - k, rc);
      return rc;
    }
  }
  return first_err;
}

int genl_request(const genl_req_t *req) {
  int rc;
  genl_request_batch(req, 1, &rc); /* sets rc in every case */
  return rc;
}

int genl_request_u32(uint8_t cmd, uint16_t attr_type, uint32_t value, int maxattr,
                     const struct nla_policy *policy, genl_reply_cb cb, void *arg) {
  genl_req_t req = {.cmd = cmd,
                    .attr_type = attr_type,
                    .data = &value,
                    .len = sizeof(value),
                    .maxattr = maxattr,
                    .policy = policy,
                    .cb = cb,
                    .arg = arg};
  return genl_request(&req);
}

void genl_thread_cleanup(void) {
  pthread_once(&g_key_once, key_create);
  if (g_key_err)
    return;
  genl_tls_t *t = pthread_getspecific(g_key);
  if (t == NULL)
    return;
  pthread_setspecific(g_key, NULL);
  tls_destroy(t);
}

void genl_shutdown(void) {
  pthread_mutex_lock(&g_lock);
  /* Nodes stay linked: each belongs to its thread and is freed at that thread's exit. */
  for (genl_tls_t *t = g_threads; t; t = t->next) {
    if (t->sk) {
      nl_socket_free(t->sk);
      t->sk = NULL;
      g_nsocks--;
    }
    free(t->batch_buf); /* no thread is inside a request now */
    t->batch_buf = NULL;
  }
  atomic_store(&g_family, -1);
  pthread_mutex_unlock(&g_lock);
}

int genl_thread_socket_stats(genl_socket_stats_t *out) {
  pthread_once(&g_key_once, key_create);
  genl_tls_t *t = g_key_err ? NULL : pthread_getspecific(g_key);
  if (t == NULL || t->sk == NULL)
    return -ENOENT;
  *out = (genl_socket_stats_t){
      .rcvbuf = t->rcvbuf, .batch = t->batch, .overruns = t->overruns, .resent = t->resent};
  return 0;
}

int genl_thread_socket_fd(void) {
  pthread_once(&g_key_once, key_create);
  genl_tls_t *t = g_key_err ? NULL : pthread_getspecific(g_key);
  return t && t->sk ? nl_socket_get_fd(t->sk) : -1;
}

int genl_open_sockets(void) {
  pthread_mutex_lock(&g_lock);
  int n = g_nsocks;
  pthread_mutex_unlock(&g_lock);
  return n;
}
