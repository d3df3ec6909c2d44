/* Read callbacks over groups of containers (see shard.h). */
#include "plugin/shard.h"

#include "utils/common/common.h"
#include "utils_complain.h"

#include "plugin/config.h"
#include "plugin/emit.h"
#include "plugin/notify.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define READ_GROUP "container"

typedef struct shard_s {
  pthread_mutex_t lock;
  atomic_int refs; /* one for the plugin's list, one for each of collectd's callbacks */
  container_t **members;
  size_t n, cap;
  char name[DATA_MAX_NAME_LEN + 16];
  char load_name[DATA_MAX_NAME_LEN + 24]; /* its 5 s load callback, "" if none */
  struct shard_s *next;
} shard_t;

/* One pass's work, sized for its members. Passes run on several read threads at once; a pool
 * holds one such buffer per pass under way, so the memory does not grow with the number of
 * containers (2.5 KiB per member of a pass, plus the lists). */
typedef struct scratch_s {
  container_sample_t *samples;
  cdtime_t *times;
  delay_job_t *jobs;
  size_t *job_owner;
  netns_request_t *reqs;
  netns_result_t *results;
  int *statuses;
  size_t *req_owner;
  size_t cap;
  emit_batch_t batch;
  struct scratch_s *next;
} scratch_t;

static shard_t *shards; /* under the registry's lock */
static unsigned shard_serial;

/* Off for good after a missing privilege, a kernel without the feature, or a worker that could
 * not return home. */
static atomic_bool network_on;
static atomic_bool delay_on;
/* Said once (read threads share them). */
static pthread_mutex_t complaint_lock = PTHREAD_MUTEX_INITIALIZER;
static c_complain_t delayacct_off_complaint = C_COMPLAIN_INIT_STATIC;
static c_complain_t method_complaint[2] = {C_COMPLAIN_INIT_STATIC, C_COMPLAIN_INIT_STATIC};

void shard_features_set(bool network, bool delay) {
  atomic_store(&network_on, network);
  atomic_store(&delay_on, delay);
  pthread_mutex_lock(&complaint_lock);
  C_COMPLAIN_INIT(&delayacct_off_complaint);
  for (int i = 0; i < 2; i++)
    C_COMPLAIN_INIT(&method_complaint[i]);
  pthread_mutex_unlock(&complaint_lock);
}

bool shard_network_on(void) {
  return atomic_load(&network_on);
}

bool shard_delay_on(void) {
  return atomic_load(&delay_on);
}

static void network_off(const char *why) {
  if (atomic_exchange(&network_on, false))
    ERROR(PLUGIN_NAME " plugin: %s; network collection is now off, everything else goes on.", why);
}

static void delay_off(const char *why) {
  if (atomic_exchange(&delay_on, false))
    ERROR(PLUGIN_NAME " plugin: %s; delay accounting collection is now off, everything else "
                      "goes on.",
          why);
}

/* ---- the scratch pool ---- */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static scratch_t *pool;

static void scratch_free(scratch_t *w) {
  if (!w)
    return;
  free(w->samples);
  free(w->times);
  free(w->jobs);
  free(w->job_owner);
  free(w->reqs);
  free(w->results);
  free(w->statuses);
  free(w->req_owner);
  free(w->batch.lists);
  free(w);
}

static scratch_t *scratch_alloc(size_t cap) {
  scratch_t *w = calloc(1, sizeof(*w));
  if (!w)
    return NULL;
  /* Room for about 24 lists per container, at most 256 lists (92 KiB). */
  size_t lists = cap * 24 < 48 ? 48 : cap * 24 > 256 ? 256 : cap * 24;
  w->samples = calloc(cap, sizeof(*w->samples));
  w->times = calloc(cap, sizeof(*w->times));
  w->jobs = calloc(cap, sizeof(*w->jobs));
  w->job_owner = calloc(cap, sizeof(*w->job_owner));
  w->reqs = calloc(cap, sizeof(*w->reqs));
  w->results = calloc(cap, sizeof(*w->results));
  w->statuses = calloc(cap, sizeof(*w->statuses));
  w->req_owner = calloc(cap, sizeof(*w->req_owner));
  w->batch.lists = calloc(lists, sizeof(*w->batch.lists));
  if (!(w->samples && w->times && w->jobs && w->job_owner && w->reqs && w->results && w->statuses &&
        w->req_owner && w->batch.lists)) {
    scratch_free(w);
    return NULL;
  }
  w->cap = cap;
  w->batch.cap = lists;
  return w;
}

