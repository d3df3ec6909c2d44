/* Root-only check of task_sample_subtree on real cgroups (no collectd):
 * - cgroup v1 (/sys/fs/cgroup/cpu): 2 busy loops read as running=2 through cgroupstats, and a
 *   busy loop in a child cgroup is counted (cgroupstats alone sees only the top's own tasks);
 * - cgroup v2 (/sys/fs/cgroup/unified): the same numbers through the procstate fallback;
 * - a vfork parent (TASK_KILLABLE wait, counted by the kernel's load average): /proc says D,
 *   cgroupstats does not count it: the evidence for feeding the load from procstate;
 * - sleeping processes, and the cost of one cgroupstats query vs procstate for N threads.
 * Exits 77 (SKIP) when not root or the hierarchies are missing; removes every cgroup and child
 * it made, also on failure or SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include "cgroupstats.h"
#include "delayacct.h"
#include "genl.h"
#include "genl_testing.h"
#include "procstate.h"
#include "taskstats.h"
#include "tasksample.h"
#include "../unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define V1_ROOT "/sys/fs/cgroup/cpu"
#define V2_ROOT "/sys/fs/cgroup/unified"
#define MAX_KIDS 32
#define MAX_CG 16

static pid_t kids[MAX_KIDS];
static int nkids;
static char cgs[MAX_CG][256]; /* created cgroups, parents before children */
static int ncgs;

/* Kills whatever is left in a cgroup we made (a vfork child does not inherit PDEATHSIG). */
static void kill_members(const char *cg) {
  char p[300];
  snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return;
  int pid;
  while (fscanf(f, "%d", &pid) == 1)
    if (pid > 0 && pid != getpid())
      kill(pid, SIGKILL);
  fclose(f);
}

static void cleanup(void) {
  for (int i = 0; i < ncgs; i++)
    kill_members(cgs[i]);
  for (int i = 0; i < nkids; i++)
    if (kids[i] > 0)
      kill(kids[i], SIGKILL);
  for (int i = 0; i < nkids; i++)
    if (kids[i] > 0)
      waitpid(kids[i], NULL, 0);
  nkids = 0;
  for (int i = ncgs - 1; i >= 0; i--) {
    /* A killed task leaves its cgroup asynchronously: retry for a while. */
    for (int t = 0; t < 100 && rmdir(cgs[i]) != 0 && errno == EBUSY; t++)
      usleep(20000);
    if (access(cgs[i], F_OK) == 0)
      fprintf(stderr, "could not remove %s: %s\n", cgs[i], strerror(errno));
  }
  ncgs = 0;
}

static void on_signal(int sig) {
  (void)sig;
  cleanup();
  _exit(1);
}

static const char *make_cg(const char *parent, const char *name) {
  if (ncgs == MAX_CG)
    exit(1);
  snprintf(cgs[ncgs], sizeof(cgs[0]), "%s/%s", parent, name);
  if (mkdir(cgs[ncgs], 0755) != 0) {
    fprintf(stderr, "mkdir %s: %s\n", cgs[ncgs], strerror(errno));
    exit(1);
  }
  return cgs[ncgs++];
}

static void join_cg(const char *cg, pid_t pid) {
  char p[300], s[32];
  snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  int n = snprintf(s, sizeof(s), "%d\n", (int)pid);
  if (fd < 0 || write(fd, s, (size_t)n) != n) {
    fprintf(stderr, "join %s: %s\n", p, strerror(errno));
    exit(1);
  }
  close(fd);
}

static void busy(void) {
  for (volatile unsigned long x = 0;; x++)
    ;
}

static void *sleeper_thread(void *arg) {
  (void)arg;
  for (;;)
    pause();
  return NULL;
}

enum { KID_BUSY, KID_SLEEP, KID_VFORK, KID_THREADS };

/* Starts a child in cg; it runs only after it has been moved there. */
static pid_t spawn(const char *cg, int kind, int nthreads) {
  int p[2];
  if (pipe(p) != 0)
    exit(1);
  pid_t pid = fork();
  if (pid < 0)
    exit(1);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) != 1)
      _exit(1);
    switch (kind) {
    case KID_BUSY:
      busy();
      break;
    case KID_SLEEP:
      for (;;)
        sleep(1000); /* nanosleep: a freezable sleep since Linux 6.1 */
      break;
    case KID_VFORK: {
      /* The parent waits killably until the child execs or exits. */
      pid_t c2 = vfork();
      if (c2 == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sleep(1000);
        _exit(0);
      }
      waitpid(c2, NULL, 0);
      _exit(0);
    }
    case KID_THREADS:
      for (int i = 0; i < nthreads; i++) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 * 1024);
        if (pthread_create(&t, &a, sleeper_thread, NULL) != 0)
          _exit(2);
      }
      for (;;)
        pause();
    }
    _exit(0);
  }
  close(p[0]);
  kids[nkids++] = pid;
  join_cg(cg, pid);
  if (write(p[1], "x", 1) != 1)
    exit(1);
  close(p[1]);
  return pid;
}

