/* procstate.c and tasksample.c without root: /proc/PID/stat lines from real fixtures, and a fake
 * proc tree plus a fake cgroup tree (child cgroups, a TID that does not exist, v1 "tasks",
 * a cgroup.threads longer than one read buffer) under a temporary directory. */
#define _GNU_SOURCE
#include "cgprocs.h"
#include "procstate.h"
#include "cgfiles.h"
#include "delayacct.h"
#include "genl.h"
#include "genl_testing.h"
#include "util.h"
#include "tasksample.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_file(const char *dir, const char *name, const char *text) {
  char p[4096];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (f == NULL) {
    perror(p);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

static char parse_fixture(const char *name) {
  char path[4096], buf[4096];
  snprintf(path, sizeof(path), "%s/proc-pid-stat/%s/stat", real_fixture_dir(), name);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "missing fixture %s\n", path);
    test_checks++, test_failures++;
    return '?';
  }
  size_t n = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  char st = '?';
  int rc = procstate_parse_stat(buf, n, &st);
  CHECK_INT(rc, 0);
  return st;
}

static void test_fixtures(void) {
  static const struct {
    const char *dir;
    char state;
  } cases[] = {
      {"below-bash-process-6", 'D'}, /* comm "((bash process)", no trailing newline */
      {"elastic-agent-1", 'S'},      /* stray '"' after the last field */
      {"kepler-3456208-16", 'S'},
      {"kepler-3538317-15", 'S'},
      {"kepler-43251-14", 'S'},
      {"node-exporter-khungtaskd-12", 'S'},
      {"node-exporter-rcu-idle-13", 'I'}, /* idle kernel thread */
      {"node-exporter-systemd-11", 'S'},
      {"procfs-kthread-EDITED-9", 'S'},
      {"procfs-parens-spaces-7", 'R'}, /* comm "(a b ) ( c d) " */
      {"procfs-threaded-10", 'S'},
      {"procfs-vim-8", 'R'},
      {"rsys-alacritty-18", 'S'},
      {"rsys-tmux-server-17", 'S'}, /* "tmux: server" */
      {"runc-cat-3", 'R'},
      {"runc-gunicorn-2", 'S'},
      {"runc-kthread-4", 'S'},
      {"runc-ugly-EDITED-5", 'R'}, /* "(ugly )pr()cess(" */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char st = parse_fixture(cases[i].dir);
    if (st != cases[i].state)
      fprintf(stderr, "fixture %s: state '%c'\n", cases[i].dir, st);
    CHECK(st == cases[i].state);
  }
}

static void test_parse_edge(void) {
  char st = 0;
  const char *s = "1 (a) R 0";
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), 0);
  CHECK(st == 'R');
  s = "1 (a) b) D 0 0"; /* last ')' wins */
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), 0);
  CHECK(st == 'D');
  s = "1 (a)) t"; /* line ends right after the state */
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), 0);
  CHECK(st == 't');
  s = "1 (a) S\n";
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), 0);
  CHECK(st == 'S');
  s = "1 (a) R 2";
  CHECK_INT(procstate_parse_stat(s, 5, &st), -EINVAL); /* ends at ')' */
  s = "1 (abc R 0";
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), -EINVAL); /* no ')' */
  s = "1 (a) RR 0";
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), -EINVAL);
  s = "1 (a)   \n";
  CHECK_INT(procstate_parse_stat(s, strlen(s), &st), -EINVAL);
  CHECK_INT(procstate_parse_stat(NULL, 0, &st), -EINVAL);
}

static void test_classify(void) {
  task_counts_t c = {0};
  CHECK_INT(procstate_classify('R', &c), 1);
  CHECK_INT(procstate_classify('D', &c), 1); /* includes TASK_KILLABLE (vfork parent) */
  CHECK_INT(procstate_classify('S', &c), 1);
  CHECK_INT(procstate_classify('T', &c), 1);
  CHECK_INT(procstate_classify('t', &c), 1);
  CHECK_INT(procstate_classify('I', &c), 0); /* TASK_IDLE: TASK_NOLOAD, not load */
  CHECK_INT(procstate_classify('Z', &c), 0);
  CHECK_INT(procstate_classify('X', &c), 0);
  CHECK_INT(procstate_classify('P', &c), 0);
  CHECK_U64(c.running, 1);
  CHECK_U64(c.uninterruptible, 1);
  CHECK_U64(c.sleeping, 1);
  CHECK_U64(c.stopped, 2);
  CHECK_U64(c.iowait, 0);
  /* The load-average feed: R + D, not I. */
  CHECK_U64(task_counts_load(&c), 2);
}

