/* Root test of the netns worker against real namespaces (no collectd).
 *
 * Creates two network namespaces joined by a veth pair, a process living in namespace A (in a
 * cgroup of its own when one can be made), sends a known number of bytes to namespace B and
 * checks what netns_read() reports against `ip -s link`. Also: the host namespace, dead PIDs,
 * EPERM without CAP_SYS_ADMIN, a failed return to the host namespace, concurrent callers, that
 * every thread is back in the host namespace after each read, and that nothing pins a dead
 * container's namespace. Batches (netns_read_batch) over three more namespaces with a veth
 * pair each: the results of one read each, one job for the worker, a failed return midway,
 * a shutdown midway. Prints the cost of one namespace read. Exit 77 (SKIP) when not root. */
#define _GNU_SOURCE
#include "netns.h"
#include "netns_testing.h"
#include "proccgroup.h"

#include "../unit/testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define ADDR_A "192.0.2.1" /* TEST-NET-1, only ever inside the namespaces made here */
#define ADDR_B "192.0.2.2"
#define PORT 5555
#define PAYLOAD (1024 * 1024)
#define COST_SAMPLES 200
#define N_VETH_NS 3

static char ns_a[32], ns_b[32], veth_a[16], veth_b[16];
static char cg_dir[256], cg_rel[64];
static pid_t child_a = -1, child_b = -1, child_h = -1;
/* Namespaces with a veth pair inside each, and a process living in each. */
static char ns_x[N_VETH_NS][32], veth_x[N_VETH_NS][16], peer_x[N_VETH_NS][16];
static pid_t child_x[N_VETH_NS] = {-1, -1, -1};
static int cmd_a = -1; /* write end: commands to child A */
static uint64_t host_ino;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void reap(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = -1;
  }
}

static void cleanup(void) {
  reap(&child_a);
  reap(&child_b);
  reap(&child_h);
  for (int k = 0; k < N_VETH_NS; k++) {
    reap(&child_x[k]);
    if (ns_x[k][0])
      sh("ip netns del %s 2>/dev/null", ns_x[k]);
    ns_x[k][0] = '\0';
  }
  if (ns_a[0])
    sh("ip netns del %s 2>/dev/null", ns_a);
  if (ns_b[0])
    sh("ip netns del %s 2>/dev/null", ns_b);
  if (cg_dir[0])
    rmdir(cg_dir);
  ns_a[0] = ns_b[0] = cg_dir[0] = '\0';
}

static void on_signal(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void enter_named_ns(const char *name) {
  char path[128];
  snprintf(path, sizeof(path), "/run/netns/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    perror(path);
    _exit(3);
  }
  close(fd);
}

/* Child A: lives in namespace A; on 'S' sends PAYLOAD bytes to B over TCP and answers 'D'. */
static void run_child_a(int cmd, int ack) {
  enter_named_ns(ns_a);
  char c;
  static char buf[65536];
  memset(buf, 'x', sizeof(buf));
  while (read(cmd, &c, 1) == 1) {
    if (c != 'S')
      continue;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, ADDR_B, &sa.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
      _exit(4);
    size_t sent = 0;
    while (sent < PAYLOAD) {
      ssize_t n = write(s, buf, sizeof(buf));
      if (n <= 0)
        _exit(5);
      sent += (size_t)n;
    }
    close(s);
    if (write(ack, "D", 1) != 1)
      _exit(6);
  }
  _exit(0);
}

/* Child B: lives in namespace B; accepts one connection and reports the bytes received. */
static void run_child_b(int out) {
  enter_named_ns(ns_b);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
  inet_pton(AF_INET, ADDR_B, &sa.sin_addr);
  if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 1) != 0)
    _exit(4);
  uint64_t total = 0;
  if (write(out, &total, sizeof(total)) != sizeof(total)) /* ready */
    _exit(5);
  int c = accept(s, NULL, NULL);
  char buf[65536];
  ssize_t n;
  while ((n = read(c, buf, sizeof(buf))) > 0)
    total += (uint64_t)n;
  if (write(out, &total, sizeof(total)) != sizeof(total))
    _exit(6);
  _exit(0);
}

