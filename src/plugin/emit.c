/* A container's sample as value lists (see emit.h). Each metric family is first laid out in its
 * compact order (one value_t per slot, with whether it was read); compact mode sends that as one
 * list, standard mode sends the rows of the family's table, each a list of one or two slots. */
#include "plugin/emit.h"

#include "utils/common/common.h"

#include "blockdev.h"
#include "taskstats.h"
#include "util.h"

#include <math.h>
#include <string.h>

#define MAX_SLOTS EMIT_MAX_VALUES

/* A standard list: type, type instance (NULL: the family's instance) and its slots. */
typedef struct {
  const char *type, *type_instance;
  int slots[2];
  int n;
} row_t;

/* A family: its compact type, number of slots and standard rows. */
typedef struct {
  const char *compact_type;
  int n_slots;
  const row_t *rows;
  int n_rows;
} family_t;

#define ROWS(r) r, (int)(sizeof(r) / sizeof(r[0]))

static const row_t cpu_rows[] = {{"ps_cputime", NULL, {0, 1}, 2},
                                 {"operations", "cfs_periods", {2}, 1},
                                 {"operations", "cfs_throttled", {3}, 1},
                                 {"total_time_in_ms", "cfs_throttled", {4}, 1}};
static const row_t memory_rows[] = {
    {"memory", "usage", {0}, 1},         {"memory", "limit", {1}, 1},
    {"memory", "anon", {2}, 1},          {"memory", "file", {3}, 1},
    {"memory", "swap", {4}, 1},          {"vmpage_faults", NULL, {5, 6}, 2},
    {"total_events", "oom_kill", {7}, 1}};
static const row_t blkio_rows[] = {{"disk_octets", NULL, {0, 1}, 2}, {"disk_ops", NULL, {2, 3}, 2}};
static const row_t pids_rows[] = {{"count", "pids", {0}, 1}, {"count", "pids_max", {1}, 1}};
static const row_t pressure_rows[] = {{"total_time_in_ms", "pressure_cpu_some", {0}, 1},
                                      {"total_time_in_ms", "pressure_cpu_full", {1}, 1},
                                      {"total_time_in_ms", "pressure_memory_some", {2}, 1},
                                      {"total_time_in_ms", "pressure_memory_full", {3}, 1},
                                      {"total_time_in_ms", "pressure_io_some", {4}, 1},
                                      {"total_time_in_ms", "pressure_io_full", {5}, 1}};
static const row_t load_rows[] = {{"ps_state", "running", {0}, 1},  {"ps_state", "blocked", {1}, 1},
                                  {"ps_state", "sleeping", {2}, 1}, {"ps_state", "stopped", {3}, 1},
                                  {"ps_state", "iowait", {4}, 1},   {"load", NULL, {5, 6}, 3}};
/* The delay kinds in TS_DELAY_* order (taskstats_delay_name), then the context switches. */
static const row_t delay_rows[] = {{"total_time_in_ms", "delay_cpu", {0}, 1},
                                   {"total_time_in_ms", "delay_blkio", {1}, 1},
                                   {"total_time_in_ms", "delay_swapin", {2}, 1},
                                   {"total_time_in_ms", "delay_freepages", {3}, 1},
                                   {"total_time_in_ms", "delay_thrashing", {4}, 1},
                                   {"total_time_in_ms", "delay_compact", {5}, 1},
                                   {"total_time_in_ms", "delay_wpcopy", {6}, 1},
                                   {"total_time_in_ms", "delay_irq", {7}, 1},
                                   {"contextswitch", "voluntary", {8}, 1},
                                   {"contextswitch", "involuntary", {9}, 1},
                                   {"gauge", "cpu_diagnosis", {10}, 1}};
static const row_t if_rows[] = {{"if_octets", NULL, {0, 1}, 2},
                                {"if_packets", NULL, {2, 3}, 2},
                                {"if_errors", NULL, {4, 5}, 2},
                                {"if_dropped", NULL, {6, 7}, 2}};