static char tmp[] = "/tmp/test_procstate.XXXXXX";

static void mk(const char *rel) {
  char p[4096];
  snprintf(p, sizeof(p), "%s/%s", tmp, rel);
  if (mkdir(p, 0755) != 0) {
    perror(p);
    exit(1);
  }
}

static void add_task(int tid, const char *comm, char state) {
  char rel[64], line[256];
  snprintf(rel, sizeof(rel), "proc/%d", tid);
  mk(rel);
  snprintf(line, sizeof(line), "%d (%s) %c 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0\n", tid,
           comm, state, tid, tid);
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/%s", tmp, rel);
  write_file(dir, "stat", line);
}

static void rm_rf(const char *path) {
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup of %s failed\n", path);
}

static void test_subtree(void) {
  if (mkdtemp(tmp) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  char d0[4096];
  mk("proc");
  add_task(100, "busy", 'R');
  add_task(101, "vfork parent", 'D');
  add_task(102, "sle(e)p) x", 'S');
  add_task(103, "kworker/0:1", 'I');
  add_task(104, "zombie", 'Z');
  add_task(105, "stopped", 'T');
  add_task(106, "traced", 't');
  /* A thread of a multi-threaded process: TID/stat would be the whole process's (state of the
   * leader's view here 'S'); the per-thread TID/task/TID/stat has the thread's own state. */
  add_task(107, "busy2", 'S');
  mk("proc/107/task");
  mk("proc/107/task/107");
  snprintf(d0, sizeof(d0), "%s/proc/107/task/107", tmp);
  write_file(d0, "stat", "107 (busy2) R 1 107 107 0 -1 0\n");
  add_task(108, "v1", 'R');

  mk("cg");
  mk("cg/pod");
  mk("cg/pod/ctr1");
  mk("cg/pod/ctr1/sub");
  mk("cg/pod/ctr2");
  mk("cg/v1");
  char d[4096];
  snprintf(d, sizeof(d), "%s/cg/pod", tmp);
  write_file(d, "cgroup.threads", "100\n999999\n"); /* 999999 does not exist */
  snprintf(d, sizeof(d), "%s/cg/pod/ctr1", tmp);
  write_file(d, "cgroup.threads", "101\n102\n103\n104"); /* no trailing newline */
  snprintf(d, sizeof(d), "%s/cg/pod/ctr1/sub", tmp);
  write_file(d, "cgroup.threads", "");
  snprintf(d, sizeof(d), "%s/cg/pod/ctr2", tmp);
  /* Longer than procstate's read buffer: lines straddle the read boundary. */
  char *big = malloc(64 * 1024);
  size_t off = 0;
  for (int i = 0; i < 3000; i++)
    off += (size_t)sprintf(big + off, "%d\n", i == 1500 ? 105 : 200000 + i);
  off += (size_t)sprintf(big + off, "106\n107\n");
  write_file(d, "cgroup.threads", big);
  free(big);
  snprintf(d, sizeof(d), "%s/cg/v1", tmp);
  write_file(d, "tasks", "108\n"); /* v1 lists threads in "tasks" */

  char procroot[4096], cgpath[4096];
  snprintf(procroot, sizeof(procroot), "%s/proc", tmp);
  snprintf(cgpath, sizeof(cgpath), "%s/cg/pod", tmp);
  int fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(fd >= 0);

  int fds_before = count_fds();
  task_method_t m = {.kind = TASK_METHOD_PROCSTATE};
  task_counts_t c;
  memset(&c, 0xff, sizeof(c));
  CHECK_INT(task_sample_subtree(fd, procroot, &m, &c), 0);
  CHECK_U64(c.running, 2);         /* 100, 107 */
  CHECK_U64(c.uninterruptible, 1); /* 101 */
  CHECK_U64(c.sleeping, 1);        /* 102 */
  CHECK_U64(c.stopped, 2);         /* 105, 106 */
  CHECK_U64(c.iowait, 0);
  CHECK_U64(task_counts_load(&c), 3);
  CHECK_INT(m.kind, TASK_METHOD_PROCSTATE);
  CHECK_INT(count_fds(), fds_before);

  /* Within a budget: every directory (4) by default; one directory (the top's own task 100)
   * when that is the limit, which the budget reports. */
  int pfd = open(procroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  task_budget_t b = {.max_ms = 600000}; /* no time limit on a loaded machine */
  CHECK_INT(task_sample_subtree_budget(fd, pfd, &m, &c, NULL, NULL, &b), 0);
  CHECK_INT(b.dirs, 4);
  CHECK_INT(b.cut, 0);
  CHECK_INT(b.max_dirs, TASK_MAX_DIRS);
  CHECK_U64(c.running, 2);
  b = (task_budget_t){.max_dirs = 1, .max_ms = 600000};
  CHECK_INT(task_sample_subtree_budget(fd, pfd, &m, &c, NULL, NULL, &b), 0);
  CHECK_INT(b.dirs, 1);
  CHECK_INT(b.cut, TASK_CUT_DIRS);
  CHECK_U64(c.running, 1);
  CHECK_U64(c.sleeping + c.uninterruptible + c.stopped, 0);
  b = (task_budget_t){.max_dirs = 3, .max_ms = 600000};
  CHECK_INT(task_sample_subtree_budget(fd, pfd, &m, &c, NULL, NULL, &b), 0);
  CHECK_INT(b.dirs, 3);
  CHECK_INT(b.cut, TASK_CUT_DIRS);
  /* 2,000 empty child cgroups take more than 1 ms (each is an open and a read): the time
   * limit ends the walk. */
  mk("cg/wide");
  snprintf(d, sizeof(d), "%s/cg/wide", tmp);
  write_file(d, "cgroup.threads", "");
  for (int i = 0; i < 2000; i++) {
    char rel[64];
    snprintf(rel, sizeof(rel), "cg/wide/c%d", i);
    mk(rel);
    snprintf(d, sizeof(d), "%s/%s", tmp, rel);
    write_file(d, "cgroup.threads", "");
  }
  snprintf(cgpath, sizeof(cgpath), "%s/cg/wide", tmp);
  int wfd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  b = (task_budget_t){.max_dirs = 100000, .max_ms = 1};
  CHECK_INT(task_sample_subtree_budget(wfd, pfd, &m, &c, NULL, NULL, &b), 0);
  CHECK_INT(b.cut, TASK_CUT_TIME);
  CHECK(b.dirs >= 1 && b.dirs < 2001);
  printf("a walk of 2,001 directories within 1 ms: %u counted\n", b.dirs);
  close(wfd);
  snprintf(cgpath, sizeof(cgpath), "%s/cg/wide", tmp);
  rm_rf(cgpath);
  close(pfd);
  CHECK_INT(count_fds(), fds_before);

  /* Only the child: its own tasks and its (empty) descendant. */
  int cfd = openat(fd, "ctr1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK_INT(task_sample_subtree(cfd, procroot, &m, &c), 0);
  CHECK_U64(c.uninterruptible, 1);
  CHECK_U64(c.sleeping, 1);
  CHECK_U64(c.running, 0);
  close(cfd);

  /* v1 layout: "tasks" instead of "cgroup.threads". */
  snprintf(cgpath, sizeof(cgpath), "%s/cg/v1", tmp);
  int v1fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK_INT(task_sample_subtree(v1fd, procroot, &m, &c), 0);
  CHECK_U64(c.running, 1);
  close(v1fd);

  /* AUTO: cgroupstats answers -EINVAL for a non-cgroupfs directory (or the family is missing, or
   * netlink is unavailable): the walk falls back and says why. */
  task_method_t a = {0};
  fds_before = count_fds();
  CHECK_INT(task_sample_subtree(fd, procroot, &a, &c), 0);
  CHECK_INT(a.kind, TASK_METHOD_PROCSTATE);
  CHECK(a.fallback_reason < 0);
  printf("AUTO on a non-cgroup directory fell back: %s (%s)\n", task_method_name(a.kind),
         strerror(-a.fallback_reason));
  CHECK_U64(c.running, 2);
  CHECK_U64(c.uninterruptible, 1);
  CHECK_INT(count_fds(), fds_before + genl_open_sockets());
  genl_shutdown();
  CHECK_INT(genl_open_sockets(), 0);
  CHECK_INT(count_fds(), fds_before);

  /* A cgroup removed under the caller's fd: the top is gone (-ENOENT), a child simply vanishes. */
  snprintf(d, sizeof(d), "%s/cg/pod/ctr1/sub", tmp);
  rm_rf(d);
  CHECK_INT(task_sample_subtree(fd, procroot, &m, &c), 0);
  CHECK_U64(c.running, 2);
  snprintf(d, sizeof(d), "%s/cg/pod/ctr2", tmp);
  int gone = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  rm_rf(d);
  CHECK_INT(task_sample_subtree(gone, procroot, &m, &c), -ENOENT);
  close(gone);

  /* Missing ProcRoot. */
  CHECK_INT(task_sample_subtree(fd, "/nonexistent/proc", &m, &c), -ENOENT);
  CHECK_INT(task_sample_subtree(-1, procroot, &m, &c), -EINVAL);
  close(fd);
  rm_rf(tmp);
}

/* The calling thread is running while it reads its own states. */
static void test_self(void) {
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(proc >= 0);
  task_counts_t c = {0};
  CHECK_INT(procstate_count_self(proc, &c), 0);
  CHECK(c.running >= 1);
  close(proc);
  CHECK_INT(procstate_count_self(-1, &c), -EBADF);
}

/* Removes a temporary fake cgroup directory holding one list file. */
static void rm_fake_cgroup(const char *dir, const char *list) {
  char p[4096];
  snprintf(p, sizeof(p), "%s/%s", dir, list);
  unlink(p);
  rmdir(dir);
}

/* Field 22 of a stat line by sscanf, to check the parser against. */
static uint64_t field22(const char *line) {
  const char *rp = strrchr(line, ')');
  unsigned long long v = 0;
  if (!rp || sscanf(rp + 1,
                    " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                    "%*s %llu",
                    &v) != 1)
    return 0;
  return v;
}

/* Field 22 of real stat lines (comm with spaces and parentheses included), and the start times
 * a count collects on the real /proc. */
static void test_starts(void) {
  static const char *const fixtures[] = {"below-bash-process-6", "procfs-parens-spaces-7",
                                         "node-exporter-systemd-11", "kepler-43251-14"};
  for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
    char path[4096], buf[4096];
    snprintf(path, sizeof(path), "%s/proc-pid-stat/%s/stat", real_fixture_dir(), fixtures[i]);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
      continue;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    uint64_t a = 0;
    CHECK_INT(procstate_parse_starttime(buf, n, &a), 0);
    CHECK(a == field22(buf) && a > 0);
    CHECK_INT(procstate_parse_starttime(buf, 40, &a), -EINVAL); /* cut before field 22 */
  }

  /* A fake cgroup listing this process's leader thread, counted against the real /proc. */
  char dir[] = "/tmp/test_procstate_starts.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char line[32];
  snprintf(line, sizeof(line), "%d\n", (int)getpid());
  write_file(dir, "cgroup.threads", line);
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(cg >= 0 && proc >= 0);
  procstate_starts_t starts = {0};
  task_counts_t c = {0};
  task_method_t m = {.kind = TASK_METHOD_PROCSTATE};
  CHECK_INT(task_sample_subtree_at(cg, proc, &m, &c, &starts, NULL), 0);
  CHECK_INT(c.running, 1);
  CHECK_INT(starts.n, 1);
  char self[1024];
  ssize_t len = read_file_at(AT_FDCWD, "/proc/self/stat", self, sizeof(self));
  uint64_t want = 0, got = 0;
  CHECK(len > 0);
  want = field22(self);
  CHECK(procstate_starts_find(&starts, getpid(), &got));
  CHECK(got == want && want > 0);
  CHECK(!procstate_starts_find(&starts, getpid() + 1, &got));
  CHECK(!procstate_starts_find(NULL, getpid(), &got));
  /* A second sample empties the list first. */
  CHECK_INT(task_sample_subtree_at(cg, proc, &m, &c, &starts, NULL), 0);
  CHECK_INT(starts.n, 1);
  procstate_starts_free(&starts);
  CHECK(starts.v == NULL && starts.n == 0);
  close(cg);
  close(proc);
  rm_fake_cgroup(dir, "cgroup.threads");
}

static pid_t spawn_sleeper(void) {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;)
      pause();
  }
  CHECK(pid > 0);
  return pid;
}

