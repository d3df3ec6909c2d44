/* bench/floor.c: the floor of the plugin's work. The same reads as the plugin's read callbacks
 * (src/sample.c, the batched taskstats query, the namespace worker) on the same containers, in a
 * hot loop, without collectd: no scheduling, no value lists, no dispatch. bench/run.sh prints its
 * figure beside the plugin's own share.
 *
 *   floor SECONDS [PER_PASS] < LIST    LIST: one "KIND RELPATH" line per container
 *
 * The plugin's default configuration, but for the groups named in the environment variable
 * FLOOR_OFF ("Load Delay Network": what `Collect... false` switches off in the runs).
 *
 * Containers are read in passes of PER_PASS (default 64, the plugin's ContainersPerCallback), a
 * kind at a time, round after round for SECONDS. Prints, per kind and for all: containers, rounds
 * and the process's CPU (every thread: the namespace worker too) per container per read, in µs;
 * then the heap (malloc'ed bytes in use) per container after the first rounds. */
#define _GNU_SOURCE
#include "blockdev.h"
#include "cgfiles.h"
#include "cgroupfs.h"
#include "delayacct.h"
#include "netns.h"
#include "sample.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_KINDS 8

typedef struct {
  char name[64];
  sample_state_t *st;
  size_t n;
  double cpu_s;
  unsigned long rounds;
} kind_t;

static kind_t kinds[MAX_KINDS];
static size_t n_kinds;
static sample_host_t host;

static void say(int level, const char *msg) {
  if (level <= LOG_WARNING)
    fprintf(stderr, "floor: %s\n", msg);
}

static void on_error(void *ctx, const char *file, int err, const char *what) {
  (void)ctx;
  fprintf(stderr, "floor: %s: %s (%s)\n", file, what, strerror(err < 0 ? -err : err));
}

static bool claim_all(netns_id_t id, void *ctx) {
  (void)id;
  (void)ctx;
  return true; /* every bench container with a namespace has its own */
}

