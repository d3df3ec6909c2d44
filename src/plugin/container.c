/* collectd glue: the plugin's entry points. init opens the hierarchy roots and starts the
 * helpers (namespace worker, taskstats, exit watcher), shutdown stops them. The read path is
 * registry.c (discovery) -> shard.c (read callbacks) -> sample.c (collectd-free) -> emit.c. */
#include "collectd.h"
#include "plugin.h"
#include "utils/common/common.h"

#include "plugin/config.h"
#include "plugin/emit.h"
#include "plugin/exitwatch.h"
#include "plugin/registry.h"
#include "plugin/shard.h"

#include "blockdev.h"
#include "cgfiles.h"
#include "cgroupfs.h"
#include "delayacct.h"
#include "genl.h"
#include "names.h"
#include "netns.h"
#include "netns_registry.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define READ_GROUP "container"
#ifndef CONTAINER_TYPES_DB
#define CONTAINER_TYPES_DB "/usr/share/collectd-container/container-types.db"
#endif

_Static_assert(CG_V1_COUNT == 5, "one -1 per v1 hierarchy below");
sample_host_t sample_host = {.v1_root = {-1, -1, -1, -1, -1},
                             .v2_root = -1,
                             .primary_root = -1,
                             .proc_root = -1,
                             .freezer_root = -1};
cg_layout_t host_layout;
netns_registry_t *netns_owners;

static bool initialized;

/* ---- roots ---- */

static int open_root(const char *path) {
  return path[0] ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void close_roots(void) {
  for (int i = 0; i < CG_V1_COUNT; i++)
    close_fd(&sample_host.v1_root[i]);
  close_fd(&sample_host.v2_root);
  close_fd(&sample_host.primary_root);
  close_fd(&sample_host.proc_root);
  close_fd(&sample_host.freezer_root);
}

/* The layout under CgroupRoot and the roots' fds. Returns 0 or -1 (said why). */
static int open_roots(void) {
  cg_layout_t *layout = &host_layout;
  int err = cg_layout_detect(conf.cgroup_root, layout);
  if (err != 0) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s cannot be read: %s.", conf.cgroup_root,
          strerror(-err));
    return -1;
  }
  if (layout->kind == CG_LAYOUT_NONE) {
    ERROR(PLUGIN_NAME " plugin: CgroupRoot %s holds no cgroup hierarchy (neither "
                      "cgroup.controllers nor v1 controller directories).",
          conf.cgroup_root);
    return -1;
  }
  if (access(conf.proc_root, R_OK | X_OK) != 0) {
    ERROR(PLUGIN_NAME " plugin: ProcRoot %s cannot be read: %s.", conf.proc_root, strerror(errno));
    return -1;
  }
  INFO(PLUGIN_NAME " plugin: %s layout under %s.", cg_layout_name(layout->kind), conf.cgroup_root);
  sample_host_t *h = &sample_host;
  for (int i = 0; i < CG_V1_COUNT; i++) {
    h->v1_root[i] = layout->kind != CG_LAYOUT_V2 ? open_root(layout->v1[i]) : -1;
    if (layout->kind != CG_LAYOUT_V2 && h->v1_root[i] < 0)
      INFO(PLUGIN_NAME " plugin: no cgroup v1 %s hierarchy under %s: its values are not "
                       "collected.",
           cg_v1_controller_name(i), conf.cgroup_root);
  }
  h->v2_root = open_root(layout->v2);
  h->primary_root = open_root(layout->primary);
  h->proc_root = open_root(conf.proc_root);
  /* The v1 freezer (docker pause on v1 and hybrid hosts): frozen tasks are not in the load. */
  char freezer[PATH_MAX + 16];
  snprintf(freezer, sizeof(freezer), "%s/freezer", conf.cgroup_root);
  h->freezer_root = layout->kind != CG_LAYOUT_V2 ? open_root(freezer) : -1;
  if (h->primary_root < 0) {
    ERROR(PLUGIN_NAME " plugin: cannot open %s: %s.", layout->primary, strerror(errno));
    close_roots();
    return -1;
  }
  /* Hybrid: the unified tree's cpu.stat splits CPU time (its root shows it: kernels since 5.x; on
   * older ones only the children had it, so the plugin does not count on it there). */
  char stat[512];
  h->unified_cpu_time = layout->kind == CG_LAYOUT_HYBRID && h->v2_root >= 0 &&
                        read_file_at(h->v2_root, "cpu.stat", stat, sizeof(stat)) > 0 &&
                        strstr(stat, "user_usec ") != NULL;
  if (layout->kind == CG_LAYOUT_V1 && (conf.groups & CG_GROUP_PRESSURE))
    INFO(PLUGIN_NAME " plugin: no cgroup v2 tree under %s: pressure (PSI) values are not "
                     "collected.",
         conf.cgroup_root);
  return 0;
}

/* ---- helpers: the namespace worker, taskstats ---- */

static void log_to_collectd(int level, const char *msg) {
  plugin_log(level, PLUGIN_NAME " plugin: %s", msg);
}

static bool network_start(void) {
  if (!conf.collect_network)
    return false;
  /* collectd runs init in the host's network namespace: the worker saves it as home. */
  int err = netns_init(log_to_collectd);
  netns_owners = err == 0 ? netns_registry_create(3 * plugin_get_interval()) : NULL;
  if (err != 0 || !netns_owners)
    ERROR(PLUGIN_NAME " plugin: cannot start the network namespace worker (%s); network "
                      "collection is off.",
          err ? strerror(-err) : "out of memory");
  return err == 0 && netns_owners != NULL;
}