/* Waits until pid shows state want in its stat (a fresh open, not the kept fd under test). */
static void wait_state(pid_t pid, char want) {
  for (int i = 0; i < 500; i++) {
    char path[64], buf[1024], st = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    ssize_t n = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
    if (n > 0 && procstate_parse_stat(buf, (size_t)n, &st) == 0 && st == want)
      return;
    usleep(2000);
  }
  CHECK(!"state not reached");
}

static void list_threads(const char *dir, const pid_t *pids, size_t n) {
  char text[256] = "";
  for (size_t i = 0; i < n; i++)
    snprintf(text + strlen(text), sizeof(text) - strlen(text), "%d\n", (int)pids[i]);
  write_file(dir, "cgroup.threads", text);
}

static task_counts_t sample_kept(int cg, int proc, procstate_keep_t *kept) {
  task_counts_t c = {0};
  task_method_t m = {.kind = TASK_METHOD_PROCSTATE};
  CHECK_INT(task_sample_subtree_at(cg, proc, &m, &c, NULL, kept), 0);
  return c;
}

static bool kept_has(const procstate_keep_t *k, pid_t tid) {
  for (size_t i = 0; i < k->n; i++)
    if (k->v[i].tid == tid)
      return true;
  return false;
}

/* Kept stat fds on the real /proc: re-read with fresh states, dropped when their thread exits or
 * leaves the list, never beyond the budget, all returned on close. */
