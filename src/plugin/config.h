/* The plugin's configuration: one struct, its defaults, and the <Plugin container> block. */
#ifndef CONTAINER_PLUGIN_CONFIG_H
#define CONTAINER_PLUGIN_CONFIG_H

#include "collectd.h"
#include "configfile.h"

#include "select.h"
#include "tasksample.h"

#include <limits.h>
#include <stdbool.h>

/* Meta data (container id, runtime, cgroup) on the first list of each read, on every list or on
 * none: collectd clones it for every list it queues, which doubles its cost per list. */
typedef enum { META_FIRST, META_ALL, META_NONE } meta_mode_t;

typedef struct {
  char cgroup_root[PATH_MAX];
  char proc_root[PATH_MAX];
  char docker_root[PATH_MAX];
  char k8s_log_dir[PATH_MAX];
  char podman_json[PATH_MAX];
  char containerd_state[PATH_MAX];
  select_list_t *containers; /* Container lines; created on first use */
  bool ignore_selected;
  unsigned groups; /* CG_GROUP_* of the Collect* switches */
  bool collect_load;
  bool collect_all_states;
  /* /proc R+D by default: that is what the kernel's load average counts. cgroupstats (v1 only) is
   * cheaper but misses killable and freezable waits (see loadavg.h). */
  task_method_kind_t task_method;
  bool collect_host;
  bool notifications;
  bool collect_network;
  select_list_t *interfaces;
  bool ignore_selected_interface;
  bool interface_given;
  bool collect_delay;
  bool enable_delayacct;
  bool collect_diagnosis;
  meta_mode_t meta;
  bool compact;        /* one list per metric group, the types of contrib/container-types.db */
  long max_open_files; /* cgroup fds kept open between reads (0: none) */
  long per_callback;   /* ContainersPerCallback, see shard.c */
  bool failed;         /* a configuration error: init refuses to start the plugin */
} plugin_conf_t;

extern plugin_conf_t conf;

/* The <Plugin container> block. Never fails (collectd 5.12 would exit): errors set conf.failed. */
int config_read(oconfig_item_t *ci);
/* Creates the select lists if the configuration had none; false when out of memory. */
bool config_lists_ready(void);
/* Back to the defaults, freeing the lists (a shutdown leaves nothing behind). */
void config_reset(void);

#endif
