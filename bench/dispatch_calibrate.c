/* dispatch_calibrate: a tiny collectd plugin used by bench/run.sh.
 *
 * Two jobs, both optional, selected by the config block:
 *
 *   <Plugin dispatch_calibrate>
 *     CountFile "/dev/shm/x/count"   # count every value list collectd writes (all plugins)
 *     Lists 3000                      # dispatch this many value lists per interval...
 *     Instances 1000                  # ...spread over this many read callbacks (like one per
 * container) Meta true                       # attach 3 string meta data entries to each list, as
 * the # container plugin does (collectd clones them per dispatch)
 *     MetaFirst true                  # ...to the first list of each read only (the plugin's
 *                                     # default, MetaData first)
 *   </Plugin>
 *
 * Counting: a write callback adds one per value list (and the number of values) with two atomic
 * increments: the cheapest writer possible. A read callback rewrites CountFile once per interval
 * with "lists values unixtime heap\n" (heap: collectd's malloc'ed bytes in use, every arena;
 * pwrite of a few bytes to a tmpfs file), so the benchmark can
 * read the counters at the start and the end of its measuring window and divide by the time
 * between the two updates.
 *
 * Dispatching: no file or socket I/O at all; every list gets a distinct identifier
 * (calib/bench-K/TYPE-tJ) so collectd's value cache holds as many entries as with the real plugin,
 * and the types cycle through the mix the container plugin uses (1-value GAUGE, 1-value DERIVE,
 * 2-value DERIVE). DERIVE values grow every interval so the cache computes real rates.
 *
 * Built by bench/run.sh against the collectd-dev headers; never linked into the project.
 */
#include "collectd.h"
#include "plugin.h"
#include "utils/common/common.h"
#include "utils/metadata/meta_data.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PLUGIN "dispatch_calibrate"

static char count_file[1024];
static int count_fd = -1;
static long conf_lists;
static long conf_instances = 1;
static bool conf_meta = true;
static bool conf_meta_first = false; /* meta data on the first list of each read only */

static atomic_ullong n_lists;
static atomic_ullong n_values;

typedef struct {
  long index;
  long lists; /* dispatched by this callback per interval */
  unsigned long long tick;
  meta_data_t *meta;
} calib_t;

static int calib_write(const data_set_t *ds, const value_list_t *vl, user_data_t *ud) {
  (void)ds;
  (void)ud;
  atomic_fetch_add_explicit(&n_lists, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_values, vl->values_len, memory_order_relaxed);
  return 0;
}

static int count_read(user_data_t *ud) {
  (void)ud;
  if (count_fd < 0)
    return 0;
  char buf[128];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct mallinfo2 m = mallinfo2(); /* the plugins' heap and collectd's value cache */
  int n = snprintf(buf, sizeof(buf), "%llu %llu %lld.%06ld %zu\n",
                   (unsigned long long)atomic_load(&n_lists),
                   (unsigned long long)atomic_load(&n_values), (long long)ts.tv_sec,
                   ts.tv_nsec / 1000, m.uordblks + m.hblkhd);
  if (pwrite(count_fd, buf, (size_t)n, 0) == n)
    (void)ftruncate(count_fd, n);
  return 0;
}

static int calib_read(user_data_t *ud) {
  calib_t *c = ud->data;
  static const struct {
    const char *type;
    int n;
    int gauge;
  } mix[] = {
      {"ps_cputime", 2, 0}, {"memory", 1, 1},           {"vmpage_faults", 2, 0},
      {"count", 1, 1},      {"total_time_in_ms", 1, 0}, {"if_octets", 2, 0},
  };
  c->tick++;
  value_list_t vl = VALUE_LIST_INIT;
  sstrncpy(vl.plugin, "calib", sizeof(vl.plugin));
  snprintf(vl.plugin_instance, sizeof(vl.plugin_instance), "bench-%ld", c->index);
  for (long j = 0; j < c->lists; j++) {
    /* Like the container plugin's default (MetaData first): once per read. */
    vl.meta = j == 0 || !conf_meta_first ? c->meta : NULL;
    int m = (int)(j % (long)STATIC_ARRAY_SIZE(mix));
    value_t values[2];
    for (int k = 0; k < mix[m].n; k++) {
      if (mix[m].gauge)
        values[k].gauge = (gauge_t)(j * 1000 + (long)c->tick % 7);
      else
        values[k].derive = (derive_t)(c->tick * (unsigned long long)(j + 1) * 100);
    }
    vl.values = values;
    vl.values_len = (size_t)mix[m].n;
    sstrncpy(vl.type, mix[m].type, sizeof(vl.type));
    snprintf(vl.type_instance, sizeof(vl.type_instance), "t%ld", j);
    plugin_dispatch_values(&vl);
  }
  return 0;
}