static void test_kept_fds(void) {
  char dir[] = "/tmp/test_procstate_kept.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(cg >= 0 && proc >= 0);
  pid_t kids[3] = {spawn_sleeper(), spawn_sleeper(), spawn_sleeper()};
  for (int i = 0; i < 3; i++)
    wait_state(kids[i], 'S');
  long base = cg_files_kept();
  cg_files_set_budget(base + 2);
  procstate_keep_t kept = {0};

  list_threads(dir, kids, 2);
  task_counts_t c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 2);
  CHECK_INT(kept.n, 2);
  CHECK(kept_has(&kept, kids[0]) && kept_has(&kept, kids[1]));
  CHECK_INT(cg_files_kept(), base + 2);
  int fd0 = kept.v[0].fd;

  /* The same fds, read again: a stopped thread shows up through its kept fd. */
  kill(kids[0], SIGSTOP);
  wait_state(kids[0], 'T');
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 1);
  CHECK_INT(c.stopped, 1);
  CHECK_INT(kept.n, 2);
  CHECK_INT(kept.v[0].fd, fd0);
  kill(kids[0], SIGCONT);
  wait_state(kids[0], 'S');

  /* A third thread over the budget: counted through a per-read open, not kept. */
  list_threads(dir, kids, 3);
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 3);
  CHECK_INT(kept.n, 2);
  CHECK(!kept_has(&kept, kids[2]));
  CHECK_INT(cg_files_kept(), base + 2);

  /* An exited thread still listed: not counted, its fd closed; the freed budget keeps the third. */
  CHECK_INT(procstate_keep_alive(&kept, kids[1]), 1);
  kill(kids[1], SIGKILL);
  CHECK_INT(waitpid(kids[1], NULL, 0), kids[1]);
  /* Before the next count: the kept fd tells the exit (a reused PID could not pass). */
  CHECK_INT(procstate_keep_alive(&kept, kids[1]), 0);
  CHECK_INT(procstate_keep_alive(&kept, kids[0]), 1);
  CHECK_INT(procstate_keep_alive(&kept, getpid()), -1); /* not listed: no kept fd */
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 2);
  CHECK(!kept_has(&kept, kids[1]));
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 2);
  CHECK(kept_has(&kept, kids[0]) && kept_has(&kept, kids[2]));
  CHECK_INT(kept.n, 2);

  /* A thread no longer listed (moved to another cgroup): its fd goes. */
  list_threads(dir, kids, 1);
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 1);
  CHECK_INT(kept.n, 1);
  CHECK_INT(cg_files_kept(), base + 1);

  int fds = count_fds();
  procstate_keep_close(&kept);
  CHECK_INT(cg_files_kept(), base);
  CHECK_INT(count_fds(), fds - 1);
  CHECK(kept.v == NULL && kept.n == 0);

  /* No budget: nothing kept, the counts the same. */
  cg_files_set_budget(0);
  list_threads(dir, kids, 1);
  c = sample_kept(cg, proc, &kept);
  CHECK_INT(c.sleeping, 1);
  CHECK_INT(kept.n, 0);
  procstate_keep_close(&kept);

  /* A v1 directory (tasks, no cgroup.threads) with a list cache: tasks is read, never kept. */
  char v1[] = "/tmp/test_procstate_v1.XXXXXX";
  CHECK(mkdtemp(v1) != NULL);
  char line[32];
  snprintf(line, sizeof(line), "%d\n", (int)kids[2]);
  write_file(v1, "tasks", line);
  int v1fd = open(v1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cg_files_set_budget(base + 10);
  cg_files_t *files = cg_files_create();
  procstate_keep_t v1keep = {.list_files = files};
  for (int round = 0; round < 2; round++) {
    c = sample_kept(v1fd, proc, &v1keep);
    CHECK_INT(c.sleeping, 1);
    CHECK_INT(cg_files_kept(), base + 1); /* the thread's stat only */
  }
  procstate_keep_close(&v1keep);
  cg_files_destroy(files);
  close(v1fd);
  rm_fake_cgroup(v1, "tasks");

  kill(kids[0], SIGKILL);
  kill(kids[2], SIGKILL);
  waitpid(kids[0], NULL, 0);
  waitpid(kids[2], NULL, 0);
  close(cg);
  close(proc);
  rm_fake_cgroup(dir, "cgroup.threads");
}

