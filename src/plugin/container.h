/* The glue's shared types: a container as the plugin keeps it, and the host every read sees.
 * Every module of src/plugin/ includes this; it includes none of them. */
#ifndef CONTAINER_PLUGIN_CONTAINER_H
#define CONTAINER_PLUGIN_CONTAINER_H

#include "collectd.h"
#include "plugin.h"
#include "utils/metadata/meta_data.h"

#include "cgroupfs.h"
#include "sample.h"

#include <stdbool.h>
#include <stdint.h>

#define PLUGIN_NAME "container"
#define HOST_INSTANCE "_host"
#define MAX_COMPLAINTS 8

struct shard_s;

typedef struct container_s {
  char *relpath; /* below the hierarchy roots, "" for the host */
  char id[128];
  char name[DATA_MAX_NAME_LEN];
  char runtime[32];
  bool is_host;
  bool seen;             /* by the current discovery pass */
  bool provisional_name; /* a fallback name that discovery keeps trying to resolve */
  int name_attempts;
  sample_state_t state; /* what its reads keep between intervals */
  /* emission */
  meta_data_t *meta;
  bool host_netns_noted;
  uint32_t delays_shown;            /* TS_F_DELAY bits of the rarer delay kinds once they moved */
  struct emit_last_s *compact_last; /* compact mode: the counters last sent (emit.c) */
  /* the read callback that reads it, see shard.c */
  struct shard_s *shard;
  size_t shard_index;
  int events_wd; /* inotify watch on the unified tree's cgroup.events, -1 if none */
  bool final_read_done;
  uint64_t dir_ino; /* of its cgroup directory: another one is a cgroup re-created in place */
  char complained[MAX_COMPLAINTS][64];
  int n_complained;
  struct container_s *next;
  struct container_s *hnext; /* the registry's hash chain */
} container_t;

/* The host as every read sees it (roots, options) and its cgroup layout; set by init,
 * read-only while reads run. */
extern sample_host_t sample_host;
extern cg_layout_t host_layout;
/* Which container reports a network namespace that several share (a pod's). */
extern struct netns_registry *netns_owners;

/* A file of c that exists but cannot be used (err -E2BIG: a per-read limit was reached, what
 * says which): said once per container and file. */
void container_report_error(void *ctx, const char *file, int err, const char *what);

#endif