/* A buffer for a pass of n containers: a pooled one that is large enough, else a new one. */
static scratch_t *scratch_get(size_t n) {
  pthread_mutex_lock(&pool_lock);
  scratch_t **link = &pool;
  while (*link && (*link)->cap < n)
    link = &(*link)->next;
  scratch_t *w = *link;
  if (w)
    *link = w->next;
  pthread_mutex_unlock(&pool_lock);
  return w ? w : scratch_alloc(n);
}

static void scratch_put(scratch_t *w) {
  pthread_mutex_lock(&pool_lock);
  w->next = pool;
  pool = w;
  pthread_mutex_unlock(&pool_lock);
}

static void scratch_pool_free(void) {
  pthread_mutex_lock(&pool_lock);
  while (pool) {
    scratch_t *w = pool;
    pool = w->next;
    scratch_free(w);
  }
  pthread_mutex_unlock(&pool_lock);
}

/* ---- the pass ---- */

static void batch_delays(scratch_t *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (s->samples[i].delay_asked) {
      s->jobs[k] = s->samples[i].delay_job;
      s->job_owner[k++] = i;
    }
  if (k == 0)
    return;
  delay_sample_containers(s->jobs, k);
  for (size_t j = 0; j < k; j++)
    s->samples[s->job_owner[j]].delay_job = s->jobs[j];
}

static void batch_network(scratch_t *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (s->samples[i].net_asked) {
      s->reqs[k] = s->samples[i].net_req;
      s->req_owner[k++] = i;
    }
  if (k == 0)
    return;
  netns_read_batch(s->reqs, s->results, s->statuses, k);
  for (size_t j = 0; j < k; j++) {
    container_sample_t *sm = &s->samples[s->req_owner[j]];
    sm->net = s->results[j];
    sm->net_status = s->statuses[j];
  }
}

/* What the answers call for besides values: switching a feature off, a warning, a note. */
static void delay_result(container_t *c, const container_sample_t *sm) {
  int rc = sm->delay_rc;
  if (rc == -EPERM)
    delay_off("taskstats (TASKSTATS_CMD_GET) needs CAP_NET_ADMIN, which collectd does not have "
              "(run it as root or grant it CAP_NET_ADMIN)");
  else if (rc == -ENOENT || rc == -ESHUTDOWN)
    delay_off("the kernel's taskstats interface is gone");
  else if (rc < 0)
    container_report_error(c, "taskstats", rc, "cannot read the delays of its processes");
  if (rc != 0 || sm->delay_job.out.delay_on)
    return;
  pthread_mutex_lock(&complaint_lock);
  c_complain_once(LOG_WARNING, &delayacct_off_complaint,
                  PLUGIN_NAME " plugin: delay accounting is off in the kernel "
                              "(kernel.task_delayacct = 0): the delay_* values are not "
                              "collected, everything else is. Turn it on with \"sysctl "
                              "kernel.task_delayacct=1\", the \"delayacct\" boot parameter, or "
                              "\"EnableDelayAccounting true\" in the plugin's configuration.");
  pthread_mutex_unlock(&complaint_lock);
}

/* Which source the task states of a hierarchy come from, said once at INFO. */
static void task_method_said(const container_sample_t *sm, const task_method_t *m) {
  int hier = sm->tasks_hierarchy ? 1 : 0;
  const char *name = hier ? "cgroup v2" : "cgroup v1 cpu";
  pthread_mutex_lock(&complaint_lock);
  if (m->fallback_reason)
    c_complain_once(LOG_INFO, &method_complaint[hier],
                    PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s "
                                "(cgroupstats: %s).",
                    name, task_method_name(m->kind), strerror(-m->fallback_reason));
  else
    c_complain_once(LOG_INFO, &method_complaint[hier],
                    PLUGIN_NAME " plugin: task states on the %s hierarchy come from %s.", name,
                    task_method_name(m->kind));
  pthread_mutex_unlock(&complaint_lock);
}