/* Writes text to an existing file (a cgroup.procs); 0 or -errno. */
static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int err = n < 0 ? -errno : 0;
  close(fd);
  return err;
}

/* Root, real cgroup v2: the kept cgroup.threads and the per-read cgroup.procs see members that
 * join and leave, and a removed cgroup reads as gone and drops what was kept. */
static void test_kept_v2_lists(void) {
  const char *root = "/sys/fs/cgroup/unified";
  if (geteuid() != 0 || access("/sys/fs/cgroup/unified/cgroup.procs", W_OK) != 0) {
    root = "/sys/fs/cgroup";
    if (geteuid() != 0 || access("/sys/fs/cgroup/cgroup.threads", W_OK) != 0) {
      TEST_SKIP_PART(
          "test_procstate: kept v2 thread lists: needs root and a writable cgroup2 tree");
      return;
    }
  }
  char dir[256], procs[300];
  snprintf(dir, sizeof(dir), "%s/test_procstate.%d", root, (int)getpid());
  snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
  if (mkdir(dir, 0755) != 0) {
    TEST_SKIP_PART("test_procstate: kept v2 thread lists: mkdir %s: %s", dir, strerror(errno));
    return;
  }
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(cg >= 0 && proc >= 0);
  cg_files_set_budget(cg_files_kept() + 100);
  long base = cg_files_kept();
  cg_files_t *files = cg_files_create();
  procstate_keep_t keep = {.list_files = files};
  pid_list_t tgids = {0};
  cgprocs_opts_t all = {.max_depth = CG_SUBTREE_MAX_DEPTH, .sorted_unique = true};

  task_counts_t c = sample_kept(cg, proc, &keep); /* empty */
  CHECK_INT(task_counts_load(&c) + c.sleeping, 0);
  CHECK_INT(cgprocs_collect(cg, &all, &tgids), 0);
  CHECK_INT(tgids.n, 0);
  CHECK_INT(cg_files_kept(), base + 1); /* cgroup.threads; cgroup.procs is never kept */

  pid_t kid = spawn_sleeper();
  char line[32];
  snprintf(line, sizeof(line), "%d", (int)kid);
  CHECK(write_text(procs, line) == 0);
  wait_state(kid, 'S');
  c = sample_kept(cg, proc, &keep);
  CHECK_INT(c.sleeping, 1);
  CHECK_INT(cgprocs_collect(cg, &all, &tgids), 0);
  CHECK_INT(tgids.n, 1);
  CHECK(tgids.n == 1 && tgids.v[0] == kid);
  CHECK_INT(cg_files_kept(), base + 2); /* + the thread's stat */

  /* Leaves (to the root cgroup) and exits: both lists read empty again. */
  char root_procs[300];
  snprintf(root_procs, sizeof(root_procs), "%s/cgroup.procs", root);
  CHECK(write_text(root_procs, line) == 0);
  c = sample_kept(cg, proc, &keep);
  CHECK_INT(c.sleeping, 0);
  tgids.n = 0;
  CHECK_INT(cgprocs_collect(cg, &all, &tgids), 0);
  CHECK_INT(tgids.n, 0);
  CHECK_INT(cg_files_kept(), base + 1); /* the stat fd went with the thread */
  kill(kid, SIGKILL);
  waitpid(kid, NULL, 0);

  /* Removed: gone, as a fresh open would say, and the kept lists are dropped. */
  CHECK_INT(rmdir(dir), 0);
  task_method_t m = {.kind = TASK_METHOD_PROCSTATE};
  CHECK_INT(task_sample_subtree_at(cg, proc, &m, &c, NULL, &keep), -ENOENT);
  tgids.n = 0;
  int rc = cgprocs_collect(cg, &all, &tgids);
  CHECK(rc == -ENOENT);
  CHECK_INT(cg_files_kept(), base);

  pid_list_free(&tgids);
  procstate_keep_close(&keep);
  cg_files_destroy(files);
  close(cg);
  close(proc);
  rmdir(dir);
}

