/* The containers the plugin reads (see registry.h): discovery walks the cgroup tree, names what
 * it finds, lets pods' containers claim their shared network namespace, and registers each with
 * a read callback; containers that are gone leave with a notification of their totals. */
#include "plugin/registry.h"

#include "utils/common/common.h"

#include "plugin/config.h"
#include "plugin/exitwatch.h"
#include "plugin/notify.h"
#include "plugin/shard.h"

#include "cgroupfs.h"
#include "identify.h"
#include "names.h"
#include "netns_registry.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define WALK_MAX_DEPTH 10
#define REGISTRY_BUCKETS 4096 /* discovery looks up every cgroup it walks by path */

/* Containers with a read callback. Only discovery changes the list; the read callbacks never
 * look at it, so only discovery, the exit watcher and shutdown take the lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static container_t *registry;
static container_t *registry_hash[REGISTRY_BUCKETS];

static container_t *container_new(const char *relpath) {
  container_t *c = calloc(1, sizeof(*c));
  if (c && !(c->relpath = strdup(relpath))) {
    free(c);
    return NULL;
  }
  if (c) {
    c->events_wd = -1;
    c->state.relpath = c->relpath;
    c->state.proc_path = sample_host.proc_path;
  }
  return c;
}

/* Frees a container, registered or not. */
static void container_free(container_t *c) {
  if (!c)
    return;
  meta_data_destroy(c->meta);
  free(c->compact_last);
  sample_state_free(&c->state);
  free(c->relpath);
  free(c);
}

/* ---- the hash ---- */

static container_t **registry_bucket(const char *relpath) {
  return &registry_hash[fnv1a64(relpath, strlen(relpath)) % REGISTRY_BUCKETS];
}

static void registry_link(container_t *c) {
  c->next = registry;
  registry = c;
  container_t **bucket = registry_bucket(c->relpath);
  c->hnext = *bucket;
  *bucket = c;
}

/* Takes c out of the hash; the caller unlinks it from the list. */
static void registry_unhash(container_t *c) {
  for (container_t **link = registry_bucket(c->relpath); *link; link = &(*link)->hnext)
    if (*link == c) {
      *link = c->hnext;
      break;
    }
}

static container_t *registry_find(const char *relpath) {
  for (container_t *c = *registry_bucket(relpath); c; c = c->hnext)
    if (strcmp(c->relpath, relpath) == 0)
      return c;
  return NULL;
}

/* Drops what refers to an unlinked c, takes it out of its read callback and frees it. Under
 * registry_lock, so the exit watcher is not reading it either. */
static void container_retire(container_t *c) {
  exitwatch_remove(c);
  shard_remove(c); /* first: a pass under way could still claim a namespace for c */
  if (netns_owners)
    netns_registry_forget(netns_owners, c->id);
  container_free(c);
}

static void registry_remove(container_t *c) {
  for (container_t **link = &registry; *link; link = &(*link)->next)
    if (*link == c) {
      *link = c->next;
      break;
    }
  registry_unhash(c);
  container_retire(c);
}

static bool cgroup_unpopulated(const container_t *c) {
  char path[PATH_MAX], text[256];
  if (snprintf(path, sizeof(path), "%s/cgroup.events", c->relpath) >= (int)sizeof(path))
    return false;
  if (read_file_at(sample_host.v2_root, path, text, sizeof(text)) < 0)
    return false;
  const char *p = strstr(text, "populated ");
  return p && p[10] == '0';
}

void registry_exit_event(int wd) {
  pthread_mutex_lock(&registry_lock);
  for (container_t *c = registry; c; c = c->next) {
    if (c->events_wd != wd)
      continue;
    if (!c->final_read_done && cgroup_unpopulated(c)) {
      /* Under its shard's lock, after its callback's pass: values still waiting in that pass's
       * batch are older than these, and collectd drops a value older than the last it has. */
      shard_read_one(c);
      c->final_read_done = true;
      DEBUG(PLUGIN_NAME " plugin: container %s has no process left: final values read.", c->name);
    }
    break;
  }
  pthread_mutex_unlock(&registry_lock);
}

void registry_clear(void) {
  pthread_mutex_lock(&registry_lock);
  while (registry) {
    container_t *c = registry;
    registry = c->next;
    container_free(c);
  }
  memset(registry_hash, 0, sizeof(registry_hash));
  pthread_mutex_unlock(&registry_lock);
}

/* ---- registration ---- */

static bool claim_netns(netns_id_t id, void *ctx) {
  const container_t *c = ctx;
  return netns_registry_see(netns_owners, id, c->id, cdtime());
}

static void container_register(container_t *c) {
  c->meta = meta_data_create();
  if (c->meta) {
    meta_data_add_string(c->meta, "container_id", c->id);
    meta_data_add_string(c->meta, "runtime", c->runtime);
    meta_data_add_string(c->meta, "cgroup", c->relpath[0] ? c->relpath : "/");
  }
  c->seen = true;
  sample_host_t h = sample_host;
  h.collect_delay = shard_delay_on();
  sample_state_t *st = &c->state;
  st->is_host = c->is_host;
  st->on_error = container_report_error;
  st->error_ctx = c;
  st->claim = claim_netns;
  st->claim_ctx = c;
  if (sample_state_init(st, &h) != 0 || shard_add(c) != 0) {
    container_free(c); /* found again by the next pass */
    return;
  }
  registry_link(c);
  exitwatch_add(c);
  if (!c->is_host)
    notify_container(c, NOTIF_OKAY, "container appeared:", false);
}

/* ---- discovery ---- */

/* Containers the current pass found. They claim shared network namespaces in id order before
 * their callbacks exist (a new callback may run at once on another read thread): so the
 * smallest id of a pod reports its namespace, also after a restart. */
