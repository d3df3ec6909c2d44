/* Unit tests of the parts of netns that need no root: link message parsing, the dedup registry,
 * and the worker's paths that never enter a namespace (host namespace, dead PIDs), one request or
 * a batch at a time. */
#include "netns.h"
#include "netns_testing.h"
#include "netns_registry.h"

#include "testutil.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <syslog.h>
#include <unistd.h>

/* ---- netns_parse_link ---- */

static size_t put_attr(char *buf, size_t off, unsigned short type, const void *data, size_t len) {
  struct rtattr *rta = (struct rtattr *)(buf + off);
  rta->rta_type = type;
  rta->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(rta), data, len);
  return off + RTA_SPACE(len);
}

enum { STATS_NONE, STATS_64, STATS_32, STATS_64_SHORT, STATS_BOTH_64_TOO_SHORT };

/* A RTM_NEWLINK message like the kernel's, with other attributes around the ones we read. */
static size_t build_link(char *buf, size_t size, int ifindex, const char *name, int kind,
                         uint64_t base) {
  memset(buf, 0, size);
  struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
  nlh->nlmsg_type = RTM_NEWLINK;
  struct ifinfomsg *ifi = NLMSG_DATA(nlh);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  size_t off = NLMSG_LENGTH(sizeof(*ifi));
  uint32_t mtu = 1500;
  off = put_attr(buf, off, IFLA_MTU, &mtu, sizeof(mtu));
  if (name)
    off = put_attr(buf, off, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtnl_link_stats64 s64 = {
      .rx_packets = base + 1,
      .tx_packets = base + 2,
      .rx_bytes = base + 3,
      .tx_bytes = base + 4,
      .rx_errors = base + 5,
      .tx_errors = base + 6,
      .rx_dropped = base + 7,
      .tx_dropped = base + 8,
      .multicast = 99,
  };
  struct rtnl_link_stats s32 = {
      .rx_packets = 11,
      .tx_packets = 12,
      .rx_bytes = 13,
      .tx_bytes = 14,
      .rx_errors = 15,
      .tx_errors = 16,
      .rx_dropped = 17,
      .tx_dropped = 18,
  };
  if (kind == STATS_32 || kind == STATS_BOTH_64_TOO_SHORT)
    off = put_attr(buf, off, IFLA_STATS, &s32, sizeof(s32));
  if (kind == STATS_64)
    off = put_attr(buf, off, IFLA_STATS64, &s64, sizeof(s64));
  if (kind == STATS_64_SHORT) /* an older kernel's smaller struct: first 8 fields suffice */
    off = put_attr(buf, off, IFLA_STATS64, &s64, 8 * sizeof(uint64_t));
  if (kind == STATS_BOTH_64_TOO_SHORT)
    off = put_attr(buf, off, IFLA_STATS64, &s64, 4 * sizeof(uint64_t));
  off = put_attr(buf, off, IFLA_QDISC, "noqueue", 8);
  nlh->nlmsg_len = (uint32_t)off;
  return off;
}

static void test_parse_link(void) {
  _Alignas(8) char buf[1024];
  netns_if_stats_t st;

  size_t len = build_link(buf, sizeof(buf), 7, "veth0", STATS_64, 5000000000ull);
  CHECK_INT(netns_parse_link(buf, len, &st), 0);
  CHECK_STR(st.name, "veth0");
  CHECK_INT(st.ifindex, 7);
  CHECK_U64(st.rx_packets, 5000000001ull);
  CHECK_U64(st.tx_packets, 5000000002ull);
  CHECK_U64(st.rx_bytes, 5000000003ull);
  CHECK_U64(st.tx_bytes, 5000000004ull);
  CHECK_U64(st.rx_errors, 5000000005ull);
  CHECK_U64(st.tx_errors, 5000000006ull);
  CHECK_U64(st.rx_dropped, 5000000007ull);
  CHECK_U64(st.tx_dropped, 5000000008ull);

  /* Attribute data 4-byte aligned only: the message itself at an odd multiple of 4. */
  _Alignas(8) char shifted[1028];
  len = build_link(shifted + 4, sizeof(shifted) - 4, 3, "eth0", STATS_64, 1ull << 40);
  CHECK_INT(netns_parse_link(shifted + 4, len, &st), 0);
  CHECK_U64(st.tx_bytes, (1ull << 40) + 4);

  len = build_link(buf, sizeof(buf), 1, "lo", STATS_64_SHORT, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), 0);
  CHECK_U64(st.tx_dropped, 8);

  /* Only the 32-bit block (very old kernels), or a too short 64-bit one next to it. */
  len = build_link(buf, sizeof(buf), 2, "eth1", STATS_32, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), 0);
  CHECK_U64(st.rx_packets, 11);
  CHECK_U64(st.tx_bytes, 14);
  CHECK_U64(st.tx_dropped, 18);
  len = build_link(buf, sizeof(buf), 2, "eth1", STATS_BOTH_64_TOO_SHORT, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), 0);
  CHECK_U64(st.rx_bytes, 13);

  len = build_link(buf, sizeof(buf), 2, "eth1", STATS_NONE, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), -ENOENT);
  len = build_link(buf, sizeof(buf), 2, NULL, STATS_64, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), -ENOENT);

  /* A 15-character name fits IF_NAMESIZE; 16 cannot come from the kernel. */
  len = build_link(buf, sizeof(buf), 4, "abcdefghijklmno", STATS_64, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), 0);
  CHECK_STR(st.name, "abcdefghijklmno");
  len = build_link(buf, sizeof(buf), 4, "abcdefghijklmnop", STATS_64, 0);
  CHECK_INT(netns_parse_link(buf, len, &st), -EINVAL);

  /* Malformed: truncated, wrong type, too short for an ifinfomsg. */
  len = build_link(buf, sizeof(buf), 7, "veth0", STATS_64, 0);
  CHECK_INT(netns_parse_link(buf, len - 4, &st), -EINVAL);
  CHECK_INT(netns_parse_link(buf, 8, &st), -EINVAL);
  ((struct nlmsghdr *)buf)->nlmsg_type = RTM_NEWADDR;
  CHECK_INT(netns_parse_link(buf, len, &st), -EINVAL);
  len = build_link(buf, sizeof(buf), 7, "veth0", STATS_64, 0);
  ((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_LENGTH(4);
  CHECK_INT(netns_parse_link(buf, len, &st), -EINVAL);

  /* An attribute claiming more than the message holds ends the walk: no stats seen. */
  len = build_link(buf, sizeof(buf), 7, "veth0", STATS_64, 0);
  struct rtattr *first = (struct rtattr *)(buf + NLMSG_LENGTH(sizeof(struct ifinfomsg)));
  first->rta_len = 2000;
  CHECK_INT(netns_parse_link(buf, len, &st), -ENOENT);
}

/* ---- registry ---- */

static netns_id_t ID(uint64_t ino) {
  return (netns_id_t){.dev = 4, .ino = ino};
}

static void test_registry_basic(void) {
  netns_registry_t *r = netns_registry_create(100);
  char owner[64];
  /* A pod: the first container seen reports, and stays the reporter while it lives. */
  CHECK(netns_registry_see(r, ID(1), "bbb", 0));
  CHECK(!netns_registry_see(r, ID(1), "aaa", 0));
  CHECK(!netns_registry_see(r, ID(1), "ccc", 1));
  CHECK(netns_registry_see(r, ID(1), "bbb", 10));
  CHECK(netns_registry_owner(r, ID(1), owner, sizeof(owner)));
  CHECK_STR(owner, "bbb");
  /* Singletons report their own namespace. */
  CHECK(netns_registry_see(r, ID(2), "zzz", 10));
  CHECK_INT(netns_registry_namespaces(r), 2);
  CHECK(!netns_registry_owner(r, ID(3), owner, sizeof(owner)));

  /* The reporter leaves: the smallest remaining id takes over, whoever asks first. */
  netns_registry_forget(r, "bbb");
  CHECK(!netns_registry_see(r, ID(1), "ccc", 20));
  CHECK(netns_registry_see(r, ID(1), "aaa", 20));
  CHECK(!netns_registry_see(r, ID(1), "ccc", 21));
  CHECK(netns_registry_owner(r, ID(1), owner, sizeof(owner)));
  CHECK_STR(owner, "aaa");

  /* Same inode on another nsfs device is another namespace. */
  CHECK(netns_registry_see(r, (netns_id_t){.dev = 5, .ino = 1}, "yyy", 21));
  CHECK_INT(netns_registry_namespaces(r), 3);

  netns_registry_forget(r, "zzz");
  netns_registry_forget(r, "nobody");
  CHECK_INT(netns_registry_namespaces(r), 2);
  netns_registry_destroy(r);
  netns_registry_destroy(NULL);
}

static void test_registry_expiry(void) {
  netns_registry_t *r = netns_registry_create(10);
  CHECK(netns_registry_see(r, ID(1), "a", 0));
  CHECK(!netns_registry_see(r, ID(1), "b", 0));
  CHECK(!netns_registry_see(r, ID(1), "b", 10)); /* a seen 10 ago: not stale yet */
  CHECK(netns_registry_see(r, ID(1), "b", 11));  /* a not seen for 11 > ttl */
  CHECK(netns_registry_see(r, ID(1), "b", 12));
  /* a comes back: b stays the reporter (stable while it lives). */
  CHECK(!netns_registry_see(r, ID(1), "a", 13));

  /* A namespace nobody sees any more is dropped by the sweep. */
  CHECK(netns_registry_see(r, ID(2), "x", 13));
  CHECK_INT(netns_registry_namespaces(r), 2);
  CHECK(netns_registry_see(r, ID(3), "y", 100));
  CHECK_INT(netns_registry_namespaces(r), 1);
  netns_registry_destroy(r);
}

static void test_registry_move(void) {
  netns_registry_t *r = netns_registry_create(1000);
  CHECK(netns_registry_see(r, ID(1), "a", 0));
  CHECK(!netns_registry_see(r, ID(1), "b", 0));
  /* The container restarted in a new namespace: it leaves the old one at once. */
  CHECK(netns_registry_see(r, ID(2), "a", 1));
  CHECK(netns_registry_see(r, ID(1), "b", 1));
  CHECK_INT(netns_registry_namespaces(r), 2);
  CHECK(netns_registry_see(r, ID(3), "b", 2));
  CHECK_INT(netns_registry_namespaces(r), 2); /* ID(1) emptied and dropped */
  netns_registry_forget(r, "a");
  netns_registry_forget(r, "b");
  CHECK_INT(netns_registry_namespaces(r), 0);
  netns_registry_destroy(r);
}

/* Intervals with containers read in varying order: each namespace reported exactly once. */
static void test_registry_intervals(void) {
  netns_registry_t *r = netns_registry_create(25);
  const char *cids[] = {"pod1-c", "pod1-a", "solo-1", "pod1-b", "pod2-y", "pod2-x", "solo-2"};
  uint64_t ns[] = {1, 1, 2, 1, 3, 3, 4};
  const size_t n = sizeof(cids) / sizeof(cids[0]);
  const char *first_owner_pod1 = NULL;
  for (int interval = 0; interval < 20; interval++) {
    int reports[5] = {0};
    for (size_t k = 0; k < n; k++) {
      size_t i = (k * 3 + (size_t)interval) % n; /* a different order every interval */
      if (netns_registry_see(r, ID(ns[i]), cids[i], (uint64_t)interval * 10)) {
        reports[ns[i]]++;
        if (ns[i] == 1) {
          if (first_owner_pod1 == NULL)
            first_owner_pod1 = cids[i];
          CHECK_STR(cids[i], first_owner_pod1); /* stable */
        }
      }
    }
    for (int j = 1; j <= 4; j++)
      CHECK_INT(reports[j], 1);
  }
  netns_registry_destroy(r);
}

typedef struct {
  netns_registry_t *r;
  int idx;
  int owned;
} reg_thread_t;

static void *reg_thread(void *arg) {
  reg_thread_t *t = arg;
  char cid[32];
  snprintf(cid, sizeof(cid), "c%02d", t->idx);
  for (uint64_t now = 0; now < 2000; now++) {
    if (netns_registry_see(t->r, ID((uint64_t)(t->idx % 3)), cid, now))
      t->owned++;
    if (now % 500 == 499)
      netns_registry_forget(t->r, cid);
  }
  return NULL;
}

static void test_registry_threads(void) {
  netns_registry_t *r = netns_registry_create(5);
  pthread_t th[8];
  reg_thread_t args[8];
  for (int i = 0; i < 8; i++) {
    args[i] = (reg_thread_t){.r = r, .idx = i};
    pthread_create(&th[i], NULL, reg_thread, &args[i]);
  }
  int total = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    total += args[i].owned;
  }
  CHECK(total > 0);
  CHECK(netns_registry_namespaces(r) <= 3);
  netns_registry_destroy(r);
}

