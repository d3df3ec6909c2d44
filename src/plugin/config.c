/* The plugin's configuration: a table of keys over one struct whose defaults are a constant. */
#include "plugin/config.h"

#include "plugin.h"
#include "utils/common/common.h"

#include "metrics.h"

#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#define PLUGIN_NAME "container"

/* The defaults, once: a macro, since C wants a constant to initialise conf with. */
#define CONF_DEFAULTS                                                                              \
  {                                                                                                \
    .cgroup_root = "/sys/fs/cgroup", .proc_root = "/proc", .docker_root = "/var/lib/docker",       \
    .k8s_log_dir = "/var/log/containers",                                                          \
    .podman_json = "/var/lib/containers/storage/overlay-containers/containers.json",               \
    .containerd_state = "/run/containerd",                                                         \
    .groups = CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE, \
    .collect_load = true, .task_method = TASK_METHOD_PROCSTATE, .notifications = true,             \
    .collect_network = true, .ignore_selected_interface = true, .collect_delay = true,             \
    .collect_diagnosis = true, .meta = META_FIRST, .max_open_files = 65536, .per_callback = 64,    \
  }

static const plugin_conf_t defaults = CONF_DEFAULTS;
plugin_conf_t conf = CONF_DEFAULTS;

/* A key's setter: the item, the field it sets, and the table row's argument. Returns 0 or -1
 * (then the caller says the value is invalid); -2: the error was said already. */
typedef int (*setter_t)(const oconfig_item_t *ci, void *field, long arg);

static int set_bool(const oconfig_item_t *ci, void *field, long arg) {
  (void)arg;
  return cf_util_get_boolean(ci, field) == 0 ? 0 : -1;
}

static int set_group(const oconfig_item_t *ci, void *field, long group) {
  bool on;
  if (cf_util_get_boolean(ci, &on) != 0)
    return -1;
  unsigned *groups = field;
  *groups = on ? (*groups | (unsigned)group) : (*groups & ~(unsigned)group);
  return 0;
}

static int set_path(const oconfig_item_t *ci, void *field, long size) {
  char buf[PATH_MAX];
  if (cf_util_get_string_buffer(ci, buf, sizeof(buf)) != 0)
    return -1;
  if (buf[0] != '/') {
    ERROR(PLUGIN_NAME " plugin: %s \"%s\": an absolute path is required.", ci->key, buf);
    return -1;
  }
  sstrncpy(field, buf, (size_t)size);
  return 0;
}

/* arg: the minimum; the maximum is INT_MAX unless the key says otherwise below. */
static int set_long(const oconfig_item_t *ci, void *field, long min) {
  int n = 0;
  if (cf_util_get_int(ci, &n) != 0 || n < min)
    return -1;
  if (field == &conf.per_callback && n > 4096)
    return -1;
  *(long *)field = n;
  return 0;
}

static int set_pattern(const oconfig_item_t *ci, void *field, long arg) {
  (void)arg;
  select_list_t *list = *(select_list_t **)field;
  char pattern[1024];
  if (cf_util_get_string_buffer(ci, pattern, sizeof(pattern)) != 0)
    return -2; /* cf_util says why */
  if (field == &conf.interfaces)
    conf.interface_given = true;
  if (select_add(list, pattern) != 0) {
    ERROR(PLUGIN_NAME " plugin: %s \"%s\": %s", ci->key, pattern, select_error(list));
    return -2;
  }
  return 0;
}

/* A string that must be one of the names in a NULL-terminated list; the field gets its index. */
static const char *const task_sources[] = {"proc", "cgroupstats", NULL};
static const char *const meta_modes[] = {"first", "all", "none", NULL};

static int set_choice(const oconfig_item_t *ci, void *field, long which) {
  const char *const *names = which ? meta_modes : task_sources;
  char value[32];
  if (cf_util_get_string_buffer(ci, value, sizeof(value)) != 0)
    return -1;
  for (int i = 0; names[i]; i++)
    if (strcasecmp(value, names[i]) == 0) {
      if (which)
        *(meta_mode_t *)field = (meta_mode_t)i;
      else
        *(task_method_kind_t *)field = i == 0 ? TASK_METHOD_PROCSTATE : TASK_METHOD_AUTO;
      return 0;
    }
  ERROR(PLUGIN_NAME " plugin: %s \"%s\": use %s.", ci->key, value,
        which ? "\"first\", \"all\" or \"none\"" : "\"proc\" or \"cgroupstats\"");
  return -1;
}