static int sample(const char *cg, task_method_t *m, task_counts_t *c) {
  int fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = task_sample_subtree(fd, "/proc", m, c);
  close(fd);
  return rc;
}

static void show(const char *what, const task_method_t *m, const task_counts_t *c) {
  printf("  %-40s [%s] R=%lu S=%lu D=%lu T=%lu iowait=%lu\n", what, task_method_name(m->kind),
         (unsigned long)c->running, (unsigned long)c->sleeping, (unsigned long)c->uninterruptible,
         (unsigned long)c->stopped, (unsigned long)c->iowait);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Running and sleeping tasks flicker for an instant while a busy loop is preempted: take the
 * most frequent reading of a few. */
static void settle(void) {
  usleep(300000);
}

static void test_hierarchy(const char *root, const char *tag, task_method_kind_t expect) {
  char name[64];
  snprintf(name, sizeof(name), "ctr-test-%d-%s", (int)getpid(), tag);
  const char *top = make_cg(root, name);
  const char *child = make_cg(top, "child");
  printf("%s (%s):\n", top, tag);

  spawn(top, KID_BUSY, 0);
  spawn(top, KID_BUSY, 0);
  settle();
  task_method_t m = {0};
  task_counts_t c;
  CHECK_INT(sample(top, &m, &c), 0);
  show("2 busy loops", &m, &c);
  CHECK_INT(m.kind, expect);
  CHECK_U64(c.running, 2);
  if (expect == TASK_METHOD_PROCSTATE)
    printf("  fell back because cgroupstats answered: %s\n", strerror(-m.fallback_reason));

  spawn(child, KID_BUSY, 0);
  spawn(child, KID_SLEEP, 0);
  settle();
  CHECK_INT(sample(top, &m, &c), 0);
  show("+ busy loop and sleeper in child cgroup", &m, &c);
  CHECK_U64(c.running, 3);
  if (expect == TASK_METHOD_PROCSTATE)
    CHECK_U64(c.sleeping, 1);

  if (expect == TASK_METHOD_CGROUPSTATS) {
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    task_counts_t own = {0};
    CHECK_INT(cgroupstats_query(fd, &own), 0);
    close(fd);
    printf("  cgroupstats of the top directory alone: R=%lu (its own tasks only)\n",
           (unsigned long)own.running);
    CHECK_U64(own.running, 2);
    task_method_t p = {.kind = TASK_METHOD_PROCSTATE};
    CHECK_INT(sample(top, &p, &c), 0);
    show("same subtree via procstate", &p, &c);
    CHECK_U64(c.running, 3);
    CHECK_U64(c.sleeping, 1);
  }
  cleanup();
}

static void test_vfork_and_sleep(void) {
  char name[64];
  snprintf(name, sizeof(name), "ctr-test-%d-vfork", (int)getpid());
  const char *top = make_cg(V1_ROOT, name);
  printf("%s: a vfork parent (killable wait) and 2 sleepers\n", top);
  spawn(top, KID_VFORK, 0);
  spawn(top, KID_SLEEP, 0);
  spawn(top, KID_SLEEP, 0);
  settle();
  task_method_t cs = {.kind = TASK_METHOD_CGROUPSTATS}, ps = {.kind = TASK_METHOD_PROCSTATE};
  task_counts_t a, b;
  CHECK_INT(sample(top, &cs, &a), 0);
  CHECK_INT(sample(top, &ps, &b), 0);
  show("cgroupstats", &cs, &a);
  show("procstate", &ps, &b);
  /* /proc: parent D (counted by the kernel's load), vfork child + 2 sleepers S. */
  CHECK_U64(b.uninterruptible, 1);
  CHECK_U64(b.sleeping, 3);
  CHECK_U64(task_counts_load(&b), 1);
  /* cgroupstats switches on the exact state: TASK_KILLABLE and freezable sleeps fall through.
   * If a kernel ever counts them, revisit the load-feed decision in loadavg.h. */
  if (a.uninterruptible != 0)
    printf("  NOTE: this kernel's cgroupstats counts the killable wait\n");
  printf("  => load feed: cgroupstats R+D = %lu, procstate R+D = %lu (kernel counts 1)\n",
         (unsigned long)task_counts_load(&a), (unsigned long)task_counts_load(&b));
  CHECK_U64(a.uninterruptible, 0);
  cleanup();
}

/* Nothing may stay queued on the thread's socket after a request: one system call to send, one
 * to receive (an ACK asked for, as libnl does by default, would wait there for the next
 * request to read and skip). Also after an error, and with the next request still answered. */
static bool socket_drained(void) {
  int fd = genl_thread_socket_fd();
  char b[64];
  errno = 0;
  return fd >= 0 && recv(fd, b, sizeof(b), MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

static void test_nothing_left_queued(void) {
  ts_stats_t st;
  CHECK_INT(taskstats_query_tgid(getpid(), &st), 0);
  CHECK(socket_drained());
  CHECK(taskstats_query_tgid(0x3ffffff0, &st) < 0); /* no such process: the kernel's error */
  CHECK(socket_drained());
  CHECK_INT(taskstats_query_tgid(getpid(), &st), 0);
  CHECK(socket_drained());
  int dirfd = open(V1_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  task_counts_t c;
  CHECK(dirfd >= 0 && cgroupstats_query(dirfd, &c) == 0);
  CHECK(socket_drained());
  if (dirfd >= 0)
    close(dirfd);
}

/* A child that waits in pause() until killed. */
static pid_t paused_kid(void) {
  pid_t kid = fork();
  if (kid == 0) {
    pause();
    _exit(0);
  }
  return kid;
}

/* The PID of a child that exited and was reaped: no process has it (for a while). */
static pid_t reaped_pid(void) {
  pid_t dead = fork();
  if (dead == 0)
    _exit(0);
  waitpid(dead, NULL, 0);
  return dead;
}

/* 70 TGIDs in one call (three sendmmsg of up to 32): each answered as alone, a dead PID and a
 * non-PID with their own errors, nothing left queued; queries inside larger records too. */
static void test_batch_queries(void) {
  pid_t kid = paused_kid();
  pid_t dead = reaped_pid();
  usleep(20000); /* the kid has reached pause(): its switch counts stay put */
  enum { N = 70 };
  ts_query_t q[N];
  for (int i = 0; i < N; i++)
    q[i] = (ts_query_t){.tgid = i % 3 == 0 ? getpid() : i % 3 == 1 ? kid : dead, .rc = 7};
  q[7].tgid = 0;
  CHECK_INT(taskstats_query_tgids(q, N, sizeof(q[0])), 0);
  int ok = 0, failed = 0;
  for (int i = 0; i < N; i++) {
    if (i == 7 || q[i].tgid == dead)
      failed += q[i].rc < 0;
    else
      ok += q[i].rc == 0;
  }
  CHECK_INT(ok, 46);
  CHECK_INT(failed, 24);
  CHECK_INT(q[7].rc, -EINVAL);
  CHECK(socket_drained());
  ts_stats_t alone;
  CHECK_INT(taskstats_query_tgid(kid, &alone), 0);
  for (int i = 1; i < N; i += 3) /* each kid entry has the kid's own numbers */
    if (i != 7) {
      CHECK_U64(alone.nvcsw, q[i].stats.nvcsw);
      CHECK_U64(alone.nivcsw, q[i].stats.nivcsw);
      CHECK(alone.etime_us >= q[i].stats.etime_us &&
            alone.etime_us - q[i].stats.etime_us < 1000000);
    }
  struct {
    char before;
    ts_query_t q;
    char after;
  } rec[3] = {{'a', {.tgid = kid}, 'b'}, {'c', {.tgid = dead}, 'd'}, {'e', {.tgid = kid}, 'f'}};
  CHECK_INT(taskstats_query_tgids(&rec[0].q, 3, sizeof(rec[0])), 0);
  CHECK(rec[0].q.rc == 0 && rec[1].q.rc < 0 && rec[2].q.rc == 0);
  CHECK_U64(rec[2].q.stats.nvcsw, alone.nvcsw);
  CHECK(rec[0].before == 'a' && rec[0].after == 'b' && rec[2].before == 'e' && rec[2].after == 'f');
  CHECK_INT(taskstats_query_tgids(q, 0, sizeof(q[0])), 0);
  CHECK_INT(taskstats_query_tgids(NULL, 0, sizeof(q[0])), 0);
  kill(kid, SIGKILL);
  waitpid(kid, NULL, 0);
}

/* Several containers' delays in one batched query: each container gets its own processes (a
 * dead one skipped, an empty container fine), as from one call per container; 40 containers
 * (more than a batch of 32) all answered. */
static void test_delay_jobs(void) {
  delay_config_t cfg = {.proc_root = "/proc"};
  CHECK_INT(delay_init(&cfg), 0);
  pid_t kid[3] = {paused_kid(), paused_kid(), paused_kid()};
  pid_t dead = reaped_pid();
  pid_t a[] = {kid[0]}, b[] = {kid[1], dead, kid[2]};
  enum { JOBS = 40 };
  delay_job_t jobs[JOBS];
  delay_state_t *st[JOBS];
  for (int j = 0; j < JOBS; j++) {
    st[j] = delay_state_create();
    jobs[j] = (delay_job_t){.st = st[j], .tgids = a, .n = 1};
  }
  jobs[1].tgids = b;
  jobs[1].n = 3;
  jobs[2].n = 0;
  delay_sample_containers(jobs, JOBS);
  int ones = 0;
  for (int j = 0; j < JOBS; j++) {
    CHECK_INT(jobs[j].rc, 0);
    ones += jobs[j].rc == 0 && jobs[j].out.n_tasks == 1;
  }
  CHECK_INT(jobs[1].out.n_tasks, 2);
  CHECK_INT(jobs[2].out.n_tasks, 0);
  CHECK_INT(ones, JOBS - 2);
  delay_totals_t alone;
  delay_state_t *one = delay_state_create();
  CHECK_INT(delay_sample_container(one, b, 3, NULL, &alone), 0);
  CHECK_INT(alone.n_tasks, 2);
  delay_state_destroy(one);
  for (int j = 0; j < JOBS; j++)
    delay_state_destroy(st[j]);
  for (int i = 0; i < 3; i++) {
    kill(kid[i], SIGKILL);
    waitpid(kid[i], NULL, 0);
  }
  delay_shutdown();
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static void test_cost(int nthreads) {
  char name[64];
  snprintf(name, sizeof(name), "ctr-test-%d-cost", (int)getpid());
  const char *top = make_cg(V1_ROOT, name);
  spawn(top, KID_THREADS, nthreads);
  usleep(300000 + nthreads * 200);
  int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  enum { REPS = 41 };
  double tcs[REPS], tps[REPS];
  task_counts_t c;
  for (int r = 0; r < REPS; r++) {
    task_method_t cs = {.kind = TASK_METHOD_CGROUPSTATS}, ps = {.kind = TASK_METHOD_PROCSTATE};
    double t0 = now_us();
    CHECK_INT(task_sample_subtree(fd, "/proc", &cs, &c), 0);
    double t1 = now_us();
    CHECK_INT(task_sample_subtree(fd, "/proc", &ps, &c), 0);
    double t2 = now_us();
    tcs[r] = t1 - t0;
    tps[r] = t2 - t1;
  }
  CHECK_U64(c.sleeping, (uint64_t)nthreads + 1);
  close(fd);
  qsort(tcs, REPS, sizeof(double), cmp_double);
  qsort(tps, REPS, sizeof(double), cmp_double);
  printf("cost, one cgroup with %4d threads: cgroupstats %7.1f us, procstate %8.1f us (median "
         "of %d)\n",
         nthreads + 1, tcs[REPS / 2], tps[REPS / 2], REPS);
  cleanup();
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (geteuid() != 0)
    TEST_SKIP("taskstate_root needs root (creates cgroups, uses CGROUPSTATS)");
  if (access(V1_ROOT "/tasks", F_OK) != 0)
    TEST_SKIP("no cgroup v1 cpu hierarchy at " V1_ROOT);
  if (access(V2_ROOT "/cgroup.procs", F_OK) != 0)
    TEST_SKIP("no cgroup v2 hierarchy at " V2_ROOT);
  int rc = genl_init();
  if (rc)
    TEST_SKIP("the TASKSTATS generic netlink family is not available");
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  test_hierarchy(V1_ROOT, "v1", TASK_METHOD_CGROUPSTATS);
  test_hierarchy(V2_ROOT, "v2", TASK_METHOD_PROCSTATE);
  test_vfork_and_sleep();
  test_nothing_left_queued();
  test_batch_queries();
  test_delay_jobs();
  test_cost(10);
  test_cost(100);
  test_cost(1000);
  genl_shutdown();
  CHECK_INT(genl_open_sockets(), 0);
  return test_result("taskstate_root");
}