enum { F_CPU, F_MEMORY, F_BLKIO, F_PIDS, F_PRESSURE, F_LOAD, F_DELAY, F_IF, F_COUNT };
static const family_t families[F_COUNT] = {
    [F_CPU] = {"container_cpu", 5, ROWS(cpu_rows)},
    [F_MEMORY] = {"container_memory", 8, ROWS(memory_rows)},
    [F_BLKIO] = {"container_blkio", 4, ROWS(blkio_rows)},
    [F_PIDS] = {"container_pids", 2, ROWS(pids_rows)},
    [F_PRESSURE] = {"container_pressure", 6, ROWS(pressure_rows)},
    [F_LOAD] = {"container_load", 8, ROWS(load_rows)},
    [F_DELAY] = {"container_delay", 11, ROWS(delay_rows)},
    [F_IF] = {"container_if", 8, ROWS(if_rows)},
};

/* One family's values in compact order; has: which slots were read (standard mode sends only
 * those rows whose first slot has a value). */
typedef struct {
  value_t v[MAX_SLOTS];
  bool has[MAX_SLOTS];
  bool derive[MAX_SLOTS];
} slots_t;

/* Compact mode: a counter whose source went away (delay accounting switched off, a failed read)
 * keeps the value it last sent: 0 would be a false drop and spike in every rate. */
typedef struct emit_last_s {
  derive_t v[F_COUNT][MAX_SLOTS];
  uint16_t seen[F_COUNT]; /* slots sent at least once */
} emit_last_t;

/* Absent values: NaN for gauges; counters the kernel does not have read 0. */
static void put_gauge(slots_t *f, int slot, bool has, double v) {
  f->v[slot].gauge = has ? v : NAN;
  f->has[slot] = has;
  f->derive[slot] = false;
}

static void put_derive(slots_t *f, int slot, bool has, uint64_t v) {
  f->v[slot].derive = has ? (derive_t)v : 0;
  f->has[slot] = has;
  f->derive[slot] = true;
}

/* ---- the batch ---- */