#define FIELD(f) offsetof(plugin_conf_t, f)
static const struct {
  const char *key;
  setter_t set;
  size_t offset;
  long arg;
} keys[] = {
    {"CgroupRoot", set_path, FIELD(cgroup_root), PATH_MAX},
    {"ProcRoot", set_path, FIELD(proc_root), PATH_MAX},
    {"DockerRoot", set_path, FIELD(docker_root), PATH_MAX},
    {"KubernetesLogDir", set_path, FIELD(k8s_log_dir), PATH_MAX},
    {"PodmanContainersFile", set_path, FIELD(podman_json), PATH_MAX},
    {"ContainerdStateDir", set_path, FIELD(containerd_state), PATH_MAX},
    {"Container", set_pattern, FIELD(containers), 0},
    {"IgnoreSelected", set_bool, FIELD(ignore_selected), 0},
    {"CollectCPU", set_group, FIELD(groups), CG_GROUP_CPU},
    {"CollectMemory", set_group, FIELD(groups), CG_GROUP_MEMORY},
    {"CollectBlkio", set_group, FIELD(groups), CG_GROUP_BLKIO},
    {"CollectPids", set_group, FIELD(groups), CG_GROUP_PIDS},
    {"CollectPressure", set_group, FIELD(groups), CG_GROUP_PRESSURE},
    {"CollectLoad", set_bool, FIELD(collect_load), 0},
    {"CollectAllTaskStates", set_bool, FIELD(collect_all_states), 0},
    {"TaskStateSource", set_choice, FIELD(task_method), 0},
    {"CollectHost", set_bool, FIELD(collect_host), 0},
    {"CollectNetwork", set_bool, FIELD(collect_network), 0},
    {"Interface", set_pattern, FIELD(interfaces), 0},
    {"IgnoreSelectedInterface", set_bool, FIELD(ignore_selected_interface), 0},
    {"CollectDelay", set_bool, FIELD(collect_delay), 0},
    {"EnableDelayAccounting", set_bool, FIELD(enable_delayacct), 0},
    {"CollectDiagnosis", set_bool, FIELD(collect_diagnosis), 0},
    {"Notifications", set_bool, FIELD(notifications), 0},
    {"Compact", set_bool, FIELD(compact), 0},
    {"MaxOpenFiles", set_long, FIELD(max_open_files), 0},
    {"ContainersPerCallback", set_long, FIELD(per_callback), 1},
    {"MetaData", set_choice, FIELD(meta), 1},
};
#undef FIELD

/* The value as written in collectd.conf, for error messages. */
static const char *value_text(const oconfig_item_t *ci, char *buf, size_t n) {
  if (ci->values_num < 1)
    snprintf(buf, n, "(none)");
  else if (ci->values[0].type == OCONFIG_TYPE_STRING)
    snprintf(buf, n, "\"%s\"", ci->values[0].value.string);
  else if (ci->values[0].type == OCONFIG_TYPE_NUMBER)
    snprintf(buf, n, "%g", ci->values[0].value.number);
  else
    snprintf(buf, n, "%s", ci->values[0].value.boolean ? "true" : "false");
  return buf;
}

static int config_key(const oconfig_item_t *child) {
  char value[256];
  for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
    if (strcasecmp(child->key, keys[k].key) != 0)
      continue;
    int status = keys[k].set(child, (char *)&conf + keys[k].offset, keys[k].arg);
    if (status == -1)
      ERROR(PLUGIN_NAME " plugin: invalid value %s for \"%s\"; the plugin will not start.",
            value_text(child, value, sizeof(value)), child->key);
    return status;
  }
  ERROR(PLUGIN_NAME " plugin: unknown config key \"%s\" (value %s); the plugin will not start.",
        child->key, value_text(child, value, sizeof(value)));
  return -1;
}

bool config_lists_ready(void) {
  if (!conf.containers)
    conf.containers = select_create();
  if (!conf.interfaces)
    conf.interfaces = select_create();
  return conf.containers && conf.interfaces;
}

int config_read(oconfig_item_t *ci) {
  if (!config_lists_ready()) {
    ERROR(PLUGIN_NAME " plugin: out of memory.");
    conf.failed = true;
    return 0;
  }
  int status = 0;
  for (int i = 0; i < ci->children_num && status == 0; i++)
    status = config_key(ci->children + i);
  select_set_invert(conf.containers, conf.ignore_selected);
  select_set_invert(conf.interfaces, conf.ignore_selected_interface);
  /* collectd 5.12 exits when a config callback fails: remember the failure and refuse to start
   * in init instead, so collectd and its other plugins keep running. */
  if (status != 0)
    conf.failed = true;
  return 0;
}

void config_reset(void) {
  select_destroy(conf.containers);
  select_destroy(conf.interfaces);
  conf = defaults;
}