static void calib_free(void *arg) {
  calib_t *c = arg;
  if (!c)
    return;
  meta_data_destroy(c->meta);
  free(c);
}

static int calib_config(oconfig_item_t *ci) {
  for (int i = 0; i < ci->children_num; i++) {
    oconfig_item_t *child = ci->children + i;
    int status = 0;
    if (strcasecmp(child->key, "CountFile") == 0)
      status = cf_util_get_string_buffer(child, count_file, sizeof(count_file));
    else if (strcasecmp(child->key, "Lists") == 0) {
      double d = 0;
      status = cf_util_get_double(child, &d);
      conf_lists = (long)(d + 0.5);
    } else if (strcasecmp(child->key, "Instances") == 0) {
      double d = 0;
      status = cf_util_get_double(child, &d);
      conf_instances = (long)(d + 0.5);
    } else if (strcasecmp(child->key, "Meta") == 0)
      status = cf_util_get_boolean(child, &conf_meta);
    else if (strcasecmp(child->key, "MetaFirst") == 0)
      status = cf_util_get_boolean(child, &conf_meta_first);
    else {
      ERROR(PLUGIN ": unknown config key \"%s\".", child->key);
      status = -1;
    }
    if (status != 0)
      return -1;
  }
  if (conf_instances < 1)
    conf_instances = 1;
  return 0;
}

static int calib_init(void) {
  if (count_file[0]) {
    count_fd = open(count_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (count_fd < 0) {
      ERROR(PLUGIN ": cannot open %s", count_file);
      return -1;
    }
    plugin_register_write(PLUGIN, calib_write, NULL);
    user_data_t ud = {0};
    plugin_register_complex_read(PLUGIN, PLUGIN "/count", count_read, 0, &ud);
  }
  if (conf_lists > 0) {
    long per = conf_lists / conf_instances, extra = conf_lists % conf_instances;
    for (long k = 0; k < conf_instances; k++) {
      calib_t *c = calloc(1, sizeof(*c));
      if (!c)
        return -1;
      c->index = k;
      c->lists = per + (k < extra ? 1 : 0);
      if (conf_meta) {
        /* Same shape as the container plugin's meta data: id, runtime, cgroup path. */
        char id[80], path[128];
        snprintf(id, sizeof(id), "%064ld", k);
        snprintf(path, sizeof(path), "docker/%s", id);
        c->meta = meta_data_create();
        meta_data_add_string(c->meta, "container_id", id);
        meta_data_add_string(c->meta, "runtime", "docker");
        meta_data_add_string(c->meta, "cgroup", path);
      }
      char name[64];
      snprintf(name, sizeof(name), PLUGIN "/%ld", k);
      user_data_t ud = {.data = c, .free_func = calib_free};
      plugin_register_complex_read(PLUGIN, name, calib_read, 0, &ud);
    }
    INFO(PLUGIN ": dispatching %ld value lists per interval from %ld callbacks.", conf_lists,
         conf_instances);
  }
  return 0;
}

static int calib_shutdown(void) {
  count_read(NULL);
  if (count_fd >= 0)
    close(count_fd);
  count_fd = -1;
  return 0;
}

void module_register(void) {
  plugin_register_complex_config(PLUGIN, calib_config);
  plugin_register_init(PLUGIN, calib_init);
  plugin_register_shutdown(PLUGIN, calib_shutdown);
}