static void network_result(container_t *c, const container_sample_t *sm) {
  const netns_result_t *res = &sm->net;
  switch (sm->net_status) {
  case NETNS_OK:
    if (res->n_ifs_total > res->n_ifs)
      container_report_error(c, "interfaces (limit)", -E2BIG,
                             "more interfaces than one read takes (the first ones collected)");
    break;
  case NETNS_NO_PID:
  case NETNS_SKIPPED:
  case NETNS_STOPPED:
    break;
  case NETNS_HOST:
    if (!c->host_netns_noted) {
      c->host_netns_noted = true;
      DEBUG(PLUGIN_NAME " plugin: container %s uses the host's network namespace: no interface "
                        "values of its own.",
            c->name);
      if (c->meta)
        meta_data_add_string(c->meta, "network_namespace", "host");
    }
    break;
  case NETNS_NOPERM:
    network_off(res->errmsg[0] ? res->errmsg : NETNS_PERM_HINT);
    break;
  case NETNS_POISONED:
    network_off(res->errmsg[0] ? res->errmsg
                               : "the namespace worker cannot return to the host namespace");
    break;
  default:
    container_report_error(c, "ns/net", sm->net_status,
                           res->errmsg[0] ? res->errmsg : "network read failed");
  }
}

static void finish_member(const sample_host_t *h, container_t *c, container_sample_t *sm,
                          emit_batch_t *b, cdtime_t t) {
  sample_finish(h, &c->state, sm);
  if (!sm->found)
    return;
  if (sm->has_tasks)
    task_method_said(sm, &c->state.task_method);
  delay_result(c, sm);
  if (sm->net_asked)
    network_result(c, sm);
  notify_diagnosis_change(c, sm);
  emit_opts_t o = {.compact = conf.compact,
                   .all_states = conf.collect_all_states,
                   .meta = conf.meta,
                   .interfaces = conf.interfaces};
  emit_sample(b, c, sm, t, &o);
}

/* One pass over members[0..n) (see shard.h), under their shard's lock. */
static void shard_pass(container_t **members, size_t n) {
  if (n == 0)
    return;
  scratch_t *s = scratch_get(n);
  if (!s) {
    ERROR(PLUGIN_NAME " plugin: out of memory for a read of %zu containers.", n);
    return;
  }
  sample_host_t h = sample_host;
  h.collect_network = atomic_load(&network_on);
  h.collect_delay = atomic_load(&delay_on);
  for (size_t i = 0; i < n; i++) {
    s->times[i] = cdtime(); /* the values' time: a late dispatch does not skew rates */
    sample_read(&h, &members[i]->state, &s->samples[i]);
  }
  batch_delays(s, n);
  batch_network(s, n);
  for (size_t i = 0; i < n; i++) {
    finish_member(&h, members[i], &s->samples[i], &s->batch, s->times[i]);
    sample_release(&s->samples[i]);
  }
  emit_flush(&s->batch);
  scratch_put(s);
}

/* The load samples of the shard's containers, every LOADAVG_FREQ whatever the Interval. */
static int shard_load(user_data_t *ud) {
  shard_t *s = ud->data;
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->n; i++)
    sample_load(&sample_host, &s->members[i]->state);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

static int shard_read(user_data_t *ud) {
  shard_t *s = ud->data;
  pthread_mutex_lock(&s->lock);
  if (!s->load_name[0]) /* no load callback of its own */
    for (size_t i = 0; i < s->n; i++)
      sample_load(&sample_host, &s->members[i]->state);
  shard_pass(s->members, s->n);
  pthread_mutex_unlock(&s->lock);
  return 0; /* never an error: collectd would slow the callback down */
}

void shard_reset_reads(container_t *c) {
  shard_t *s = c->shard;
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  if (c->state.dirs_open)
    sample_state_close(&c->state);
  pthread_mutex_unlock(&s->lock);
}

