/* The per-container read as a pure function (src/sample.c): a fixture tree in, a
 * container_sample_t out, no collectd. One container each of the v1, v2 and hybrid trees of
 * tests/fixtures; every expected number is a literal from the fixture file named beside it (the
 * same files test_container checks through the mock collectd). */
#include "sample.h"

#include "testutil.h"

#include <fcntl.h>
#include <limits.h>

#define ID_A "b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242"
#define ID_B "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496"
#define ID_H "ba7b10d15d16e10e3de7a2dcd408a3d971169ae303f46cfad4c5453c6326fee2"

typedef struct {
  char root[PATH_MAX], proc[PATH_MAX];
  cg_layout_t layout;
  sample_host_t h;
} tree_t;

static int open_dir(const char *path) {
  return path[0] ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

/* The host of a fixture tree, as the glue's init opens it. */
static int tree_open(tree_t *t, const char *name, unsigned groups, bool load) {
  snprintf(t->root, sizeof(t->root), "%s/%s/sys/fs/cgroup", fixture_dir(), name);
  snprintf(t->proc, sizeof(t->proc), "%s/%s/proc", fixture_dir(), name);
  if (cg_layout_detect(t->root, &t->layout) != 0)
    return -1;
  sample_host_t *h = &t->h;
  *h = (sample_host_t){.kind = t->layout.kind,
                       .proc_path = t->proc,
                       .groups = groups,
                       .collect_load = load,
                       .task_method = TASK_METHOD_PROCSTATE,
                       .collect_diagnosis = true};
  for (int i = 0; i < CG_V1_COUNT; i++)
    h->v1_root[i] = t->layout.kind != CG_LAYOUT_V2 ? open_dir(t->layout.v1[i]) : -1;
  h->v2_root = open_dir(t->layout.v2);
  h->primary_root = open_dir(t->layout.primary);
  h->proc_root = open_dir(t->proc);
  return h->primary_root >= 0 ? 0 : -1;
}

static void tree_close(tree_t *t) {
  int *fds[] = {&t->h.v2_root, &t->h.primary_root, &t->h.proc_root};
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (t->h.v1_root[i] >= 0)
      close(t->h.v1_root[i]);
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    if (*fds[i] >= 0)
      close(*fds[i]);
}

static int errors_seen;
static void count_error(void *ctx, const char *file, int err, const char *what) {
  (void)ctx, (void)file, (void)err, (void)what;
  errors_seen++;
}

/* Two reads of relpath (the second has a diagnosis); s gets the second. */
static void read_twice(tree_t *t, const char *relpath, container_sample_t *s) {
  sample_state_t st = {.relpath = relpath, .on_error = count_error};
  CHECK_INT(sample_state_init(&st, &t->h), 0);
  for (int round = 0; round < 2; round++) {
    sample_read(&t->h, &st, s);
    CHECK(s->found);
    CHECK(!s->delay_asked); /* delays are off in these hosts */
    CHECK(!s->net_asked);   /* and so is the network */
    sample_finish(&t->h, &st, s);
    if (round == 0)
      CHECK_INT(s->diag_code, -1); /* nothing to compare with yet */
    sample_release(s);
  }
  sample_state_free(&st);
}

static const unsigned ALL =
    CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;

static void test_v1(void) {
  tree_t t;
  CHECK_INT(tree_open(&t, "v1-docker-cgroupfs", ALL, false), 0);
  CHECK_INT(t.layout.kind, CG_LAYOUT_V1);
  container_sample_t s;
  read_twice(&t, "docker/" ID_A, &s);
  const cg_metrics_t *m = &s.cg;
  /* cpuacct.stat "user 6195", "system 773" (USER_HZ ticks); cpu.stat nr_periods 769021,
   * nr_throttled 1046, throttled_time 352597023453 ns. */
  CHECK(m->has_cpu_time);
  CHECK_U64(m->cpu_user_us, 61950000);
  CHECK_U64(m->cpu_system_us, 7730000);
  CHECK(m->has_cfs);
  CHECK_U64(m->cfs_periods, 769021);
  CHECK_U64(m->cfs_throttled_periods, 1046);
  CHECK_U64(m->cfs_throttled_us, 352597023);
  /* memory.usage_in_bytes; limit unlimited; memory.stat total_rss, total_cache, total_pgfault. */
  CHECK_U64(m->mem_usage, 295997440);
  CHECK(!m->limits.has_mem_limit);
  CHECK_U64(m->mem_anon, 230662144);
  CHECK_U64(m->mem_file, 65101824);
  CHECK_U64(m->pgfault, 91651);
  CHECK(!m->has_oom_kill);
  /* blkio: 7:0, 253:0, 253:1 with I/O. */
  CHECK_INT(m->n_blkdev, 3);
  CHECK_U64(m->pids_current, 177);
  CHECK(!m->psi[CG_PSI_CPU].has_some);
  /* The diagnosis' inputs: the CFS counters; CollectLoad off: no tasks. */
  CHECK(s.cpu.has_cfs);
  CHECK_U64(s.cpu.throttled_periods, 1046);
  CHECK_U64(s.cpu.cpu_usage_us, 61950000 + 7730000);
  CHECK(!s.has_tasks);
  CHECK_INT(errors_seen, 0);
  tree_close(&t);
}

static void test_v2(void) {
  tree_t t;
  CHECK_INT(tree_open(&t, "v2-kubepods", ALL, true), 0);
  CHECK_INT(t.layout.kind, CG_LAYOUT_V2);
  container_sample_t s;
  read_twice(&t,
             "kubepods.slice/kubepods-burstable.slice/"
             "kubepods-burstable-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice/"
             "cri-containerd-" ID_B ".scope",
             &s);
  const cg_metrics_t *m = &s.cg;
  /* cpu.stat user_usec 2915072455, system_usec 696275063. */
  CHECK_U64(m->cpu_user_us, 2915072455);
  CHECK_U64(m->cpu_system_us, 696275063);
  /* memory.current, memory.swap.current, memory.stat pgmajfault, memory.events oom_kill 0. */
  CHECK_U64(m->mem_usage, 10498404352);
  CHECK_U64(m->mem_swap, 17715200);
  CHECK_U64(m->pgmajfault, 14299);
  CHECK(m->has_oom_kill);
  CHECK_U64(m->oom_kill, 0);
  /* io.stat: dm-0 and nvme0n1 with I/O; the idle loop devices left out. */
  CHECK_INT(m->n_blkdev, 2);
  CHECK_U64(m->pids_current, 148);
  /* cpu.pressure some total=115056064, full total=29254180 (µs). */
  CHECK_U64(m->psi[CG_PSI_CPU].some_total_us, 115056064);
  CHECK_U64(m->psi[CG_PSI_CPU].full_total_us, 29254180);
  /* cgroup.threads + proc/TID/stat: one each of R, D, S, T; a Z and an exited thread. */
  CHECK(s.has_tasks);
  CHECK_INT(s.tasks_hierarchy, 1);
  CHECK_U64(s.tasks.running, 1);
  CHECK_U64(s.tasks.uninterruptible, 1);
  CHECK_U64(s.tasks.sleeping, 1);
  CHECK_U64(s.tasks.stopped, 1);
  /* The first read took the first load sample: the averages start at 0 and move at the first
   * 5 s tick (sample_load, test_loadavg). */
  CHECK(s.load[0] == 0 && s.load[1] == 0 && s.load[2] == 0);
  CHECK_INT(errors_seen, 0);
  tree_close(&t);
}

static void test_hybrid(void) {
  tree_t t;
  CHECK_INT(tree_open(&t, "hybrid", ALL, false), 0);
  CHECK_INT(t.layout.kind, CG_LAYOUT_HYBRID);
  container_sample_t s;
  read_twice(&t, "system.slice/docker-" ID_H ".scope", &s);
  const cg_metrics_t *m = &s.cg;
  /* CPU time from unified/.../cpu.stat (user_usec 120465, system_usec 64248), not cpuacct. */
  CHECK_U64(m->cpu_user_us, 120465);
  CHECK_U64(m->cpu_system_us, 64248);
  /* v1 memory; no swap key; PSI from the unified tree (cpu: some only). */
  CHECK_U64(m->mem_usage, 9039872);
  CHECK(!m->has_mem_swap);
  CHECK(m->psi[CG_PSI_CPU].has_some);
  CHECK(!m->psi[CG_PSI_CPU].has_full);
  CHECK_U64(m->psi[CG_PSI_IO].full_total_us, 103282599);
  CHECK_INT(m->n_blkdev, 1);
  CHECK_INT(errors_seen, 0);
  tree_close(&t);
}

/* A container whose cgroup is gone: nothing found, nothing asked, no fd left open. */
static void test_gone(void) {
  tree_t t;
  CHECK_INT(tree_open(&t, "v2-kubepods", ALL, true), 0);
  int fds = count_fds();
  sample_state_t st = {.relpath = "kubepods.slice/no-such.scope", .on_error = count_error};
  CHECK_INT(sample_state_init(&st, &t.h), 0);
  container_sample_t s;
  int errors_before = errors_seen;
  sample_load(&t.h, &st); /* the 5 s load sample of a vanished container says nothing */
  CHECK_INT(errors_seen, errors_before);
  sample_read(&t.h, &st, &s);
  CHECK(!s.found);
  CHECK(!s.has_tasks && !s.delay_asked && !s.net_asked);
  sample_finish(&t.h, &st, &s);
  CHECK_INT(s.diag_code, -1);
  sample_release(&s);
  sample_state_free(&st);
  CHECK_INT(count_fds(), fds);
  tree_close(&t);
}

int main(void) {
  test_v1();
  test_v2();
  test_hybrid();
  test_gone();
  return test_result("test_sample");
}
