/* collectd glue: configuration, discovery of containers, one read callback per container, and
 * dispatch. Everything that parses or computes lives in the other modules, which know nothing of
 * collectd. */
#include "collectd.h"
#include "configfile.h"
#include "plugin.h"
#include "utils/metadata/meta_data.h"

#include "blockdev.h"
#include "cgroup_v1.h"
#include "cgroup_v2.h"
#include "cgroupfs.h"
#include "identify.h"
#include "loadavg.h"
#include "metrics.h"
#include "names.h"
#include "select.h"
#include "tasksample.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PLUGIN_NAME "container"
#define READ_GROUP "container"
#define HOST_INSTANCE "_host"
#define WALK_MAX_DEPTH 10
#define MAX_COMPLAINTS 8

/* ---- configuration ---- */

static char conf_cgroup_root[PATH_MAX] = "/sys/fs/cgroup";
static char conf_proc_root[PATH_MAX] = "/proc";
static char conf_docker_root[PATH_MAX] = "/var/lib/docker";
static char conf_k8s_log_dir[PATH_MAX] = "/var/log/containers";
static char conf_podman_json[PATH_MAX] =
    "/var/lib/containers/storage/overlay-containers/containers.json";
static select_list_t *conf_containers;
static bool conf_ignore_selected;
static unsigned conf_groups =
    CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS | CG_GROUP_PRESSURE;
static bool conf_collect_load = true;
static bool conf_collect_all_states = false;
static bool conf_collect_host = false;
static bool conf_notifications = true;

/* ---- state shared by the callbacks ---- */

static cg_layout_t layout;
static int v1_root_fd[CG_V1_COUNT] = {-1, -1, -1, -1, -1};
static int v2_root_fd = -1;
static int primary_root_fd = -1;
static bool initialized;

typedef struct container_s {
  char relpath[PATH_MAX];
  char id[128];
  char name[DATA_MAX_NAME_LEN];
  char runtime[32];
  char cb_name[DATA_MAX_NAME_LEN + 16];
  bool is_host;
  bool seen; /* by the current discovery pass */
  meta_data_t *meta;
  loadavg_t load;
  task_method_t task_method;
  char complained[MAX_COMPLAINTS][64];
  int n_complained;
  struct container_s *next;
} container_t;

/* Containers with a registered read callback. Only discovery changes the list; the callbacks
 * never look at it, so the lock is held only by discovery and shutdown. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static container_t *registry;

/* The method (cgroupstats or /proc) each hierarchy uses for task states, said once at INFO. */
static pthread_mutex_t method_lock = PTHREAD_MUTEX_INITIALIZER;
static bool method_logged[2];

/* ---- helpers ---- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void container_free(void *arg) {
  container_t *c = arg;
  if (!c)
    return;
  meta_data_destroy(c->meta);
  free(c);
}

/* Malformed files are reported once per container and file, not every interval. */
static void report_file_error(void *ctx, const char *file, int err, const char *what) {
  container_t *c = ctx;
  for (int i = 0; i < c->n_complained; i++)
    if (strcmp(c->complained[i], file) == 0)
      return;
  if (c->n_complained < MAX_COMPLAINTS)
    snprintf(c->complained[c->n_complained++], sizeof(c->complained[0]), "%s", file);
  WARNING(PLUGIN_NAME " plugin: container %s: cannot use %s/%s: %s (%s); the container's other "
                      "values are still collected.",
          c->name, c->relpath, file, what, err ? strerror(err < 0 ? -err : err) : "bad format");
}