static void dispatch_list(const emit_list_t *l) {
  value_list_t vl = VALUE_LIST_INIT;
  vl.values = (value_t *)l->values;
  vl.values_len = l->n_values;
  vl.meta = l->meta ? l->c->meta : NULL;
  vl.time = l->time;
  sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, l->c->name, sizeof(vl.plugin_instance));
  memcpy(vl.type, l->type, sizeof(vl.type));
  memcpy(vl.type_instance, l->type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

void emit_flush(emit_batch_t *b) {
  for (size_t i = 0; i < b->n; i++)
    dispatch_list(&b->lists[i]);
  b->n = 0;
}

/* Where one container's lists of this read go, with its meta data on the first (or every). */
typedef struct {
  emit_batch_t *b;
  container_t *c;
  cdtime_t time;
  bool meta_due;
  meta_mode_t meta;
} out_t;

static void add_list(out_t *o, const char *type, const char *ti, const value_t *v, size_t n) {
  emit_list_t now, *l = &now;
  if (o->b->cap > 0) {
    if (o->b->n == o->b->cap)
      emit_flush(o->b);
    l = &o->b->lists[o->b->n++];
  }
  l->c = o->c;
  l->time = o->time;
  sstrncpy(l->type, type, sizeof(l->type));
  sstrncpy(l->type_instance, ti ? ti : "", sizeof(l->type_instance));
  memcpy(l->values, v, n * sizeof(*v));
  l->n_values = n;
  l->meta = o->meta_due;
  if (o->meta_due)
    o->meta_due = o->meta == META_ALL;
  if (o->b->cap == 0)
    dispatch_list(l);
}

/* A compact family's absent counters (of a family of one list per container): the last value
 * sent, 0 before any. */
static void keep_counters(container_t *c, int family, slots_t *f) {
  if (!c->compact_last && !(c->compact_last = calloc(1, sizeof(*c->compact_last))))
    return;
  emit_last_t *last = c->compact_last;
  for (int k = 0; k < families[family].n_slots; k++) {
    if (!f->derive[k])
      continue;
    if (f->has[k]) {
      last->v[family][k] = f->v[k].derive;
      last->seen[family] |= (uint16_t)(1u << k);
    } else if (last->seen[family] & (1u << k)) {
      f->v[k].derive = last->v[family][k];
    }
  }
}

/* The family as one compact list, or as its standard rows. */
static void add_family(out_t *o, bool compact, int family, const char *instance, slots_t *f) {
  const family_t *fam = &families[family];
  if (compact) {
    if (instance == NULL)
      keep_counters(o->c, family, f);
    add_list(o, fam->compact_type, instance, f->v, (size_t)fam->n_slots);
    return;
  }
  for (int r = 0; r < fam->n_rows; r++) {
    const row_t *row = &fam->rows[r];
    if (!f->has[row->slots[0]])
      continue;
    value_t v[3];
    for (int i = 0; i < row->n; i++) /* a row's slots are consecutive when it has more than 2 */
      v[i] = f->v[row->n > 2 ? row->slots[0] + i : row->slots[i]];
    add_list(o, row->type, row->type_instance ? row->type_instance : instance, v, (size_t)row->n);
  }
}

/* ---- the families of a sample ---- */

static void add_cgroup(out_t *o, bool compact, const cg_metrics_t *m) {
  /* Standard mode sends each row that was read; compact mode a family's list when its main
   * values were read. */
  slots_t f;
  if (!compact || m->has_cpu_time || m->has_cfs) {
    put_derive(&f, 0, m->has_cpu_time, m->cpu_user_us);
    put_derive(&f, 1, m->has_cpu_time, m->cpu_system_us);
    /* Without a quota CFS never throttles: three lists of zeros until one is set. */
    bool cfs = m->has_cfs && (compact || m->limits.has_cpu_quota || m->cfs_periods > 0);
    put_derive(&f, 2, cfs, m->cfs_periods);
    put_derive(&f, 3, cfs, m->cfs_throttled_periods);
    put_derive(&f, 4, cfs, m->cfs_throttled_us / 1000);
    add_family(o, compact, F_CPU, NULL, &f);
  }
  if (!compact || m->has_mem_usage || m->has_mem_anon) {
    put_gauge(&f, 0, m->has_mem_usage, (double)m->mem_usage);
    put_gauge(&f, 1, m->limits.has_mem_limit, (double)m->limits.mem_limit);
    put_gauge(&f, 2, m->has_mem_anon, (double)m->mem_anon);
    put_gauge(&f, 3, m->has_mem_file, (double)m->mem_file);
    put_gauge(&f, 4, m->has_mem_swap, (double)m->mem_swap);
    put_derive(&f, 5, m->has_pgfaults, m->pgfault);
    put_derive(&f, 6, m->has_pgfaults, m->pgmajfault);
    put_derive(&f, 7, m->has_oom_kill, m->oom_kill);
    add_family(o, compact, F_MEMORY, NULL, &f);
  }
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    const cg_blkdev_t *d = &m->blkdev[i];
    char dev[64];
    blockdev_name(d->major, d->minor, dev, sizeof(dev));
    put_derive(&f, 0, true, d->read_bytes);
    put_derive(&f, 1, true, d->write_bytes);
    put_derive(&f, 2, true, d->read_ops);
    put_derive(&f, 3, true, d->write_ops);
    add_family(o, compact, F_BLKIO, dev, &f);
  }
  if (!compact || m->has_pids_current) {
    put_gauge(&f, 0, m->has_pids_current, (double)m->pids_current);
    put_gauge(&f, 1, m->limits.has_pids_max, (double)m->limits.pids_max);
    add_family(o, compact, F_PIDS, NULL, &f);
  }
  bool any_psi = !compact;
  for (int r = 0; r < CG_PSI_COUNT; r++) {
    any_psi = any_psi || m->psi[r].has_some;
    put_derive(&f, 2 * r, m->psi[r].has_some, m->psi[r].some_total_us / 1000);
    put_derive(&f, 2 * r + 1, m->psi[r].has_full, m->psi[r].full_total_us / 1000);
  }
  if (any_psi)
    add_family(o, compact, F_PRESSURE, NULL, &f);
}