static container_t **fresh;
static size_t fresh_num, fresh_cap;

static void fresh_add(container_t *c) {
  if (fresh_num == fresh_cap) {
    size_t cap = fresh_cap ? 2 * fresh_cap : 64;
    container_t **grown = realloc(fresh, cap * sizeof(*fresh));
    if (!grown) {
      container_free(c); /* found again by the next pass */
      return;
    }
    fresh = grown;
    fresh_cap = cap;
  }
  fresh[fresh_num++] = c;
}

static int compare_ids(const void *a, const void *b) {
  return strcmp((*(container_t *const *)a)->id, (*(container_t *const *)b)->id);
}

static void claim_fresh_namespaces(void) {
  if (!shard_network_on() || fresh_num == 0)
    return;
  qsort(fresh, fresh_num, sizeof(*fresh), compare_ids);
  for (size_t i = 0; i < fresh_num; i++) {
    netns_id_t id;
    if (sample_identify_netns(&sample_host, &fresh[i]->state, &id) == NETNS_OK)
      netns_registry_see(netns_owners, id, fresh[i]->id, cdtime());
  }
}

/* A known container whose name was a fallback: a better one means a new callback (a read
 * thread may be using the name). Returns the container, NULL when it was removed. */
static container_t *recheck_name(container_t *known, const container_ident_t *ident) {
  container_names_t better;
  if (names_lookup(ident, &better) == 0 && !better.provisional &&
      strcmp(better.name, known->name) != 0) {
    INFO(PLUGIN_NAME " plugin: container %s is now known as %s.", known->name, better.name);
    registry_remove(known);
    return NULL;
  }
  if (++known->name_attempts >= NAMES_RETRIES)
    known->provisional_name = false; /* names.c has given up too */
  return known;
}

static void found_new(const char *relpath, const container_ident_t *ident, uint64_t ino) {
  container_t *c = container_new(relpath);
  if (!c)
    return;
  c->dir_ino = ino;
  sstrncpy(c->id, ident->id, sizeof(c->id));
  sstrncpy(c->runtime, container_runtime_name(ident->runtime), sizeof(c->runtime));
  container_names_t names;
  if (names_lookup(ident, &names) != 0) {
    container_free(c);
    return;
  }
  if (names.note[0]) {
    DEBUG(PLUGIN_NAME " plugin: container %s: %s", ident->id, names.note);
  }
  sstrncpy(c->name, names.name, sizeof(c->name));
  c->provisional_name = names.provisional;
  if (!select_matches(conf.containers, c->name)) {
    /* Not collected: remember nothing, decide again next time (names can appear later). */
    names_forget(c->id);
    container_free(c);
    return;
  }
  DEBUG(PLUGIN_NAME " plugin: found %s container %s at /%s", c->runtime, c->name, relpath);
  fresh_add(c); /* registered after the walk: see claim_fresh_namespaces() */
}

/* A container whose cgroup was removed and created again at the same path between two passes
 * (a restart in place): its directories and exit watch belonged to the old one. */
static void replaced_in_place(container_t *c, uint64_t ino) {
  DEBUG(PLUGIN_NAME " plugin: container %s: its cgroup was created anew.", c->name);
  c->dir_ino = ino;
  shard_reset_reads(c);
  exitwatch_remove(c);
  exitwatch_add(c);
  c->final_read_done = false;
}

static cg_walk_result_t discover_visit(const char *relpath, uint64_t ino, void *ctx) {
  (void)ctx;
  container_ident_t ident;
  if (!container_identify(relpath, &ident))
    return CG_WALK_DESCEND;
  if (!ident.is_top)
    return CG_WALK_SKIP;
  container_t *known = registry_find(relpath);
  if (known && known->provisional_name)
    known = recheck_name(known, &ident);
  if (known) {
    known->seen = true;
    if (known->dir_ino != ino)
      replaced_in_place(known, ino);
  } else {
    found_new(relpath, &ident, ino);
  }
  return CG_WALK_FOUND;
}

/* Containers the pass did not see: gone, with their totals. */
static void retire_unseen(void) {
  container_t **link = &registry;
  while (*link) {
    container_t *c = *link;
    if (c->seen) {
      link = &c->next;
      continue;
    }
    *link = c->next;
    registry_unhash(c);
    DEBUG(PLUGIN_NAME " plugin: container %s is gone", c->name);
    notify_container(c, NOTIF_OKAY, "container disappeared:", true);
    names_forget(c->id);
    container_retire(c);
  }
}

int registry_discover(user_data_t *ud) {
  (void)ud;
  pthread_mutex_lock(&registry_lock);
  for (container_t *c = registry; c; c = c->next)
    c->seen = c->is_host;
  int visited = cg_walk(host_layout.primary, WALK_MAX_DEPTH, discover_visit, NULL);
  if (visited < 0)
    WARNING(PLUGIN_NAME " plugin: cannot walk %s: %s", host_layout.primary, strerror(-visited));
  claim_fresh_namespaces();
  for (size_t i = 0; i < fresh_num; i++)
    container_register(fresh[i]);
  fresh_num = 0;
  retire_unseen();
  pthread_mutex_unlock(&registry_lock);
  return 0;
}

void registry_fresh_free(void) {
  free(fresh);
  fresh = NULL;
  fresh_num = fresh_cap = 0;
}

void registry_add_host(void) {
  container_t *host = container_new("");
  if (!host)
    return;
  host->is_host = true;
  sstrncpy(host->name, HOST_INSTANCE, sizeof(host->name));
  sstrncpy(host->id, HOST_INSTANCE, sizeof(host->id));
  sstrncpy(host->runtime, "host", sizeof(host->runtime));
  pthread_mutex_lock(&registry_lock);
  container_register(host);
  pthread_mutex_unlock(&registry_lock);
}