static bool delay_start(void) {
  if (!conf.collect_delay)
    return false;
  if (conf.enable_delayacct && delay_accounting_state(conf.proc_root) == 0) {
    int err = delay_accounting_enable(conf.proc_root);
    if (err)
      ERROR(PLUGIN_NAME " plugin: EnableDelayAccounting: cannot write 1 to "
                        "%s/sys/kernel/task_delayacct: %s.",
            conf.proc_root, strerror(-err));
    else
      INFO(PLUGIN_NAME " plugin: switched delay accounting on (kernel.task_delayacct = 1).");
  }
  delay_config_t dc = {.proc_root = conf.proc_root, .exit_listener = true, .log = log_to_collectd};
  int err = delay_init(&dc);
  if (err)
    ERROR(PLUGIN_NAME " plugin: the kernel's taskstats interface is not available (%s); delay "
                      "accounting collection is off.",
          strerror(-err));
  return err == 0;
}

/* Kept fds live at CG_FILES_MIN_FD and above, away from code that uses select(); the soft
 * RLIMIT_NOFILE (1024 under systemd) is raised towards the hard one to make room. */
static void open_files_budget(void) {
  struct rlimit rl;
  long budget = 0;
  if (conf.max_open_files > 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = (rlim_t)CG_FILES_MIN_FD + (rlim_t)conf.max_open_files + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
      struct rlimit raised = rl;
      raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
      if (raised.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        INFO(PLUGIN_NAME " plugin: raised the open file limit from %lu to %lu, for cgroup files "
                         "kept open between reads.",
             (unsigned long)rl.rlim_cur, (unsigned long)raised.rlim_cur);
        rl = raised;
      }
    }
    long room = rl.rlim_cur == RLIM_INFINITY ? conf.max_open_files
                                             : (long)rl.rlim_cur - CG_FILES_MIN_FD - 256;
    budget = room < conf.max_open_files ? room : conf.max_open_files;
    if (budget <= 0) {
      INFO(PLUGIN_NAME " plugin: the open file limit (%lu) leaves no room to keep cgroup files "
                       "open: each read opens and closes them.",
           (unsigned long)rl.rlim_cur);
      budget = 0;
    }
  }
  cg_files_set_budget(budget);
}

/* ---- init, shutdown ---- */

/* collectd frees read callbacks' data before it calls shutdown callbacks: the discovery
 * callback's going is the first sign of shutdown, after which nothing may be dispatched. */
static void collectd_stopping(void *data) {
  (void)data;
  exitwatch_quiesce();
}

static void set_sample_host(void) {
  sample_host_t *h = &sample_host;
  h->kind = host_layout.kind;
  h->proc_path = conf.proc_root;
  h->groups = conf.groups;
  h->collect_load = conf.collect_load;
  h->task_method = conf.task_method;
  h->collect_diagnosis = conf.collect_diagnosis;
  h->interval = CDTIME_T_TO_DOUBLE(plugin_get_interval());
  h->collect_delay = h->collect_network = false; /* per pass, from shard.c's switches */
}

static int container_init(void) {
  if (initialized)
    return 0;
  if (conf.failed) {
    ERROR(PLUGIN_NAME " plugin: not started: its configuration has errors (see above).");
    return -1;
  }
  if (!config_lists_ready())
    return -1;
  if (!conf.interface_given) { /* default: every interface but loopback */
    select_add(conf.interfaces, "lo");
    select_set_invert(conf.interfaces, true);
  }
  if (open_roots() != 0)
    return -1;
  if (conf.compact && !emit_compact_types_loaded(CONTAINER_TYPES_DB))
    conf.compact = false;
  set_sample_host();
  blockdev_init(conf.proc_root);
  names_config_t nc = {.docker_root = conf.docker_root,
                       .k8s_log_dir = conf.k8s_log_dir,
                       .podman_json = conf.podman_json,
                       .containerd_state = conf.containerd_state};
  if (names_configure(&nc) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot configure container naming.");
    close_roots();
    return -1;
  }
  bool network = network_start();
  exitwatch_start(host_layout.v2, sample_host.v2_root, registry_exit_event);
  shard_features_set(network, delay_start());
  open_files_budget();
  static int discover_token; /* collectd calls free_func only for non-NULL data */
  user_data_t ud = {.data = &discover_token, .free_func = collectd_stopping};
  plugin_register_complex_read(READ_GROUP, "container/discover", registry_discover, 0, &ud);
  if (conf.collect_host)
    registry_add_host();
  initialized = true;
  return 0;
}

static int container_shutdown(void) {
  exitwatch_quiesce();
  exitwatch_stop();                         /* before the containers it looks at are freed */
  plugin_unregister_read_group(READ_GROUP); /* collectd drops its references to the shards */
  registry_clear();
  shard_release_all();
  if (initialized) {
    delay_shutdown();
    genl_shutdown();
    shard_features_set(false, false);
    netns_shutdown();
    if (netns_owners)
      netns_registry_destroy(netns_owners);
    netns_owners = NULL;
    names_shutdown();
    blockdev_shutdown();
  }
  close_roots();
  registry_fresh_free();
  config_reset();
  initialized = false;
  sample_host_cpu_reset();
  return 0;
}

void module_register(void) {
  plugin_register_complex_config(PLUGIN_NAME, config_read);
  plugin_register_init(PLUGIN_NAME, container_init);
  plugin_register_shutdown(PLUGIN_NAME, container_shutdown);
}