static double cpu_now(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static size_t heap_bytes(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

static int open_dir(const char *path) {
  return path[0] ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

/* The plugin's init (src/plugin/container.c) with its default configuration. */
static int host_open(void) {
  static cg_layout_t layout;
  if (cg_layout_detect("/sys/fs/cgroup", &layout) != 0 || layout.kind == CG_LAYOUT_NONE)
    return -1;
  host.kind = layout.kind;
  for (int i = 0; i < CG_V1_COUNT; i++)
    host.v1_root[i] = layout.kind != CG_LAYOUT_V2 ? open_dir(layout.v1[i]) : -1;
  host.v2_root = open_dir(layout.v2);
  host.primary_root = open_dir(layout.primary);
  host.proc_root = open_dir("/proc");
  host.proc_path = "/proc";
  host.freezer_root = layout.kind != CG_LAYOUT_V2 ? open_dir("/sys/fs/cgroup/freezer") : -1;
  host.interval = 1.0;
  char stat[512];
  host.unified_cpu_time = layout.kind == CG_LAYOUT_HYBRID && host.v2_root >= 0 &&
                          read_file_at(host.v2_root, "cpu.stat", stat, sizeof(stat)) > 0 &&
                          strstr(stat, "user_usec ") != NULL;
  host.groups = CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;
  const char *off = getenv("FLOOR_OFF");
  off = off ? off : "";
  host.collect_load = strstr(off, "Load") == NULL;
  host.task_method = TASK_METHOD_PROCSTATE;
  host.collect_diagnosis = true;
  blockdev_init("/proc");
  host.collect_network = strstr(off, "Network") == NULL && netns_init(say) == 0;
  delay_config_t dc = {.proc_root = "/proc", .exit_listener = true, .log = say};
  host.collect_delay = strstr(off, "Delay") == NULL && delay_init(&dc) == 0;
  /* The plugin's MaxOpenFiles 65536, within the open-file limit raised to its hard limit. */
  struct rlimit rl;
  long budget = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur - CG_FILES_MIN_FD - 256 < budget)
      budget = (long)rl.rlim_cur - CG_FILES_MIN_FD - 256;
  }
  cg_files_set_budget(budget > 0 ? budget : 0);
  return host.primary_root >= 0 ? 0 : -1;
}

static kind_t *kind_named(const char *name) {
  for (size_t i = 0; i < n_kinds; i++)
    if (strcmp(kinds[i].name, name) == 0)
      return &kinds[i];
  if (n_kinds == MAX_KINDS)
    return NULL;
  kind_t *k = &kinds[n_kinds++];
  snprintf(k->name, sizeof(k->name), "%s", name);
  return k;
}

static int add_container(const char *kind, const char *relpath) {
  kind_t *k = kind_named(kind);
  if (k == NULL)
    return -1;
  sample_state_t *v = realloc(k->st, (k->n + 1) * sizeof(*v));
  if (v == NULL)
    return -1;
  k->st = v;
  sample_state_t *st = &k->st[k->n];
  memset(st, 0, sizeof(*st));
  st->relpath = strdup(relpath);
  st->proc_path = "/proc";
  st->on_error = on_error;
  st->claim = claim_all;
  if (st->relpath == NULL || sample_state_init(st, &host) != 0)
    return -1;
  k->n++;
  return 0;
}

/* One pass over st[0..n): what src/plugin/shard.c's shard_pass does but the value lists. */
static void pass(sample_state_t *st, size_t n, container_sample_t *s, delay_job_t *jobs,
                 netns_request_t *reqs, netns_result_t *res, int *status) {
  size_t nj = 0, nr = 0;
  for (size_t i = 0; i < n; i++) {
    sample_read(&host, &st[i], &s[i]);
    if (s[i].delay_asked)
      jobs[nj++] = s[i].delay_job;
    if (s[i].net_asked)
      reqs[nr++] = s[i].net_req;
  }
  if (nj)
    delay_sample_containers(jobs, nj);
  if (nr)
    netns_read_batch(reqs, res, status, nr);
  for (size_t i = 0, j = 0, r = 0; i < n; i++) {
    if (s[i].delay_asked)
      s[i].delay_job = jobs[j++];
    if (s[i].net_asked) {
      s[i].net = res[r];
      s[i].net_status = status[r++];
    }
    sample_finish(&host, &st[i], &s[i]);
    sample_release(&s[i]);
  }
}

static void round_of(kind_t *k, size_t per, container_sample_t *s, delay_job_t *jobs,
                     netns_request_t *reqs, netns_result_t *res, int *status) {
  double t0 = cpu_now();
  /* The plugin samples task states every 5 s (shard.c's load callbacks): at Interval 1, a round
   * in five. */
  if (k->rounds % 5 == 0)
    for (size_t i = 0; i < k->n; i++)
      sample_load(&host, &k->st[i]);
  for (size_t i = 0; i < k->n; i += per)
    pass(&k->st[i], k->n - i < per ? k->n - i : per, s, jobs, reqs, res, status);
  k->cpu_s += cpu_now() - t0;
  k->rounds++;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  size_t per = argc > 2 ? (size_t)atol(argv[2]) : 64;
  if (seconds <= 0 || per == 0) {
    fprintf(stderr, "usage: floor SECONDS [PER_PASS] < LIST\n");
    return 2;
  }
  if (host_open() != 0) {
    fprintf(stderr, "floor: no cgroup hierarchy under /sys/fs/cgroup\n");
    return 1;
  }
  container_sample_t *s = calloc(per, sizeof(*s));
  delay_job_t *jobs = calloc(per, sizeof(*jobs));
  netns_request_t *reqs = calloc(per, sizeof(*reqs));
  netns_result_t *res = calloc(per, sizeof(*res));
  int *status = calloc(per, sizeof(*status));
  size_t heap0 = heap_bytes(), total = 0; /* the pass's buffers are not per container */
  char kind[64], relpath[4096];
  while (scanf("%63s %4095s", kind, relpath) == 2) {
    if (add_container(kind, relpath) != 0) {
      fprintf(stderr, "floor: cannot add %s\n", relpath);
      return 1;
    }
    total++;
  }
  if (total == 0 || !s || !jobs || !reqs || !res || !status) {
    fprintf(stderr, "floor: no containers, or out of memory\n");
    return 1;
  }
  /* Two warm-up rounds: files kept open, delay states filled, as in the plugin's steady state. */
  for (int w = 0; w < 2; w++)
    for (size_t i = 0; i < n_kinds; i++)
      round_of(&kinds[i], per, s, jobs, reqs, res, status);
  size_t heap1 = heap_bytes();
  for (size_t i = 0; i < n_kinds; i++)
    kinds[i].cpu_s = 0, kinds[i].rounds = 0;
  double end = sample_now() + seconds;
  while (sample_now() < end)
    for (size_t i = 0; i < n_kinds; i++)
      round_of(&kinds[i], per, s, jobs, reqs, res, status);
  double all_cpu = 0, all_reads = 0;
  for (size_t i = 0; i < n_kinds; i++) {
    kind_t *k = &kinds[i];
    printf("floor %s containers %zu rounds %lu us_per_read %.2f\n", k->name, k->n, k->rounds,
           k->cpu_s * 1e6 / (double)k->rounds / (double)k->n);
    all_cpu += k->cpu_s / (double)k->rounds; /* one round of every kind */
    all_reads += (double)k->n;
  }
  printf("floor all containers %zu rounds %lu us_per_read %.2f\n", total, kinds[0].rounds,
         all_cpu * 1e6 / all_reads);
  printf("heap_bytes_per_container %.0f\n", ((double)heap1 - (double)heap0) / (double)total);
  printf("kept_fds %ld network %d delay %d\n", cg_files_kept(), host.collect_network,
         host.collect_delay);
  for (size_t i = 0; i < n_kinds; i++)
    for (size_t j = 0; j < kinds[i].n; j++)
      sample_state_free(&kinds[i].st[j]);
  delay_shutdown();
  netns_shutdown();
  return 0;
}