/* ---- worker paths that need no privilege ---- */

static int log_calls;
static void test_log(int level, const char *msg) {
  (void)level;
  (void)msg;
  log_calls++;
}

static bool reject_all(pid_t pid, void *ctx) {
  (void)pid;
  (void)ctx;
  return false;
}

static void test_worker_unprivileged(void) {
  pid_t self = getpid();
  netns_request_t req = {.proc_root = "/proc", .pids = &self, .n_pids = 1};
  netns_result_t res;

  CHECK_INT(netns_read(&req, &res), NETNS_STOPPED); /* before init */
  netns_result_free(&res);

  for (int round = 0; round < 3; round++) { /* init/shutdown can repeat */
    CHECK_INT(netns_init(test_log), 0);
    CHECK_INT(netns_init(test_log), -EALREADY);
    netns_id_t host = netns_host_id();
    CHECK(host.ino != 0);

    CHECK_INT(netns_identify(&req, &res), NETNS_HOST);
    CHECK(netns_id_equal(res.id, host));
    CHECK_INT(res.pid, self);
    CHECK_INT(netns_read(&req, &res), NETNS_HOST);
    CHECK(netns_id_equal(res.id, host));
    CHECK(res.ifs == NULL);
    netns_result_free(&res);

    /* Dead or foreign PIDs are skipped; none left is NETNS_NO_PID. */
    pid_t pids[] = {999999999, 0x7ffffff0, self};
    netns_request_t r2 = {.proc_root = "/proc", .pids = pids, .n_pids = 3};
    CHECK_INT(netns_read(&r2, &res), NETNS_HOST);
    CHECK_INT(res.pid, self);
    r2.n_pids = 2;
    CHECK_INT(netns_read(&r2, &res), NETNS_NO_PID);
    CHECK_INT(netns_identify(&r2, &res), NETNS_NO_PID);
    r2.n_pids = 3;
    r2.still_member = reject_all;
    CHECK_INT(netns_read(&r2, &res), NETNS_NO_PID);
    r2.n_pids = 0;
    CHECK_INT(netns_read(&r2, &res), NETNS_NO_PID);
    netns_request_t r3 = {.proc_root = "/nonexistent", .pids = &self, .n_pids = 1};
    CHECK_INT(netns_read(&r3, &res), NETNS_NO_PID);
    netns_result_free(&res);

    netns_shutdown();
    netns_shutdown(); /* harmless */
    CHECK_INT(netns_read(&req, &res), NETNS_STOPPED);
    CHECK(res.errmsg[0] != '\0');
  }
  CHECK_INT(log_calls, 0);

  CHECK_STR(netns_status_str(NETNS_HOST), "host network namespace");
  CHECK_STR(netns_status_str(-ENOENT), strerror(ENOENT));
  CHECK(strstr(NETNS_PERM_HINT, "CAP_SYS_ADMIN") != NULL);
  CHECK(strstr(NETNS_PERM_HINT, "CAP_SYS_PTRACE") != NULL);
}