static void dispatch(const container_t *c, const char *type, const char *type_instance,
                     value_t *values, size_t n) {
  value_list_t vl = VALUE_LIST_INIT;
  vl.values = values;
  vl.values_len = n;
  vl.meta = c->meta;
  sstrncpy(vl.plugin, PLUGIN_NAME, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, c->name, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  if (type_instance)
    sstrncpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

static void dispatch_derive(const container_t *c, const char *type, const char *ti, uint64_t v) {
  value_t value = {.derive = (derive_t)v};
  dispatch(c, type, ti, &value, 1);
}

static void dispatch_gauge(const container_t *c, const char *type, const char *ti, double v) {
  value_t value = {.gauge = v};
  dispatch(c, type, ti, &value, 1);
}

static void dispatch_pair(const container_t *c, const char *type, const char *ti, uint64_t a,
                          uint64_t b) {
  value_t values[2] = {{.derive = (derive_t)a}, {.derive = (derive_t)b}};
  dispatch(c, type, ti, values, 2);
}

static void dispatch_metrics(const container_t *c, const cg_metrics_t *m) {
  if (m->has_cpu_time)
    dispatch_pair(c, "ps_cputime", NULL, m->cpu_user_us, m->cpu_system_us);
  if (m->has_cfs) {
    dispatch_derive(c, "operations", "cfs_periods", m->cfs_periods);
    dispatch_derive(c, "operations", "cfs_throttled", m->cfs_throttled_periods);
    dispatch_derive(c, "total_time_in_ms", "cfs_throttled", m->cfs_throttled_us / 1000);
  }
  if (m->has_mem_usage)
    dispatch_gauge(c, "memory", "usage", (double)m->mem_usage);
  if (m->has_mem_limit)
    dispatch_gauge(c, "memory", "limit", (double)m->mem_limit);
  if (m->has_mem_anon)
    dispatch_gauge(c, "memory", "anon", (double)m->mem_anon);
  if (m->has_mem_file)
    dispatch_gauge(c, "memory", "file", (double)m->mem_file);
  if (m->has_mem_swap)
    dispatch_gauge(c, "memory", "swap", (double)m->mem_swap);
  if (m->has_pgfaults)
    dispatch_pair(c, "vmpage_faults", NULL, m->pgfault, m->pgmajfault);
  if (m->has_oom_kill)
    dispatch_derive(c, "total_events", "oom_kill", m->oom_kill);
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    const cg_blkdev_t *d = &m->blkdev[i];
    char dev[64];
    blockdev_name(d->major, d->minor, dev, sizeof(dev));
    dispatch_pair(c, "disk_octets", dev, d->read_bytes, d->write_bytes);
    dispatch_pair(c, "disk_ops", dev, d->read_ops, d->write_ops);
  }
  if (m->has_pids_current)
    dispatch_gauge(c, "count", "pids", (double)m->pids_current);
  if (m->has_pids_max)
    dispatch_gauge(c, "count", "pids_max", (double)m->pids_max);
  static const char *const psi_names[CG_PSI_COUNT] = {"cpu", "memory", "io"};
  for (int r = 0; r < CG_PSI_COUNT; r++) {
    char ti[DATA_MAX_NAME_LEN];
    if (m->psi[r].has_some) {
      snprintf(ti, sizeof(ti), "pressure_%s_some", psi_names[r]);
      dispatch_derive(c, "total_time_in_ms", ti, m->psi[r].some_total_us / 1000);
    }
    if (m->psi[r].has_full) {
      snprintf(ti, sizeof(ti), "pressure_%s_full", psi_names[r]);
      dispatch_derive(c, "total_time_in_ms", ti, m->psi[r].full_total_us / 1000);
    }
  }
}

/* Opens the container's directory below a hierarchy root; -1 when it is not there. */
static int open_cgroup_dir(int root_fd, const char *relpath) {
  if (root_fd < 0)
    return -1;
  if (relpath[0] == '\0')
    return fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  return openat(root_fd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void log_task_method_once(int hierarchy, const task_method_t *method) {
  pthread_mutex_lock(&method_lock);
  if (!method_logged[hierarchy]) {
    method_logged[hierarchy] = true;
    if (method->fallback_reason)
      INFO(PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s (cgroupstats: %s).",
           hierarchy ? "cgroup v2" : "cgroup v1 cpu", task_method_name(method->kind),
           strerror(-method->fallback_reason));
    else
      INFO(PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s.",
           hierarchy ? "cgroup v2" : "cgroup v1 cpu", task_method_name(method->kind));
  }
  pthread_mutex_unlock(&method_lock);
}

static void read_load(container_t *c, int dirfd, int hierarchy) {
  task_counts_t counts;
  int err = task_sample_subtree(dirfd, conf_proc_root, &c->task_method, &counts);
  if (err != 0) {
    if (err != -ENOENT)
      report_file_error(c, "task states", err, "cannot count the cgroup's tasks");
    return;
  }
  log_task_method_once(hierarchy, &c->task_method);
  loadavg_update(&c->load, now_seconds(), (double)task_counts_load(&counts));
  dispatch_gauge(c, "ps_state", "running", (double)counts.running);
  dispatch_gauge(c, "ps_state", "blocked", (double)counts.uninterruptible);
  if (conf_collect_all_states) {
    dispatch_gauge(c, "ps_state", "sleeping", (double)counts.sleeping);
    dispatch_gauge(c, "ps_state", "stopped", (double)counts.stopped);
    dispatch_gauge(c, "ps_state", "iowait", (double)counts.iowait);
  }
  value_t load[3] = {{.gauge = c->load.avg[0]}, {.gauge = c->load.avg[1]}, {.gauge = c->load.avg[2]}};
  dispatch(c, "load", NULL, load, 3);
}

static int container_read(user_data_t *ud) {
  container_t *c = ud->data;
  cg_metrics_t m;
  memset(&m, 0, sizeof(m));

  int primary = open_cgroup_dir(primary_root_fd, c->relpath);
  if (primary < 0)
    return 0; /* gone since discovery: normal, discovery removes the callback */

  unsigned groups = c->is_host ? 0 : conf_groups;
  if (layout.kind == CG_LAYOUT_V2) {
    if (groups)
      cgv2_read(primary, groups, &m, report_file_error, c); /* PSI included */
  } else if (groups) {
    cgv1_dirs_t dirs;
    int *fds[CG_V1_COUNT] = {&dirs.cpu, &dirs.cpuacct, &dirs.memory, &dirs.blkio, &dirs.pids};
    for (int i = 0; i < CG_V1_COUNT; i++)
      *fds[i] = open_cgroup_dir(v1_root_fd[i], c->relpath);
    cgv1_read(&dirs, groups, &m, report_file_error, c);
    for (int i = 0; i < CG_V1_COUNT; i++)
      if (*fds[i] >= 0)
        close(*fds[i]);
    if ((groups & CG_GROUP_PRESSURE) && v2_root_fd >= 0) {
      int unified = open_cgroup_dir(v2_root_fd, c->relpath);
      if (unified >= 0) {
        cg_psi_read(unified, &m, report_file_error, c);
        close(unified);
      }
    }
  }
  dispatch_metrics(c, &m);

  if (conf_collect_load) {
    /* v1: cgroupstats answers on the cpu hierarchy; v2: the /proc fallback on the v2 tree. */
    if (layout.kind == CG_LAYOUT_V2) {
      read_load(c, primary, 1);
    } else {
      int cpu = open_cgroup_dir(v1_root_fd[CG_V1_CPU] >= 0 ? v1_root_fd[CG_V1_CPU] : primary_root_fd,
                                c->relpath);
      if (cpu >= 0) {
        read_load(c, cpu, 0);
        close(cpu);
      }
    }
  }
  close(primary);
  return 0;
}

/* ---- discovery ---- */

static void notify(const container_t *c, int severity, const char *message) {
  if (!conf_notifications)
    return;
  notification_t n = {.severity = severity, .time = cdtime()};
  sstrncpy(n.host, hostname_g, sizeof(n.host));
  sstrncpy(n.plugin, PLUGIN_NAME, sizeof(n.plugin));
  sstrncpy(n.plugin_instance, c->name, sizeof(n.plugin_instance));
  sstrncpy(n.type, "container", sizeof(n.type));
  snprintf(n.message, sizeof(n.message), "%s %s (id %s, runtime %s, cgroup /%s)", message, c->name,
           c->id, c->runtime, c->relpath);
  plugin_notification_meta_add_string(&n, "container_id", c->id);
  plugin_notification_meta_add_string(&n, "runtime", c->runtime);
  plugin_notification_meta_add_string(&n, "cgroup", c->relpath);
  plugin_dispatch_notification(&n);
  plugin_notification_meta_free(n.meta);
}

static container_t *registry_find(const char *relpath) {
  for (container_t *c = registry; c; c = c->next)
    if (strcmp(c->relpath, relpath) == 0)
      return c;
  return NULL;
}

static void container_register(container_t *c) {
  snprintf(c->cb_name, sizeof(c->cb_name), "container/%s", c->is_host ? HOST_INSTANCE : c->id);
  c->meta = meta_data_create();
  if (c->meta) {
    meta_data_add_string(c->meta, "container_id", c->id);
    meta_data_add_string(c->meta, "runtime", c->runtime);
    meta_data_add_string(c->meta, "cgroup", c->relpath[0] ? c->relpath : "/");
  }
  loadavg_init(&c->load, now_seconds());
  memset(&c->task_method, 0, sizeof(c->task_method));
  c->seen = true;

  /* The registry keeps a pointer that stays valid: collectd frees c only after discovery has
   * unlinked it and unregistered the callback. */
  user_data_t ud = {.data = c, .free_func = container_free};
  if (plugin_register_complex_read(READ_GROUP, c->cb_name, container_read, 0, &ud) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot register the read callback %s.", c->cb_name);
    return; /* collectd freed c (free_func) on failure */
  }
  c->next = registry;
  registry = c;
  if (!c->is_host)
    notify(c, NOTIF_OKAY, "container appeared:");
}

static cg_walk_result_t discover_visit(const char *relpath, void *ctx) {
  (void)ctx;
  container_ident_t ident;
  if (!container_identify(relpath, &ident))
    return CG_WALK_DESCEND;
  if (!ident.is_top)
    return CG_WALK_SKIP;

  container_t *known = registry_find(relpath);
  if (known) {
    known->seen = true;
    return CG_WALK_FOUND;
  }

  container_t *c = calloc(1, sizeof(*c));
  if (!c)
    return CG_WALK_FOUND;
  sstrncpy(c->relpath, relpath, sizeof(c->relpath));
  sstrncpy(c->id, ident.id, sizeof(c->id));
  sstrncpy(c->runtime, container_runtime_name(ident.runtime), sizeof(c->runtime));
  container_names_t names;
  if (names_lookup(&ident, &names) != 0) {
    free(c);
    return CG_WALK_FOUND;
  }
  if (names.note[0])
    DEBUG(PLUGIN_NAME " plugin: container %s: %s", ident.id, names.note);
  sstrncpy(c->name, names.name, sizeof(c->name));
  if (!select_matches(conf_containers, c->name)) {
    /* Not collected: remember nothing, decide again next time (names can appear later). */
    free(c);
    return CG_WALK_FOUND;
  }
  DEBUG(PLUGIN_NAME " plugin: found %s container %s at /%s", c->runtime, c->name, relpath);
  container_register(c);
  return CG_WALK_FOUND;
}

static int discover(user_data_t *ud) {
  (void)ud;
  pthread_mutex_lock(&registry_lock);
  for (container_t *c = registry; c; c = c->next)
    c->seen = c->is_host;
  int visited = cg_walk(layout.primary, WALK_MAX_DEPTH, discover_visit, NULL);
  if (visited < 0)
    WARNING(PLUGIN_NAME " plugin: cannot walk %s: %s", layout.primary, strerror(-visited));

  container_t **link = &registry;
  while (*link) {
    container_t *c = *link;
    if (c->seen) {
      link = &c->next;
      continue;
    }
    *link = c->next;
    DEBUG(PLUGIN_NAME " plugin: container %s is gone", c->name);
    notify(c, NOTIF_OKAY, "container disappeared:");
    names_forget(c->id);
    plugin_unregister_read(c->cb_name); /* frees c through container_free */
  }
  pthread_mutex_unlock(&registry_lock);
  return 0;
}

/* ---- config, init, shutdown ---- */

static int config_bool_group(const oconfig_item_t *child, unsigned group) {
  bool on;
  if (cf_util_get_boolean(child, &on) != 0)
    return -1;
  conf_groups = on ? (conf_groups | group) : (conf_groups & ~group);
  return 0;
}

static int config_path(const oconfig_item_t *child, char *dst, size_t n) {
  char buf[PATH_MAX];
  if (cf_util_get_string_buffer(child, buf, sizeof(buf)) != 0)
    return -1;
  if (buf[0] != '/') {
    ERROR(PLUGIN_NAME " plugin: %s \"%s\": an absolute path is required.", child->key, buf);
    return -1;
  }
  sstrncpy(dst, buf, n);
  return 0;
}

static int container_config(oconfig_item_t *ci) {
  if (!conf_containers)
    conf_containers = select_create();
  int status = 0;
  for (int i = 0; i < ci->children_num && status == 0; i++) {
    oconfig_item_t *child = ci->children + i;
    const char *key = child->key;
    if (strcasecmp(key, "CgroupRoot") == 0)
      status = config_path(child, conf_cgroup_root, sizeof(conf_cgroup_root));
    else if (strcasecmp(key, "ProcRoot") == 0)
      status = config_path(child, conf_proc_root, sizeof(conf_proc_root));
    else if (strcasecmp(key, "DockerRoot") == 0)
      status = config_path(child, conf_docker_root, sizeof(conf_docker_root));
    else if (strcasecmp(key, "KubernetesLogDir") == 0)
      status = config_path(child, conf_k8s_log_dir, sizeof(conf_k8s_log_dir));
    else if (strcasecmp(key, "PodmanContainersFile") == 0)
      status = config_path(child, conf_podman_json, sizeof(conf_podman_json));
    else if (strcasecmp(key, "Container") == 0) {
      char pattern[1024];
      status = cf_util_get_string_buffer(child, pattern, sizeof(pattern));
      if (status == 0 && select_add(conf_containers, pattern) != 0) {
        ERROR(PLUGIN_NAME " plugin: Container \"%s\": %s", pattern,
              select_error(conf_containers));
        status = -1;
      }
    } else if (strcasecmp(key, "IgnoreSelected") == 0)
      status = cf_util_get_boolean(child, &conf_ignore_selected);
    else if (strcasecmp(key, "CollectCPU") == 0)
      status = config_bool_group(child, CG_GROUP_CPU);
    else if (strcasecmp(key, "CollectMemory") == 0)
      status = config_bool_group(child, CG_GROUP_MEMORY);
    else if (strcasecmp(key, "CollectBlkio") == 0)
      status = config_bool_group(child, CG_GROUP_BLKIO);
    else if (strcasecmp(key, "CollectPids") == 0)
      status = config_bool_group(child, CG_GROUP_PIDS);
    else if (strcasecmp(key, "CollectPressure") == 0)
      status = config_bool_group(child, CG_GROUP_PRESSURE);
    else if (strcasecmp(key, "CollectLoad") == 0)
      status = cf_util_get_boolean(child, &conf_collect_load);
    else if (strcasecmp(key, "CollectAllTaskStates") == 0)
      status = cf_util_get_boolean(child, &conf_collect_all_states);
    else if (strcasecmp(key, "CollectHost") == 0)
      status = cf_util_get_boolean(child, &conf_collect_host);
    else if (strcasecmp(key, "Notifications") == 0)
      status = cf_util_get_boolean(child, &conf_notifications);
    else {
      ERROR(PLUGIN_NAME " plugin: unknown config key \"%s\".", key);
      status = -1;
    }
    if (status != 0 && strcasecmp(key, "Container") != 0)
      ERROR(PLUGIN_NAME " plugin: invalid value for \"%s\"; the plugin will not start.", key);
  }
  select_set_invert(conf_containers, conf_ignore_selected);
  return status;
}

static void close_roots(void) {
  for (int i = 0; i < CG_V1_COUNT; i++)
    if (v1_root_fd[i] >= 0) {
      close(v1_root_fd[i]);
      v1_root_fd[i] = -1;
    }
  if (v2_root_fd >= 0)
    close(v2_root_fd);
  if (primary_root_fd >= 0)
    close(primary_root_fd);
  v2_root_fd = primary_root_fd = -1;
}

static int open_root(const char *path) {
  return path[0] ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

static int container_init(void) {
  if (initialized)
    return 0;
  if (!conf_containers)
    conf_containers = select_create();
  int err = cg_layout_detect(conf_cgroup_root, &layout);
  if (err != 0) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s cannot be read: %s.", conf_cgroup_root,
          strerror(-err));
    return -1;
  }
  if (layout.kind == CG_LAYOUT_NONE) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s holds no cgroup hierarchy (neither "
                      "cgroup.controllers nor v1 controller directories).",
          conf_cgroup_root);
    return -1;
  }
  if (access(conf_proc_root, R_OK | X_OK) != 0) {
    ERROR(PLUGIN_NAME " plugin: ProcRoot %s cannot be read: %s.", conf_proc_root, strerror(errno));
    return -1;
  }
  INFO(PLUGIN_NAME " plugin: %s layout under %s.", cg_layout_name(layout.kind), conf_cgroup_root);
  if (layout.kind != CG_LAYOUT_V2)
    for (int i = 0; i < CG_V1_COUNT; i++) {
      v1_root_fd[i] = open_root(layout.v1[i]);
      if (v1_root_fd[i] < 0)
        INFO(PLUGIN_NAME " plugin: no cgroup v1 %s hierarchy under %s: its values are not "
                         "collected.",
             cg_v1_controller_name(i), conf_cgroup_root);
    }
  v2_root_fd = open_root(layout.v2);
  primary_root_fd = open_root(layout.primary);
  if (primary_root_fd < 0) {
    ERROR(PLUGIN_NAME " plugin: cannot open %s: %s.", layout.primary, strerror(errno));
    close_roots();
    return -1;
  }
  if (layout.kind == CG_LAYOUT_V1 && (conf_groups & CG_GROUP_PRESSURE))
    INFO(PLUGIN_NAME " plugin: no cgroup v2 tree under %s: pressure (PSI) values are not "
                     "collected.",
         conf_cgroup_root);

  blockdev_init(conf_proc_root);
  names_config_t nc = {
      .docker_root = conf_docker_root, .k8s_log_dir = conf_k8s_log_dir, .podman_json = conf_podman_json};
  if (names_configure(&nc) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot configure container naming.");
    close_roots();
    return -1;
  }

  user_data_t ud = {0};
  plugin_register_complex_read(READ_GROUP, "container/discover", discover, 0, &ud);

  if (conf_collect_host) {
    container_t *host = calloc(1, sizeof(*host));
    if (host) {
      host->is_host = true;
      sstrncpy(host->name, HOST_INSTANCE, sizeof(host->name));
      sstrncpy(host->id, HOST_INSTANCE, sizeof(host->id));
      sstrncpy(host->runtime, "host", sizeof(host->runtime));
      pthread_mutex_lock(&registry_lock);
      container_register(host);
      pthread_mutex_unlock(&registry_lock);
    }
  }
  initialized = true;
  return 0;
}

static int container_shutdown(void) {
  plugin_unregister_read_group(READ_GROUP);
  pthread_mutex_lock(&registry_lock);
  registry = NULL; /* collectd freed every container with its callback */
  pthread_mutex_unlock(&registry_lock);
  if (initialized) {
    names_shutdown();
    blockdev_shutdown();
  }
  close_roots();
  select_destroy(conf_containers);
  conf_containers = NULL;
  initialized = false;
  memset(method_logged, 0, sizeof(method_logged));
  return 0;
}

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, container_config);
  plugin_register_init(PLUGIN_NAME, container_init);
  plugin_register_shutdown(PLUGIN_NAME, container_shutdown);
}