void shard_read_one(container_t *c) {
  shard_t *s = c->shard;
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  c->state.limits_age = 0; /* the last chance to read the memory peak */
  shard_pass(&c, 1);
  pthread_mutex_unlock(&s->lock);
}

/* ---- shards ---- */

static void shard_free(shard_t *s) {
  if (!s)
    return;
  pthread_mutex_destroy(&s->lock);
  free(s->members);
  free(s);
}

/* collectd's free_func and the plugin's list each hold a reference: collectd 5.12 frees read
 * callbacks' data before it calls the plugin's shutdown, while the exit watcher may still use
 * the shard; the last one frees it. */
static void shard_unref(void *arg) {
  shard_t *s = arg;
  if (s && atomic_fetch_sub(&s->refs, 1) == 1)
    shard_free(s);
}

static shard_t *shard_alloc(size_t cap) {
  shard_t *s = calloc(1, sizeof(*s));
  if (!s || !(s->members = calloc(cap, sizeof(*s->members)))) {
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->lock, NULL);
  s->cap = cap;
  atomic_init(&s->refs, 1);
  return s;
}

/* Under the registry's lock: a shard with room, registered as a read callback if new. With
 * ContainersPerCallback 1 it is named after its container, as in earlier versions. */
static shard_t *shard_with_room(const container_t *c) {
  for (shard_t *s = shards; s; s = s->next)
    if (s->n < s->cap)
      return s;
  shard_t *s = shard_alloc((size_t)conf.per_callback);
  if (!s) {
    ERROR(PLUGIN_NAME " plugin: out of memory for a read callback.");
    return NULL;
  }
  if (conf.per_callback == 1)
    snprintf(s->name, sizeof(s->name), "container/%s", c->is_host ? HOST_INSTANCE : c->id);
  else
    snprintf(s->name, sizeof(s->name), "container/read-%u", shard_serial++);
  atomic_fetch_add(&s->refs, 1);
  user_data_t ud = {.data = s, .free_func = shard_unref};
  if (plugin_register_complex_read(READ_GROUP, s->name, shard_read, 0, &ud) != 0) {
    ERROR(PLUGIN_NAME " plugin: cannot register the read callback %s.", s->name);
    shard_free(s); /* collectd keeps user data only when registering succeeds */
    return NULL;
  }
  if (sample_host.collect_load) {
    snprintf(s->load_name, sizeof(s->load_name), "%s/load", s->name);
    atomic_fetch_add(&s->refs, 1);
    if (plugin_register_complex_read(READ_GROUP, s->load_name, shard_load,
                                     DOUBLE_TO_CDTIME_T(LOADAVG_FREQ), &ud) != 0) {
      ERROR(PLUGIN_NAME " plugin: cannot register the load callback %s: task states are "
                        "sampled at each read instead.",
            s->load_name);
      atomic_fetch_sub(&s->refs, 1);
      s->load_name[0] = '\0';
    }
  }
  s->next = shards;
  shards = s;
  return s;
}

int shard_add(container_t *c) {
  shard_t *s = shard_with_room(c);
  if (!s)
    return -1;
  pthread_mutex_lock(&s->lock);
  c->shard = s;
  c->shard_index = s->n;
  s->members[s->n++] = c;
  pthread_mutex_unlock(&s->lock);
  return 0;
}

void shard_remove(container_t *c) {
  shard_t *s = c->shard;
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  container_t *last = s->members[--s->n];
  s->members[c->shard_index] = last;
  last->shard_index = c->shard_index;
  s->members[s->n] = NULL;
  bool empty = s->n == 0;
  pthread_mutex_unlock(&s->lock);
  c->shard = NULL;
  if (!empty)
    return;
  for (shard_t **link = &shards; *link; link = &(*link)->next)
    if (*link == s) {
      *link = s->next;
      break;
    }
  plugin_unregister_read(s->name); /* collectd drops its references once a pass has returned */
  if (s->load_name[0])
    plugin_unregister_read(s->load_name);
  shard_unref(s);
}

void shard_release_all(void) {
  while (shards) {
    shard_t *s = shards;
    shards = s->next;
    shard_unref(s);
  }
  shard_serial = 0;
  scratch_pool_free();
}