/* A batch is one job for the worker, served in order, with the results one read each gives. */
static void test_batch_unprivileged(void) {
  pid_t self = getpid();
  pid_t dead[] = {999999999, 0x7ffffff0};
  pid_t dead_then_self[] = {999999999, self};
  const netns_request_t reqs[] = {
      {.proc_root = "/proc", .pids = &self, .n_pids = 1},
      {.proc_root = "/proc", .pids = dead, .n_pids = 2},
      {.proc_root = "/proc", .pids = dead_then_self, .n_pids = 2},
      {.proc_root = "/proc", .pids = dead_then_self, .n_pids = 2, .still_member = reject_all},
      {.proc_root = "/nonexistent", .pids = &self, .n_pids = 1},
  };
  enum { N = sizeof(reqs) / sizeof(reqs[0]) };
  const int expected[N] = {NETNS_HOST, NETNS_NO_PID, NETNS_HOST, NETNS_NO_PID, NETNS_NO_PID};
  netns_result_t results[N];
  int statuses[N];

  /* Before init: every request fails, every result is initialised. */
  memset(results, 0x5a, sizeof(results));
  for (int i = 0; i < N; i++)
    statuses[i] = 12345;
  netns_read_batch(reqs, results, statuses, N);
  for (int i = 0; i < N; i++) {
    CHECK_INT(statuses[i], NETNS_STOPPED);
    CHECK(results[i].ifs == NULL && results[i].n_ifs == 0);
    CHECK_INT(results[i].pid, -1);
    CHECK_STR(results[i].errmsg, netns_status_str(NETNS_STOPPED));
    netns_result_free(&results[i]);
  }

  CHECK_INT(netns_init(test_log), 0);
  netns_id_t host = netns_host_id();
  unsigned long jobs = netns_test_jobs_taken_up();
  netns_read_batch(reqs, results, statuses, N);
  CHECK_INT(netns_test_jobs_taken_up() - jobs, 1);
  for (int i = 0; i < N; i++) {
    netns_result_t one;
    CHECK_INT(netns_read(&reqs[i], &one), expected[i]);
    CHECK_INT(statuses[i], expected[i]);
    CHECK_INT(results[i].pid, one.pid);
    CHECK(netns_id_equal(results[i].id, one.id));
    CHECK(results[i].ifs == NULL);
    netns_result_free(&one);
    netns_result_free(&results[i]);
  }
  CHECK(netns_id_equal(results[0].id, host));
  CHECK_INT(results[2].pid, self);
  CHECK_INT(netns_test_jobs_taken_up() - jobs, 1 + N);

  /* An empty batch never reaches the worker. */
  jobs = netns_test_jobs_taken_up();
  netns_read_batch(reqs, results, statuses, 0);
  CHECK_INT(netns_test_jobs_taken_up(), jobs);

  netns_shutdown();
  netns_read_batch(reqs, results, statuses, 2);
  CHECK_INT(statuses[0], NETNS_STOPPED);
  CHECK_INT(statuses[1], NETNS_STOPPED);
  CHECK_INT(log_calls, 0);
}