/* A subtree of more threads than PROCSTATE_KEEP_MAX (a fake /proc of 300 sleeping threads): every
 * one is counted at every sample, at most PROCSTATE_KEEP_MAX stat fds stay open. */
static void test_kept_cap(void) {
  char dir[] = "/tmp/test_procstate_cap.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[PATH_MAX], list[300 * 8] = "";
  size_t off = 0;
  for (int i = 0; i < 300; i++) {
    int tid = 100000 + i;
    off += (size_t)snprintf(list + off, sizeof(list) - off, "%d\n", tid);
    snprintf(path, sizeof(path), "mkdir -p %s/proc/%d/task/%d", dir, tid, tid);
    CHECK_INT(system(path), 0);
    snprintf(path, sizeof(path), "%s/proc/%d/task/%d/stat", dir, tid, tid);
    FILE *f = fopen(path, "w");
    if (f) {
      fprintf(f, "%d (t) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", tid, 1000 + i);
      fclose(f);
    }
  }
  snprintf(path, sizeof(path), "%s/cgroup.threads", dir);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(list, f);
    fclose(f);
  }
  snprintf(path, sizeof(path), "%s/proc", dir);
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int proc = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  long base = cg_files_kept();
  cg_files_set_budget(base + 1000);
  int fds = count_fds();
  procstate_keep_t kept = {0};
  for (int round = 0; round < 3; round++) {
    task_counts_t c = sample_kept(cg, proc, &kept);
    CHECK_INT(c.sleeping, 300);
    CHECK_INT(kept.n, PROCSTATE_KEEP_MAX);
    CHECK_INT(count_fds(), fds + PROCSTATE_KEEP_MAX);
  }
  procstate_keep_close(&kept);
  CHECK_INT(count_fds(), fds);
  CHECK_INT(cg_files_kept(), base);
  cg_files_set_budget(0);
  close(cg);
  close(proc);
  snprintf(path, sizeof(path), "rm -rf %s", dir);
  CHECK_INT(system(path), 0);
}

int main(void) {
  test_self();
  test_starts();
  test_kept_fds();
  test_kept_cap();
  test_kept_v2_lists();
  test_fixtures();
  test_parse_edge();
  test_classify();
  test_subtree();
  return test_result("test_procstate");
}
