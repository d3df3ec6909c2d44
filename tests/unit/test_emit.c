/* A sample in, the exact value lists out (src/plugin/emit.c), through the mock collectd: the
 * standard lists with collectd's own types, and the compact lists of contrib/container-types.db,
 * in the order they are dispatched. */
#include "mock_plugin.h"
#include "plugin/emit.h"

#include "select.h"
#include "testutil.h"

#include <math.h>

static container_t c = {.name = "web", .id = "abc"};

/* A sample with something of every family. */
static void sample_fill(container_sample_t *s, netns_if_stats_t ifs[2]) {
  memset(s, 0, sizeof(*s));
  s->found = true;
  cg_metrics_t *m = &s->cg;
  m->has_cpu_time = true;
  m->cpu_user_us = 1000;
  m->cpu_system_us = 200;
  m->has_cfs = true; /* no quota, no period yet: no CFS lists in standard mode */
  m->has_mem_usage = m->has_mem_anon = m->has_mem_file = true;
  m->mem_usage = 4096;
  m->mem_anon = 3072;
  m->mem_file = 1024;
  m->has_pgfaults = true;
  m->pgfault = 7;
  m->pgmajfault = 1;
  m->n_blkdev = 1;
  m->blkdev[0] = (cg_blkdev_t){
      .major = 8, .minor = 0, .read_bytes = 10, .write_bytes = 20, .read_ops = 1, .write_ops = 2};
  m->has_pids_current = true;
  m->pids_current = 3;
  m->psi[CG_PSI_IO].has_some = true;
  m->psi[CG_PSI_IO].some_total_us = 5999;
  s->has_tasks = true;
  s->tasks = (task_counts_t){.running = 2, .uninterruptible = 1, .sleeping = 4};
  s->load[0] = 1.5, s->load[1] = 1.0, s->load[2] = 0.5;
  s->delay_rc = 0;
  delay_totals_t *t = &s->delay_job.out;
  t->delay_on = true;
  t->present = TS_F_ALL_DELAYS | TS_F_CTXSW;
  t->delay_ns[TS_DELAY_CPU] = 3000000; /* 3 ms */
  t->delay_ns[TS_DELAY_IRQ] = 1000000; /* moved: shown from now on */
  t->nvcsw = 11;
  t->nivcsw = 12;
  s->diag_code = DIAG_SHARE_THROTTLED;
  s->net_asked = true;
  s->net_status = NETNS_OK;
  ifs[0] = (netns_if_stats_t){.name = "eth0", .rx_bytes = 100, .tx_bytes = 200, .rx_packets = 3};
  ifs[1] = (netns_if_stats_t){.name = "lo", .rx_bytes = 1};
  s->net.ifs = ifs;
  s->net.n_ifs = 2;
}

static void check_list(size_t i, const char *type, const char *ti, size_t n) {
  CHECK(i < mock_dispatched_num);
  if (i >= mock_dispatched_num)
    return;
  const mock_dispatch_t *d = &mock_dispatched[i];
  CHECK_STR(d->plugin, "container");
  CHECK_STR(d->plugin_instance, "web");
  CHECK_STR(d->type, type);
  CHECK_STR(d->type_instance, ti);
  CHECK_INT(d->values_len, n);
}

#define D(i, k) (mock_dispatched[i].values[k].derive)
#define G(i, k) (mock_dispatched[i].values[k].gauge)

static void test_standard(const emit_opts_t *o, const container_sample_t *s) {
  mock_reset_records();
  emit_batch_t b = {0}; /* cap 0: each list at once */
  emit_sample(&b, &c, s, 42, o);
  size_t i = 0;
  check_list(i, "ps_cputime", "", 2);
  CHECK_INT(D(i, 0), 1000);
  CHECK_INT(D(i, 1), 200);
  check_list(++i, "memory", "usage", 1);
  CHECK_NEAR(G(i, 0), 4096, 0);
  check_list(++i, "memory", "anon", 1);
  check_list(++i, "memory", "file", 1);
  check_list(++i, "vmpage_faults", "", 2);
  CHECK_INT(D(i, 0), 7);
  CHECK_INT(D(i, 1), 1);
  check_list(++i, "disk_octets", "8-0", 2); /* no partitions file: MAJ-MIN */
  CHECK_INT(D(i, 1), 20);
  check_list(++i, "disk_ops", "8-0", 2);
  CHECK_INT(D(i, 0), 1);
  check_list(++i, "count", "pids", 1);
  check_list(++i, "total_time_in_ms", "pressure_io_some", 1);
  CHECK_INT(D(i, 0), 5);
  check_list(++i, "ps_state", "running", 1);
  CHECK_NEAR(G(i, 0), 2, 0);
  check_list(++i, "ps_state", "blocked", 1);
  check_list(++i, "load", "", 3);
  CHECK_NEAR(G(i, 0), 1.5, 0);
  CHECK_NEAR(G(i, 2), 0.5, 0);
  check_list(++i, "total_time_in_ms", "delay_cpu", 1);
  CHECK_INT(D(i, 0), 3);
  check_list(++i, "total_time_in_ms", "delay_blkio", 1);
  check_list(++i, "total_time_in_ms", "delay_swapin", 1);
  check_list(++i, "total_time_in_ms", "delay_irq", 1); /* the rare kinds only once they moved */
  CHECK_INT(D(i, 0), 1);
  check_list(++i, "contextswitch", "voluntary", 1);
  CHECK_INT(D(i, 0), 11);
  check_list(++i, "contextswitch", "involuntary", 1);
  check_list(++i, "gauge", "cpu_diagnosis", 1);
  CHECK_NEAR(G(i, 0), DIAG_SHARE_THROTTLED, 0);
  check_list(++i, "if_octets", "eth0", 2);
  CHECK_INT(D(i, 1), 200);
  check_list(++i, "if_packets", "eth0", 2);
  check_list(++i, "if_errors", "eth0", 2);
  check_list(++i, "if_dropped", "eth0", 2);
  CHECK_INT(mock_dispatched_num, i + 1); /* lo is not selected; no CFS, limit, swap */
  for (size_t k = 0; k < mock_dispatched_num; k++)
    CHECK(mock_dispatched[k].time == 42);
  /* The delay names of the table are taskstats' own. */
  CHECK_STR(taskstats_delay_name(TS_DELAY_IRQ), "irq");
}