/* Tries a v2 tree, then v1 hierarchies: a cgroup of our own for child A. */
static bool make_cgroup(pid_t pid) {
  const char *roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup", "/sys/fs/cgroup/pids",
                         "/sys/fs/cgroup/systemd"};
  snprintf(cg_rel, sizeof(cg_rel), "/netns-root-test-%d", (int)getpid());
  for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
    snprintf(cg_dir, sizeof(cg_dir), "%s%s", roots[i], cg_rel);
    if (mkdir(cg_dir, 0755) != 0) {
      cg_dir[0] = '\0';
      continue;
    }
    char procs[300];
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_dir);
    FILE *f = fopen(procs, "w");
    bool ok = f != NULL && fprintf(f, "%d\n", (int)pid) > 0;
    if (f != NULL && fclose(f) != 0)
      ok = false;
    if (ok)
      return true;
    rmdir(cg_dir);
    cg_dir[0] = '\0';
  }
  return false;
}

static bool member(pid_t pid, void *ctx) {
  (void)ctx;
  if (cg_dir[0])
    return proc_pid_in_cgroup("/proc", pid, cg_rel);
  return pid == child_a; /* no cgroup could be made: the test knows its container */
}

static bool accept_all(pid_t pid, void *ctx) {
  (void)pid;
  (void)ctx;
  return true;
}

static bool decline(netns_id_t id, void *ctx) {
  *(netns_id_t *)ctx = id;
  return false;
}

static int log_err, log_warn;
static void test_log(int level, const char *msg) {
  if (level <= LOG_ERR)
    __atomic_add_fetch(&log_err, 1, __ATOMIC_SEQ_CST);
  else if (level == LOG_WARNING)
    __atomic_add_fetch(&log_warn, 1, __ATOMIC_SEQ_CST);
  fprintf(stderr, "  [log %d] %s\n", level, msg);
}

/* Every thread of this process is in the host namespace (a retired worker may take a moment to
 * finish exiting, hence the short retry). */
static bool all_threads_home(void) {
  char want[64];
  snprintf(want, sizeof(want), "net:[%" PRIu64 "]", host_ino);
  for (int attempt = 0; attempt < 100; attempt++) {
    bool ok = true;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char path[300], link[64];
      snprintf(path, sizeof(path), "/proc/self/task/%s/ns/net", e->d_name);
      ssize_t n = readlink(path, link, sizeof(link) - 1);
      if (n < 0)
        continue; /* the thread just exited */
      link[n] = '\0';
      if (strcmp(link, want) != 0) {
        ok = false;
        if (attempt == 99)
          fprintf(stderr, "thread %s is in %s, not %s\n", e->d_name, link, want);
      }
    }
    if (d)
      closedir(d);
    if (ok)
      return true;
    usleep(10000);
  }
  return false;
}

typedef struct {
  uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
} ipstats_t;

static uint64_t json_u64(const char *from, const char *key) {
  const char *p = from ? strstr(from, key) : NULL;
  return p ? strtoull(p + strlen(key), NULL, 10) : UINT64_MAX;
}

/* `ip -s -j link show` inside the namespace. */
static bool ip_stats(const char *ns, const char *dev, ipstats_t *out) {
  char cmd[256], buf[4096];
  snprintf(cmd, sizeof(cmd), "ip -n %s -s -j link show dev %s", ns, dev);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return false;
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  buf[n] = '\0';
  pclose(p);
  const char *rx = strstr(buf, "\"rx\":{"), *tx = strstr(buf, "\"tx\":{");
  out->rx_bytes = json_u64(rx, "\"bytes\":");
  out->rx_packets = json_u64(rx, "\"packets\":");
  out->tx_bytes = json_u64(tx, "\"bytes\":");
  out->tx_packets = json_u64(tx, "\"packets\":");
  return rx && tx && out->tx_bytes != UINT64_MAX;
}

static const netns_if_stats_t *find_if(const netns_result_t *res, const char *name) {
  for (size_t i = 0; i < res->n_ifs; i++)
    if (strcmp(res->ifs[i].name, name) == 0)
      return &res->ifs[i];
  return NULL;
}