/* Several callers' batches queued at once: each gets its own results. */
typedef struct {
  int rounds, wrong;
} batch_thread_t;

static void *batch_thread(void *arg) {
  batch_thread_t *t = arg;
  pid_t self = getpid(), dead = 999999999;
  netns_request_t reqs[8];
  for (int i = 0; i < 8; i++)
    reqs[i] = (netns_request_t){.proc_root = "/proc", .pids = i % 2 ? &dead : &self, .n_pids = 1};
  for (; t->rounds < 200; t->rounds++) {
    netns_result_t results[8];
    int statuses[8];
    netns_read_batch(reqs, results, statuses, 8);
    for (int i = 0; i < 8; i++) {
      t->wrong += statuses[i] != (i % 2 ? NETNS_NO_PID : NETNS_HOST);
      netns_result_free(&results[i]);
    }
  }
  return NULL;
}

static void test_batch_threads(void) {
  CHECK_INT(netns_init(test_log), 0);
  unsigned long jobs = netns_test_jobs_taken_up();
  pthread_t th[4];
  batch_thread_t args[4] = {{0}};
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, batch_thread, &args[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(args[i].rounds, 200);
    CHECK_INT(args[i].wrong, 0);
  }
  CHECK_INT(netns_test_jobs_taken_up() - jobs, 4 * 200);
  netns_shutdown();
}

int main(void) {
  test_parse_link();
  test_registry_basic();
  test_registry_expiry();
  test_registry_move();
  test_registry_intervals();
  test_registry_threads();
  test_worker_unprivileged();
  test_batch_unprivileged();
  test_batch_threads();
  return test_result("test_netns");
}