static void add_load(out_t *o, const emit_opts_t *opt, const container_sample_t *s) {
  if (!s->has_tasks)
    return;
  const task_counts_t *t = &s->tasks;
  bool all = opt->all_states && !o->c->is_host; /* the host: the kernel's running and blocked */
  slots_t f;
  put_gauge(&f, 0, true, (double)t->running);
  put_gauge(&f, 1, true, (double)t->uninterruptible);
  put_gauge(&f, 2, all, (double)t->sleeping);
  put_gauge(&f, 3, all, (double)t->stopped);
  put_gauge(&f, 4, all, (double)t->iowait);
  for (int i = 0; i < 3; i++)
    put_gauge(&f, 5 + i, true, s->load[i]);
  add_family(o, opt->compact, F_LOAD, NULL, &f);
}

/* The common delay kinds (CPU, block I/O, swap-in) are always sent; the rarer ones from the
 * first time they are not 0, so an idle container does not cost five lists of zeros. */
static bool delay_kind_shown(container_t *c, const delay_totals_t *t, int kind) {
  if (!(t->present & TS_F_DELAY(kind)))
    return false;
  if (kind <= TS_DELAY_SWAPIN || (c->delays_shown & TS_F_DELAY(kind)))
    return true;
  if (t->delay_ns[kind] == 0)
    return false;
  c->delays_shown |= TS_F_DELAY(kind);
  return true;
}

static void add_delay(out_t *o, container_t *c, bool compact, const container_sample_t *s) {
  const delay_totals_t *t = s->delay_rc == 0 ? &s->delay_job.out : NULL;
  int code = s->diag_code;
  if (!t && code < 0)
    return;
  bool delays = t && t->delay_on;
  bool ctxsw = t && (t->present & TS_F_CTXSW);
  slots_t f;
  for (int k = 0; k < TS_DELAY_COUNT; k++) {
    bool has = delays && (compact ? (t->present & TS_F_DELAY(k)) != 0 : delay_kind_shown(c, t, k));
    put_derive(&f, k, has, delays ? t->delay_ns[k] / 1000000 : 0);
  }
  put_derive(&f, 8, ctxsw, ctxsw ? t->nvcsw : 0);
  put_derive(&f, 9, ctxsw, ctxsw ? t->nivcsw : 0);
  put_gauge(&f, 10, code >= 0, code);
  add_family(o, compact, F_DELAY, NULL, &f);
}

static void add_network(out_t *o, const emit_opts_t *opt, const container_sample_t *s) {
  if (!s->net_asked || s->net_status != NETNS_OK)
    return;
  for (size_t i = 0; i < s->net.n_ifs; i++) {
    const netns_if_stats_t *st = &s->net.ifs[i];
    if (!select_matches(opt->interfaces, st->name))
      continue;
    char ifname[DATA_MAX_NAME_LEN];
    sanitize_name(ifname, st->name, sizeof(ifname));
    slots_t f;
    const uint64_t v[8] = {st->rx_bytes,  st->tx_bytes,  st->rx_packets, st->tx_packets,
                           st->rx_errors, st->tx_errors, st->rx_dropped, st->tx_dropped};
    for (int k = 0; k < 8; k++)
      put_derive(&f, k, true, v[k]);
    add_family(o, opt->compact, F_IF, ifname, &f);
  }
}

void emit_sample(emit_batch_t *b, container_t *c, const container_sample_t *s, cdtime_t t,
                 const emit_opts_t *opt) {
  if (!s->found)
    return;
  out_t o = {.b = b, .c = c, .time = t, .meta_due = opt->meta != META_NONE, .meta = opt->meta};
  add_cgroup(&o, opt->compact, &s->cg);
  add_load(&o, opt, s);
  add_delay(&o, c, opt->compact, s);
  add_network(&o, opt, s);
}

bool emit_compact_types_loaded(const char *types_db) {
  for (int k = 0; k < F_COUNT; k++) {
    const data_set_t *ds = plugin_get_ds(families[k].compact_type);
    if (ds && ds->ds_num == (size_t)families[k].n_slots)
      continue;
    ERROR(PLUGIN_NAME " plugin: Compact true: type \"%s\" is %s; add the line TypesDB \"%s\" "
                      "(contrib/container-types.db in the source) after the default TypesDB line "
                      "of collectd.conf. Sending the standard value lists instead.",
          families[k].compact_type, ds ? "not the plugin's (wrong number of values)" : "unknown",
          types_db);
    return false;
  }
  return true;
}