/* netns_read() for child A, checked, returning a copy of the veth's counters. */
static bool read_a(netns_if_stats_t *veth) {
  pid_t pids[] = {child_a};
  netns_request_t req = {.proc_root = "/proc", .pids = pids, .n_pids = 1, .still_member = member};
  netns_result_t res;
  int rc = netns_read(&req, &res);
  const netns_if_stats_t *v = rc == NETNS_OK ? find_if(&res, veth_a) : NULL;
  if (v)
    *veth = *v;
  else
    fprintf(stderr, "read_a: %s %s\n", netns_status_str(rc), res.errmsg);
  netns_result_free(&res);
  return v != NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* EPERM: a child without CAP_SYS_ADMIN gets NETNS_NOPERM naming the capability. Runs before
 * the parent's netns_init(), since a forked child would inherit a worker state without the
 * worker thread. */
static void test_eperm(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
      _exit(10);
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
    if (syscall(SYS_capset, &hdr, data) != 0)
      _exit(11);
    if (netns_init(NULL) != 0) /* the worker inherits this thread's capabilities */
      _exit(12);
    pid_t pids[] = {child_a};
    netns_request_t req = {.proc_root = "/proc", .pids = pids, .n_pids = 1};
    netns_result_t res;
    int rc = netns_read(&req, &res);
    bool hint = strstr(res.errmsg, "CAP_SYS_ADMIN") != NULL;
    printf("  without CAP_SYS_ADMIN: %s: %s\n", netns_status_str(rc), res.errmsg);
    fflush(stdout);
    netns_result_free(&res);
    netns_shutdown();
    _exit(rc == NETNS_NOPERM && hint ? 0 : 13);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

typedef struct {
  int ok, runs;
} conc_t;

static void *conc_thread(void *arg) {
  conc_t *c = arg;
  for (int i = 0; i < 50; i++) {
    netns_if_stats_t v;
    c->runs++;
    if (read_a(&v))
      c->ok++;
  }
  return NULL;
}

/* Namespace k with a veth pair veth_x[k] / peer_x[k] inside, and a process in it. */
static void make_veth_ns(int k) {
  snprintf(ns_x[k], sizeof(ns_x[k]), "nsrt-x%d-%d", k, (int)getpid());
  snprintf(veth_x[k], sizeof(veth_x[k]), "nsx%d%d", k, (int)getpid() % 1000000);
  snprintf(peer_x[k], sizeof(peer_x[k]), "nsp%d%d", k, (int)getpid() % 1000000);
  CHECK_INT(sh("ip netns add %s && ip -n %s link add %s type veth peer name %s", ns_x[k], ns_x[k],
               veth_x[k], peer_x[k]),
            0);
  fflush(stdout);
  child_x[k] = fork();
  if (child_x[k] == 0) {
    enter_named_ns(ns_x[k]);
    for (;;)
      pause();
  }
}

static netns_id_t named_ns_id(const char *name) {
  char path[128];
  struct stat st = {0};
  snprintf(path, sizeof(path), "/run/netns/%s", name);
  CHECK(stat(path, &st) == 0);
  return (netns_id_t){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
}

/* Until the process has entered the namespace. */
static bool wait_in_ns(pid_t pid, netns_id_t id) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
  for (int i = 0; i < 200; i++) {
    struct stat st;
    if (stat(path, &st) == 0 && (uint64_t)st.st_ino == id.ino)
      return true;
    usleep(5000);
  }
  return false;
}

/* A batch over the veth namespaces, a dead PID, the host namespace and A gives what one read
 * each gives, in one job. */
/* A dump longer than one receive (80 more links: about 100 KiB of messages, the kernel sends
 * at most 32 KiB at a time) is read to its end: every link, each once. */
static void test_many_links(const netns_request_t *req) {
  enum { EXTRA = 80 };
  CHECK_INT(sh("for i in $(seq 1 %d); do ip -n %s link add mdl$i type dummy 2>/dev/null || "
               "ip -n %s link add mdl$i type bridge || exit 1; done",
               EXTRA, ns_a, ns_a),
            0);
  netns_result_t res;
  CHECK_INT(netns_read(req, &res), NETNS_OK);
  CHECK_INT(res.n_ifs, EXTRA + 2);       /* lo and the veth */
  CHECK_INT(res.n_ifs_total, res.n_ifs); /* below NETNS_MAX_IFS: nothing cut */
  int seen[EXTRA + 1] = {0};
  for (size_t i = 0; i < res.n_ifs; i++) {
    int k;
    if (sscanf(res.ifs[i].name, "mdl%d", &k) == 1 && k >= 1 && k <= EXTRA)
      seen[k]++;
  }
  int once = 0;
  for (int k = 1; k <= EXTRA; k++)
    once += seen[k] == 1;
  CHECK_INT(once, EXTRA);
  netns_result_free(&res);
  sh("for i in $(seq 1 %d); do ip -n %s link del mdl$i; done", EXTRA, ns_a);
  CHECK_INT(netns_read(req, &res), NETNS_OK);
  CHECK_INT(res.n_ifs, 2);
  netns_result_free(&res);
}

static void test_batch(pid_t dead) {
  pid_t pids[] = {child_x[0], child_x[1], dead, child_h, child_x[2], child_a};
  enum { N = sizeof(pids) / sizeof(pids[0]) };
  const int expected[N] = {NETNS_OK, NETNS_OK, NETNS_NO_PID, NETNS_HOST, NETNS_OK, NETNS_OK};
  const int veth_of[N] = {0, 1, -1, -1, 2, -1};
  netns_request_t reqs[N];
  for (int i = 0; i < N; i++)
    reqs[i] = (netns_request_t){.proc_root = "/proc",
                                .pids = &pids[i],
                                .n_pids = 1,
                                .still_member = pids[i] == child_a ? member : accept_all};
  netns_result_t one[N], batch[N];
  int one_status[N], batch_status[N];
  for (int i = 0; i < N; i++)
    one_status[i] = netns_read(&reqs[i], &one[i]);
  unsigned long jobs = netns_test_jobs_taken_up();
  netns_read_batch(reqs, batch, batch_status, N);
  CHECK_INT(netns_test_jobs_taken_up() - jobs, 1);
  CHECK(all_threads_home());
  for (int i = 0; i < N; i++) {
    CHECK_INT(one_status[i], expected[i]);
    CHECK_INT(batch_status[i], expected[i]);
    CHECK_INT(batch[i].pid, one[i].pid);
    CHECK(netns_id_equal(batch[i].id, one[i].id));
    CHECK_INT(batch[i].n_ifs, one[i].n_ifs);
    for (size_t k = 0; k < batch[i].n_ifs && k < one[i].n_ifs; k++) {
      CHECK_STR(batch[i].ifs[k].name, one[i].ifs[k].name);
      CHECK_INT(batch[i].ifs[k].ifindex, one[i].ifs[k].ifindex);
    }
    int d = veth_of[i];
    if (d >= 0) {
      CHECK(netns_id_equal(batch[i].id, named_ns_id(ns_x[d])));
      CHECK_INT(batch[i].n_ifs, 3);
      CHECK(find_if(&batch[i], "lo") != NULL);
      CHECK(find_if(&batch[i], veth_x[d]) != NULL);
      CHECK(find_if(&batch[i], peer_x[d]) != NULL);
    }
    if (pids[i] == child_a)
      CHECK(find_if(&batch[i], veth_a) != NULL);
    if (pids[i] == child_h)
      CHECK_U64(batch[i].id.ino, host_ino);
    netns_result_free(&one[i]);
    netns_result_free(&batch[i]);
  }
}

/* The first return of a batch of three fails: that request fails as a single read would, the
 * worker retires, and its replacement serves the other two. */
static void test_batch_failed_return(void) {
  pid_t pids[] = {child_x[0], child_x[1], child_x[2]};
  netns_request_t reqs[3];
  for (int i = 0; i < 3; i++)
    reqs[i] = (netns_request_t){
        .proc_root = "/proc", .pids = &pids[i], .n_pids = 1, .still_member = accept_all};
  netns_result_t res[3];
  int status[3];
  int err0 = log_err, warn0 = log_warn;
  unsigned long jobs = netns_test_jobs_taken_up();
  netns_test_fail_returns(1);
  netns_read_batch(reqs, res, status, 3);
  CHECK_INT(status[0], NETNS_POISONED);
  CHECK(strstr(res[0].errmsg, "host network namespace") != NULL);
  CHECK(res[0].ifs == NULL);
  CHECK_INT(status[1], NETNS_OK);
  CHECK(find_if(&res[1], veth_x[1]) != NULL);
  CHECK_INT(status[2], NETNS_OK);
  CHECK(find_if(&res[2], veth_x[2]) != NULL);
  CHECK_INT(netns_test_jobs_taken_up() - jobs, 2); /* taken up, then resumed */
  CHECK_INT(log_err - err0, 1);
  CHECK_INT(log_warn - warn0, 1);
  CHECK(all_threads_home());
  for (int i = 0; i < 3; i++)
    netns_result_free(&res[i]);
}

typedef struct {
  netns_request_t reqs[300];
  netns_result_t res[300];
  int status[300];
  bool started;
} long_batch_t;

static void *long_batch_thread(void *arg) {
  long_batch_t *b = arg;
  __atomic_store_n(&b->started, true, __ATOMIC_SEQ_CST);
  netns_read_batch(b->reqs, b->res, b->status, 300);
  return NULL;
}

/* A shutdown while a long batch is served: what was served is there, the rest is
 * NETNS_STOPPED, nothing is left uninitialised. */
static void test_batch_shutdown(void) {
  static long_batch_t b;
  for (int i = 0; i < 300; i++)
    b.reqs[i] =
        (netns_request_t){.proc_root = "/proc", .pids = &child_x[i % N_VETH_NS], .n_pids = 1};
  memset(b.res, 0x5a, sizeof(b.res));
  for (int i = 0; i < 300; i++)
    b.status[i] = 12345;
  pthread_t th;
  pthread_create(&th, NULL, long_batch_thread, &b);
  while (!__atomic_load_n(&b.started, __ATOMIC_SEQ_CST))
    usleep(100);
  usleep(2000);
  netns_shutdown();
  pthread_join(th, NULL);
  int served = 0, stopped = 0, order_ok = 1;
  for (int i = 0; i < 300; i++) {
    if (b.status[i] == NETNS_OK) {
      order_ok &= stopped == 0; /* served in order: no request after a stopped one */
      served += find_if(&b.res[i], veth_x[i % N_VETH_NS]) != NULL;
    } else {
      stopped += b.status[i] == NETNS_STOPPED && b.res[i].ifs == NULL &&
                 strcmp(b.res[i].errmsg, netns_status_str(NETNS_STOPPED)) == 0;
    }
    netns_result_free(&b.res[i]);
  }
  printf("  shutdown during a batch of 300: %d served, %d stopped\n", served, stopped);
  CHECK_INT(served + stopped, 300);
  CHECK(order_ok);
  CHECK(all_threads_home());
}

int main(void) {
  if (geteuid() != 0)
    TEST_SKIP("netns_root needs root: it creates network namespaces, a veth pair and a cgroup");
  if (sh("ip -V >/dev/null 2>&1") != 0)
    TEST_SKIP("the ip command (iproute2) is missing");

  struct stat st;
  CHECK(stat("/proc/self/ns/net", &st) == 0);
  host_ino = (uint64_t)st.st_ino;
  int fds_before = count_fds();

  int me = (int)getpid();
  snprintf(ns_a, sizeof(ns_a), "nsrt-a-%d", me);
  snprintf(ns_b, sizeof(ns_b), "nsrt-b-%d", me);
  snprintf(veth_a, sizeof(veth_a), "nsa%d", me % 1000000);
  snprintf(veth_b, sizeof(veth_b), "nsb%d", me % 1000000);
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  if (sh("ip netns add %s 2>/dev/null", ns_a) != 0) {
    ns_a[0] = ns_b[0] = '\0';
    TEST_SKIP("cannot create network namespaces here (ip netns add failed)");
  }
  CHECK_INT(sh("ip netns add %s", ns_b), 0);
  /* No IPv6 autoconfiguration chatter on the veth while we compare counters. */
  sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
     "net.ipv6.conf.default.disable_ipv6=1 2>/dev/null",
     ns_a);
  sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
     "net.ipv6.conf.default.disable_ipv6=1 2>/dev/null",
     ns_b);
  CHECK_INT(
      sh("ip link add %s netns %s type veth peer name %s netns %s", veth_a, ns_a, veth_b, ns_b), 0);
  CHECK_INT(sh("ip -n %s addr add %s/30 dev %s && ip -n %s link set %s up && ip -n %s link set "
               "lo up",
               ns_a, ADDR_A, veth_a, ns_a, veth_a, ns_a),
            0);
  CHECK_INT(sh("ip -n %s addr add %s/30 dev %s && ip -n %s link set %s up && ip -n %s link set "
               "lo up",
               ns_b, ADDR_B, veth_b, ns_b, veth_b, ns_b),
            0);
  char path[128];
  snprintf(path, sizeof(path), "/run/netns/%s", ns_a);
  CHECK(stat(path, &st) == 0);
  netns_id_t id_a = {.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};

  int pa_cmd[2], pa_ack[2], pb[2];
  CHECK(pipe2(pa_cmd, O_CLOEXEC) == 0 && pipe2(pa_ack, O_CLOEXEC) == 0 &&
        pipe2(pb, O_CLOEXEC) == 0);
  fflush(stdout);
  child_b = fork();
  if (child_b == 0)
    run_child_b(pb[1]);
  uint64_t got = 1;
  CHECK(read(pb[0], &got, sizeof(got)) == sizeof(got) && got == 0); /* B listens */
  child_a = fork();
  if (child_a == 0)
    run_child_a(pa_cmd[0], pa_ack[1]);
  close(pa_cmd[0]);
  close(pa_ack[1]);
  close(pb[1]);
  cmd_a = pa_cmd[1];
  child_h = fork(); /* a process in the host namespace */
  if (child_h == 0) {
    pause();
    _exit(0);
  }
  /* Child A in a cgroup of its own, so membership is checked for real. */
  bool have_cg = make_cgroup(child_a);
  printf("  membership check: %s\n", have_cg ? cg_dir : "PID compare (no cgroup could be made)");
  /* Wait until child A has entered namespace A. */
  for (int i = 0; i < 200; i++) {
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child_a);
    if (stat(path, &st) == 0 && (uint64_t)st.st_ino == id_a.ino)
      break;
    usleep(5000);
  }

  for (int k = 0; k < N_VETH_NS; k++)
    make_veth_ns(k);
  for (int k = 0; k < N_VETH_NS; k++)
    CHECK(wait_in_ns(child_x[k], named_ns_id(ns_x[k])));

  test_eperm();

  CHECK_INT(netns_init(test_log), 0);
  CHECK_U64(netns_host_id().ino, host_ino);
  CHECK(all_threads_home());

  /* Candidates: a reaped PID, a PID outside the container, then child A. */
  pid_t dead = fork();
  if (dead == 0)
    _exit(0);
  waitpid(dead, NULL, 0);
  pid_t cands[] = {dead, getpid(), child_a};
  netns_request_t req = {.proc_root = "/proc", .pids = cands, .n_pids = 3, .still_member = member};
  netns_result_t res;
  int rc = netns_read(&req, &res);
  CHECK_INT(rc, NETNS_OK);
  CHECK_INT(res.pid, child_a);
  CHECK(netns_id_equal(res.id, id_a));
  CHECK(find_if(&res, "lo") != NULL);
  CHECK(find_if(&res, veth_a) != NULL);
  CHECK(find_if(&res, veth_b) == NULL);
  CHECK_INT(res.n_ifs, 2);
  netns_result_free(&res);
  CHECK(all_threads_home());

  CHECK_INT(netns_identify(&req, &res), NETNS_OK);
  CHECK(netns_id_equal(res.id, id_a));
  CHECK_INT(res.pid, child_a);

  /* The host namespace: no counters of its own. */
  pid_t hp[] = {child_h};
  netns_request_t hreq = {
      .proc_root = "/proc", .pids = hp, .n_pids = 1, .still_member = accept_all};
  CHECK_INT(netns_read(&hreq, &res), NETNS_HOST);
  CHECK(res.ifs == NULL && res.n_ifs == 0);
  CHECK_U64(res.id.ino, host_ino);
  netns_result_free(&res);
  CHECK_INT(netns_identify(&hreq, &res), NETNS_HOST);
  CHECK(all_threads_home());

  /* claim() declining: no read, the identity still reported. */
  netns_id_t claimed = {0};
  netns_request_t creq = req;
  creq.claim = decline;
  creq.ctx = &claimed;
  CHECK_INT(netns_read(&creq, &res), NETNS_SKIPPED);
  CHECK(netns_id_equal(claimed, id_a));
  CHECK(res.ifs == NULL);
  netns_result_free(&res);

  /* A known number of bytes across the veth. */
  netns_if_stats_t before, after;
  CHECK(read_a(&before));
  CHECK(write(cmd_a, "S", 1) == 1);
  char ack = 0;
  CHECK(read(pa_ack[0], &ack, 1) == 1 && ack == 'D');
  CHECK(read(pb[0], &got, sizeof(got)) == sizeof(got));
  CHECK_U64(got, PAYLOAD);
  waitpid(child_b, NULL, 0);
  child_b = -1;
  usleep(100000); /* let the last ACK/FIN settle */
  ipstats_t ip1, ip2;
  CHECK(ip_stats(ns_a, veth_a, &ip1));
  CHECK(read_a(&after));
  CHECK(ip_stats(ns_a, veth_a, &ip2));
  CHECK(all_threads_home());
  printf("  %s tx_bytes %" PRIu64 " -> %" PRIu64 " (+%" PRIu64
         " for %d payload bytes); ip -s: %" PRIu64 "\n",
         veth_a, before.tx_bytes, after.tx_bytes, after.tx_bytes - before.tx_bytes, PAYLOAD,
         ip1.tx_bytes);
  CHECK(after.tx_bytes - before.tx_bytes >= PAYLOAD);
  CHECK(after.tx_packets > before.tx_packets);
  CHECK(after.rx_packets > before.rx_packets); /* the ACKs */
  CHECK(ip1.tx_bytes <= after.tx_bytes && after.tx_bytes <= ip2.tx_bytes);
  CHECK(ip1.rx_bytes <= after.rx_bytes && after.rx_bytes <= ip2.rx_bytes);
  CHECK(ip1.tx_packets <= after.tx_packets && after.tx_packets <= ip2.tx_packets);
  CHECK(ip1.rx_packets <= after.rx_packets && after.rx_packets <= ip2.rx_packets);
  CHECK_U64(after.tx_errors, 0);

  /* Several collectd read threads at once. */
  pthread_t th[4];
  conc_t conc[4] = {{0}};
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, conc_thread, &conc[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(conc[i].ok, conc[i].runs);
  }
  CHECK(all_threads_home());

  /* Cost of one namespace read (wall time seen by the caller, and CPU of the whole process). */
  double samples[COST_SAMPLES], idsamples[COST_SAMPLES];
  struct timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  for (int i = 0; i < COST_SAMPLES; i++) {
    double t0 = now_us();
    rc = netns_read(&req, &res);
    samples[i] = now_us() - t0;
    CHECK_INT(rc, NETNS_OK);
    netns_result_free(&res);
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  double cpu_us =
      ((double)(c1.tv_sec - c0.tv_sec) * 1e6 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e3) /
      COST_SAMPLES;
  for (int i = 0; i < COST_SAMPLES; i++) {
    double t0 = now_us();
    netns_identify(&req, &res);
    idsamples[i] = now_us() - t0;
  }
  double one[COST_SAMPLES];
  pid_t only_a[] = {child_a};
  netns_request_t oreq = {
      .proc_root = "/proc", .pids = only_a, .n_pids = 1, .still_member = member};
  for (int i = 0; i < COST_SAMPLES; i++) {
    double t0 = now_us();
    rc = netns_read(&oreq, &res);
    one[i] = now_us() - t0;
    CHECK_INT(rc, NETNS_OK);
    netns_result_free(&res);
  }
  qsort(one, COST_SAMPLES, sizeof(double), cmp_double);
  printf("COST netns_read (2 interfaces, 1 PID, cgroup check): median %.1f us, p90 %.1f us\n",
         one[COST_SAMPLES / 2], one[COST_SAMPLES * 9 / 10]);
  qsort(samples, COST_SAMPLES, sizeof(double), cmp_double);
  qsort(idsamples, COST_SAMPLES, sizeof(double), cmp_double);
  printf("COST netns_read (2 interfaces, 3 candidate PIDs, cgroup check): median %.1f us, "
         "p90 %.1f us, min %.1f us; CPU %.1f us per read\n",
         samples[COST_SAMPLES / 2], samples[COST_SAMPLES * 9 / 10], samples[0], cpu_us);
  printf("COST netns_identify (no setns): median %.1f us\n", idsamples[COST_SAMPLES / 2]);
  CHECK(all_threads_home());

  /* A failed return to the host namespace retires the worker; the next request gets a fresh
   * one; after repeated failures every request fails with NETNS_POISONED. */
  netns_test_fail_returns(1);
  rc = netns_read(&req, &res);
  CHECK_INT(rc, NETNS_POISONED);
  CHECK(strstr(res.errmsg, "host network namespace") != NULL);
  netns_result_free(&res);
  CHECK_INT(log_err, 1);
  CHECK(read_a(&after)); /* replaced */
  CHECK_INT(log_warn, 1);
  CHECK(all_threads_home());
  netns_test_fail_returns(100);
  int poisoned = 0;
  for (int i = 0; i < 6; i++) {
    poisoned += netns_read(&req, &res) == NETNS_POISONED;
    netns_result_free(&res);
  }
  CHECK_INT(poisoned, 6);
  CHECK(all_threads_home());
  netns_shutdown();
  netns_test_fail_returns(0);
  CHECK_INT(netns_init(test_log), 0);
  CHECK(read_a(&after));

  test_many_links(&req);
  test_batch(dead);
  test_batch_failed_return();
  test_batch_shutdown();
  CHECK_INT(netns_init(test_log), 0);

  /* Pinning: child A exits and the named namespace goes; nothing of ours may keep it alive. */
  reap(&child_a);
  close(cmd_a);
  CHECK_INT(sh("ip netns del %s", ns_a), 0);
  ns_a[0] = '\0';
  pid_t gone[] = {cands[2]};
  netns_request_t greq = {.proc_root = "/proc", .pids = gone, .n_pids = 1, .still_member = member};
  CHECK_INT(netns_read(&greq, &res), NETNS_NO_PID);
  netns_result_free(&res);
  CHECK(all_threads_home());
  char ns_a_link[64];
  snprintf(ns_a_link, sizeof(ns_a_link), "net:[%" PRIu64 "]", id_a.ino);
  CHECK_INT(fds_on(ns_a_link, NULL), 0); /* no fd left on namespace A */
  bool veth_gone = false;
  double t0 = now_us();
  for (int i = 0; i < 500 && !veth_gone; i++) {
    veth_gone = sh("ip -n %s link show %s >/dev/null 2>&1", ns_b, veth_b) != 0;
    if (!veth_gone)
      usleep(10000);
  }
  CHECK(veth_gone);
  printf("  namespace A destroyed: peer %s gone from %s after %.0f ms\n", veth_b, ns_b,
         (now_us() - t0) / 1000);

  netns_shutdown();
  close(pa_ack[0]);
  close(pb[0]);
  reap(&child_h);
  cleanup();
  CHECK_INT(count_fds(), fds_before);
  return test_result("netns_root");
}
