/* Validation (not a timed test): runs a step workload and prints, every 5 s, the load averages
 * that loadavg.c computes for the whole host (the root of the v1 cpu hierarchy, summed over all
 * descendant cgroups) next to /proc/loadavg, from both task-count methods.
 *
 *   loadavg_validate [busy|vfork] [N] [cgroup_root] [proc_root]
 *
 * busy: 0 busy loops for 30 s, N (default 2) for 90 s, 0 for 60 s. vfork: the same with N vfork
 * parents (killable D waits) instead. Our averages start from /proc/loadavg's values (the host
 * did not boot with us), and the sampler's own thread, which is always running when it samples,
 * is not counted. Needs root (cgroupstats). */
#define _GNU_SOURCE
#include "loadavg.h"
#include "tasksample.h"
#include "genl.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXW 64
static pid_t workers[MAXW];
static int nworkers;

static void stop_workers(void) {
  for (int i = 0; i < nworkers; i++)
    kill(workers[i], SIGKILL);
  for (int i = 0; i < nworkers; i++)
    waitpid(workers[i], NULL, 0);
  nworkers = 0;
}

static void on_signal(int sig) {
  (void)sig;
  stop_workers();
  _exit(1);
}

static void start_workers(int n, int vfork_mode) {
  for (int i = 0; i < n && nworkers < MAXW; i++) {
    pid_t p = fork();
    if (p == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (!vfork_mode)
        for (volatile unsigned long x = 0;; x++)
          ;
      pid_t c = vfork(); /* the parent waits in TASK_KILLABLE until the child exits */
      if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sleep(100000);
        _exit(0);
      }
      waitpid(c, NULL, 0);
      _exit(0);
    }
    if (p > 0)
      workers[nworkers++] = p;
  }
}

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int read_loadavg(const char *proc_root, double v[3]) {
  char p[512];
  snprintf(p, sizeof(p), "%s/loadavg", proc_root);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return -1;
  int n = fscanf(f, "%lf %lf %lf", &v[0], &v[1], &v[2]);
  fclose(f);
  return n == 3 ? 0 : -1;
}

int main(int argc, char **argv) {
  int vfork_mode = argc > 1 && strcmp(argv[1], "vfork") == 0;
  int n = argc > 2 ? atoi(argv[2]) : 2;
  const char *cg_root = argc > 3 ? argv[3] : "/sys/fs/cgroup/cpu";
  const char *proc_root = argc > 4 ? argv[4] : "/proc";
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (genl_init() != 0)
    fprintf(stderr, "no TASKSTATS family: the cgroupstats column will fall back\n");

  int cgfd = open(cg_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    perror(cg_root);
    return 1;
  }
  double k[3];
  if (read_loadavg(proc_root, k) != 0)
    return 1;
  double t0 = mono();
  loadavg_t la_cs, la_ps;
  loadavg_init(&la_cs, t0);
  loadavg_init(&la_ps, t0);
  for (int i = 0; i < 3; i++) /* /proc/loadavg has 2 decimals: a start within 0.005 */
    la_cs.avenrun[i] = la_ps.avenrun[i] = (uint64_t)llround(k[i] * LOADAVG_FIXED_1);
  task_method_t m_cs = {.kind = TASK_METHOD_CGROUPSTATS}, m_ps = {.kind = TASK_METHOD_PROCSTATE};

  printf("workload: %s, 0 for 30 s, %d for 90 s, 0 for 60 s; host = %s subtree\n",
         vfork_mode ? "vfork parents" : "busy loops", n, cg_root);
  printf("%5s %2s | %5s %17s | %5s %17s | %17s\n", "t", "wl", "cs_RD", "cgroupstats 1/5/15",
         "ps_RD", "procstate 1/5/15", "/proc/loadavg");
  for (int step = 0; step <= 36; step++) {
    double target = t0 + step * 5.0;
    double now = mono();
    if (target > now)
      usleep((useconds_t)((target - now) * 1e6));
    if (step == 6)
      start_workers(n, vfork_mode);
    if (step == 24)
      stop_workers();
    now = mono();
    task_counts_t cs = {0}, ps = {0};
    int rc1 = task_sample_subtree(cgfd, proc_root, &m_cs, &cs);
    int rc2 = task_sample_subtree(cgfd, proc_root, &m_ps, &ps);
    /* Our own sampling thread is running right now; the kernel's ticks do not see it. */
    if (cs.running)
      cs.running--;
    if (ps.running)
      ps.running--;
    double a_cs = (double)task_counts_load(&cs), a_ps = (double)task_counts_load(&ps);
    if (step > 0) {
      loadavg_sample(&la_cs, (unsigned long)a_cs, now);
      loadavg_sample(&la_ps, (unsigned long)a_ps, now);
    }
    read_loadavg(proc_root, k);
    printf("%5.0f %2d | %5.0f %5.2f %5.2f %5.2f | %5.0f %5.2f %5.2f %5.2f | %5.2f %5.2f %5.2f%s\n",
           now - t0, nworkers, a_cs, loadavg_get(&la_cs, 0), loadavg_get(&la_cs, 1),
           loadavg_get(&la_cs, 2), a_ps, loadavg_get(&la_ps, 0), loadavg_get(&la_ps, 1),
           loadavg_get(&la_ps, 2), k[0], k[1], k[2], rc1 || rc2 ? " (sample error)" : "");
  }
  stop_workers();
  close(cgfd);
  genl_shutdown();
  return 0;
}