static void test_compact(emit_opts_t o, const container_sample_t *s) {
  o.compact = true;
  mock_reset_records();
  emit_batch_t b = {0};
  emit_sample(&b, &c, s, 42, &o);
  size_t i = 0;
  check_list(i, "container_cpu", "", 5);
  CHECK_INT(D(i, 1), 200);
  CHECK_INT(D(i, 2), 0); /* CFS read, still 0 */
  check_list(++i, "container_memory", "", 8);
  CHECK(isnan(G(i, 1))); /* no limit */
  CHECK_NEAR(G(i, 2), 3072, 0);
  CHECK_INT(D(i, 5), 7);
  check_list(++i, "container_blkio", "8-0", 4);
  CHECK_INT(D(i, 3), 2);
  check_list(++i, "container_pids", "", 2);
  CHECK(isnan(G(i, 1)));
  check_list(++i, "container_pressure", "", 6);
  CHECK_INT(D(i, 4), 5);
  check_list(++i, "container_load", "", 8);
  CHECK(isnan(G(i, 2))); /* sleeping: CollectAllTaskStates is off */
  CHECK_NEAR(G(i, 6), 1.0, 0);
  check_list(++i, "container_delay", "", 11);
  CHECK_INT(D(i, 0), 3);
  CHECK_INT(D(i, 9), 12);
  CHECK_NEAR(G(i, 10), DIAG_SHARE_THROTTLED, 0);
  check_list(++i, "container_if", "eth0", 8);
  CHECK_INT(D(i, 2), 3);
  CHECK_INT(mock_dispatched_num, i + 1);
}

/* Meta data on the first list of a read (first), on every list (all), on none. */
static void test_meta(emit_opts_t o, const container_sample_t *s) {
  c.meta = meta_data_create();
  meta_data_add_string(c.meta, "container_id", "abc");
  const meta_mode_t modes[] = {META_FIRST, META_ALL, META_NONE};
  const size_t with_meta[] = {1, 0, 0}; /* ALL: filled in below */
  for (int k = 0; k < 3; k++) {
    o.meta = modes[k];
    mock_reset_records();
    emit_batch_t b = {0};
    emit_sample(&b, &c, s, 42, &o);
    size_t n = 0;
    for (size_t i = 0; i < mock_dispatched_num; i++)
      n += mock_dispatched[i].meta_container_id[0] != '\0';
    CHECK_INT(n, modes[k] == META_ALL ? mock_dispatched_num : with_meta[k]);
    CHECK_STR(mock_dispatched[0].meta_container_id, modes[k] == META_NONE ? "" : "abc");
  }
  meta_data_destroy(c.meta);
  c.meta = NULL;
}

/* Batched: nothing reaches collectd before the flush; a full batch flushes itself. */
static void test_batch(const emit_opts_t *o, const container_sample_t *s) {
  emit_list_t lists[8];
  emit_batch_t b = {.lists = lists, .cap = 8};
  mock_reset_records();
  emit_sample(&b, &c, s, 42, o);
  CHECK_INT(mock_dispatched_num + b.n, 23);
  CHECK_INT(mock_dispatched_num, 16); /* two full batches went */
  emit_flush(&b);
  CHECK_INT(mock_dispatched_num, 23);
  CHECK_INT(b.n, 0);
}

int main(void) {
  select_list_t *ifs = select_create();
  select_add(ifs, "lo");
  select_set_invert(ifs, true);
  emit_opts_t o = {.meta = META_NONE, .interfaces = ifs};
  netns_if_stats_t if_stats[2];
  container_sample_t s;
  sample_fill(&s, if_stats);
  test_standard(&o, &s);
  test_compact(o, &s);
  test_meta(o, &s);
  test_batch(&o, &s);
  /* A sample of a container that was not found: nothing. */
  s.found = false;
  mock_reset_records();
  emit_batch_t b = {0};
  emit_sample(&b, &c, &s, 42, &o);
  CHECK_INT(mock_dispatched_num, 0);
  select_destroy(ifs);
  return test_result("test_emit");
}
