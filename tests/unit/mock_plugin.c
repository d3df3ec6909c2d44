#include "mock_plugin.h"

#include "configfile.h"
#include "utils_complain.h"
#include "utils/metadata/meta_data.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

mock_dispatch_t *mock_dispatched;
size_t mock_dispatched_num;
static size_t mock_dispatched_cap;
mock_read_t mock_reads[4096];
size_t mock_reads_num;
mock_notification_t mock_notifications[256];
size_t mock_notifications_num;
char mock_log_text[1 << 16];
int mock_errors_logged;
cdtime_t mock_time;
cdtime_t mock_time_step;
int (*mock_config_cb)(oconfig_item_t *);
plugin_init_cb mock_init_cb;
plugin_shutdown_cb mock_shutdown_cb;

char *hostname_g = "mockhost";
cdtime_t interval_g = TIME_T_TO_CDTIME_T_STATIC(10);

/* A minimal meta_data: string and integer entries in a list. */
struct meta_data_s {
  char key[64];
  char value[256];
  struct meta_data_s *next;
};

meta_data_t *meta_data_create(void) {
  return calloc(1, sizeof(meta_data_t));
}

void meta_data_destroy(meta_data_t *md) {
  while (md) {
    meta_data_t *next = md->next;
    free(md);
    md = next;
  }
}

static int meta_add(meta_data_t *md, const char *key, const char *value) {
  if (!md)
    return -1;
  meta_data_t *e = calloc(1, sizeof(*e));
  snprintf(e->key, sizeof(e->key), "%s", key);
  snprintf(e->value, sizeof(e->value), "%s", value);
  e->next = md->next;
  md->next = e;
  return 0;
}

int meta_data_add_string(meta_data_t *md, const char *key, const char *value) {
  return meta_add(md, key, value);
}

int meta_data_add_boolean(meta_data_t *md, const char *key, bool value) {
  return meta_add(md, key, value ? "true" : "false");
}

int meta_data_add_unsigned_int(meta_data_t *md, const char *key, uint64_t value) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
  return meta_add(md, key, buf);
}

static const char *meta_get(meta_data_t *md, const char *key) {
  for (meta_data_t *e = md ? md->next : NULL; e; e = e->next)
    if (strcmp(e->key, key) == 0)
      return e->value;
  return NULL;
}

void plugin_log(int level, const char *format, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof(msg), format, ap);
  va_end(ap);
  static const char *names[] = {"EMERG",   "ALERT",  "CRIT", "ERROR",
                                "WARNING", "NOTICE", "INFO", "DEBUG"};
  const char *name = (level >= 0 && level < 8) ? names[level] : "?";
  size_t used = strlen(mock_log_text);
  snprintf(mock_log_text + used, sizeof(mock_log_text) - used, "%s %s\n", name, msg);
  if (level <= LOG_ERR)
    mock_errors_logged++;
  if (getenv("MOCK_VERBOSE"))
    fprintf(stderr, "[%s] %s\n", name, msg);
}

cdtime_t cdtime(void) {
  if (__atomic_load_n(&mock_time, __ATOMIC_SEQ_CST)) /* the namespace worker calls it too */
    return __atomic_fetch_add(&mock_time, mock_time_step, __ATOMIC_SEQ_CST);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return TIME_T_TO_CDTIME_T_STATIC(ts.tv_sec) + NS_TO_CDTIME_T(ts.tv_nsec);
}

cdtime_t plugin_get_interval(void) {
  return interval_g;
}

int plugin_register_complex_config(const char *type, int (*callback)(oconfig_item_t *)) {
  (void)type;
  mock_config_cb = callback;
  return 0;
}

int plugin_register_init(const char *name, plugin_init_cb callback) {
  (void)name;
  mock_init_cb = callback;
  return 0;
}

int plugin_register_shutdown(const char *name, plugin_shutdown_cb callback) {
  (void)name;
  mock_shutdown_cb = callback;
  return 0;
}

int plugin_register_complex_read(const char *group, const char *name, plugin_read_cb callback,
                                 cdtime_t interval, user_data_t const *user_data) {
  for (size_t i = 0; i < mock_reads_num; i++)
    if (mock_reads[i].active && strcmp(mock_reads[i].name, name) == 0)
      return -1; /* collectd refuses duplicate names and leaves the user data to the caller */
  if (mock_reads_num >= sizeof(mock_reads) / sizeof(mock_reads[0]))
    return -1;
  mock_read_t *r = &mock_reads[mock_reads_num++];
  snprintf(r->group, sizeof(r->group), "%s", group ? group : "");
  snprintf(r->name, sizeof(r->name), "%s", name);
  r->callback = callback;
  r->ud = user_data ? *user_data : (user_data_t){0};
  r->interval = interval;
  r->active = true;
  return 0;
}

static void mock_free_read(mock_read_t *r) {
  if (r->ud.free_func)
    r->ud.free_func(r->ud.data);
  r->active = false;
}

int plugin_unregister_read(const char *name) {
  for (size_t i = 0; i < mock_reads_num; i++)
    if (mock_reads[i].active && strcmp(mock_reads[i].name, name) == 0) {
      mock_free_read(&mock_reads[i]);
      return 0;
    }
  return -1;
}

int plugin_unregister_read_group(const char *group) {
  int n = 0;
  for (size_t i = 0; i < mock_reads_num; i++)
    if (mock_reads[i].active && strcmp(mock_reads[i].group, group) == 0) {
      mock_free_read(&mock_reads[i]);
      n++;
    }
  return n ? 0 : -1;
}

int plugin_dispatch_values(value_list_t const *vl) {
  if (mock_dispatched_num == mock_dispatched_cap) {
    mock_dispatched_cap = mock_dispatched_cap ? 2 * mock_dispatched_cap : 256;
    mock_dispatched = realloc(mock_dispatched, mock_dispatched_cap * sizeof(*mock_dispatched));
  }
  mock_dispatch_t *d = &mock_dispatched[mock_dispatched_num++];
  memset(d, 0, sizeof(*d));
  snprintf(d->plugin, sizeof(d->plugin), "%s", vl->plugin);
  snprintf(d->plugin_instance, sizeof(d->plugin_instance), "%s", vl->plugin_instance);
  snprintf(d->type, sizeof(d->type), "%s", vl->type);
  snprintf(d->type_instance, sizeof(d->type_instance), "%s", vl->type_instance);
  d->values_len = vl->values_len;
  d->time = vl->time;
  for (size_t i = 0; i < vl->values_len && i < MOCK_MAX_VALUES; i++)
    d->values[i] = vl->values[i];
  const char *id = meta_get(vl->meta, "container_id");
  snprintf(d->meta_container_id, sizeof(d->meta_container_id), "%s", id ? id : "");
  return 0;
}

int plugin_dispatch_notification(const notification_t *n) {
  if (mock_notifications_num < sizeof(mock_notifications) / sizeof(mock_notifications[0])) {
    mock_notification_t *m = &mock_notifications[mock_notifications_num++];
    m->severity = n->severity;
    snprintf(m->message, sizeof(m->message), "%s", n->message);
    snprintf(m->plugin_instance, sizeof(m->plugin_instance), "%s", n->plugin_instance);
    snprintf(m->type, sizeof(m->type), "%s", n->type);
    snprintf(m->type_instance, sizeof(m->type_instance), "%s", n->type_instance);
  }
  return 0;
}

int plugin_notification_meta_add_string(notification_t *n, const char *name, const char *value) {
  notification_meta_t *m = calloc(1, sizeof(*m));
  snprintf(m->name, sizeof(m->name), "%s", name);
  m->type = NM_TYPE_STRING;
  m->nm_value.nm_string = strdup(value);
  m->next = n->meta;
  n->meta = m;
  return 0;
}

int plugin_notification_meta_add_unsigned_int(notification_t *n, const char *name, uint64_t value) {
  notification_meta_t *m = calloc(1, sizeof(*m));
  snprintf(m->name, sizeof(m->name), "%s", name);
  m->type = NM_TYPE_UNSIGNED_INT;
  m->nm_value.nm_unsigned_int = value;
  m->next = n->meta;
  n->meta = m;
  return 0;
}

int plugin_notification_meta_free(notification_meta_t *n) {
  while (n) {
    notification_meta_t *next = n->next;
    if (n->type == NM_TYPE_STRING)
      free((char *)n->nm_value.nm_string);
    free(n);
    n = next;
  }
  return 0;
}

int cf_util_get_string_buffer(const oconfig_item_t *ci, char *buffer, size_t buffer_size) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
    plugin_log(LOG_ERR, "The `%s' option requires exactly one string argument.", ci->key);
    return -1;
  }
  snprintf(buffer, buffer_size, "%s", ci->values[0].value.string);
  return 0;
}

int cf_util_get_string(const oconfig_item_t *ci, char **ret_string) {
  char buf[4096];
  if (cf_util_get_string_buffer(ci, buf, sizeof(buf)) != 0)
    return -1;
  free(*ret_string);
  *ret_string = strdup(buf);
  return 0;
}

int cf_util_get_boolean(const oconfig_item_t *ci, bool *ret_bool) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_BOOLEAN) {
    plugin_log(LOG_ERR, "The `%s' option requires exactly one boolean argument.", ci->key);
    return -1;
  }
  *ret_bool = ci->values[0].value.boolean != 0;
  return 0;
}

int cf_util_get_int(const oconfig_item_t *ci, int *ret_value) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
    plugin_log(LOG_ERR, "The `%s' option requires exactly one numeric argument.", ci->key);
    return -1;
  }
  *ret_value = (int)ci->values[0].value.number;
  return 0;
}

int cf_util_get_double(const oconfig_item_t *ci, double *ret_value) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER) {
    plugin_log(LOG_ERR, "The `%s' option requires exactly one numeric argument.", ci->key);
    return -1;
  }
  *ret_value = ci->values[0].value.number;
  return 0;
}

static data_set_t mock_types[64];
static size_t mock_types_num;

void mock_types_clear(void) {
  for (size_t i = 0; i < mock_types_num; i++)
    free(mock_types[i].ds);
  mock_types_num = 0;
}

int mock_types_load(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[2048];
  int n = 0;
  while (fgets(line, sizeof(line), f) && mock_types_num < 64) {
    char *save = NULL, *name = strtok_r(line, " \t\n", &save);
    if (!name || name[0] == '#')
      continue;
    data_set_t *ds = &mock_types[mock_types_num++];
    memset(ds, 0, sizeof(*ds));
    snprintf(ds->type, sizeof(ds->type), "%s", name);
    for (char *src; (src = strtok_r(NULL, " ,\t\n", &save)) != NULL;) {
      ds->ds = realloc(ds->ds, (ds->ds_num + 1) * sizeof(*ds->ds));
      data_source_t *d = &ds->ds[ds->ds_num++];
      memset(d, 0, sizeof(*d));
      char *colon = strchr(src, ':');
      if (colon)
        *colon = '\0';
      snprintf(d->name, sizeof(d->name), "%s", src);
      d->type = colon && strncmp(colon + 1, "GAUGE", 5) == 0 ? DS_TYPE_GAUGE : DS_TYPE_DERIVE;
    }
    n++;
  }
  fclose(f);
  return n;
}

const data_set_t *plugin_get_ds(const char *name) {
  for (size_t i = 0; i < mock_types_num; i++)
    if (strcmp(mock_types[i].type, name) == 0)
      return &mock_types[i];
  return NULL;
}

void mock_reset_records(void) {
  mock_dispatched_num = 0;
  mock_notifications_num = 0;
  mock_log_text[0] = '\0';
  mock_errors_logged = 0;
}

int mock_run_reads(void) {
  int failures = 0;
  size_t n = mock_reads_num; /* callbacks registered during this round run next round */
  for (size_t i = 0; i < n; i++)
    if (mock_reads[i].active && mock_reads[i].callback(&mock_reads[i].ud) != 0)
      failures++;
  return failures;
}

size_t mock_active_reads(void) {
  size_t n = 0;
  for (size_t i = 0; i < mock_reads_num; i++)
    n += mock_reads[i].active;
  return n;
}

const mock_dispatch_t *mock_find(const char *plugin_instance, const char *type,
                                 const char *type_instance) {
  for (size_t i = 0; i < mock_dispatched_num; i++) {
    const mock_dispatch_t *d = &mock_dispatched[i];
    if (plugin_instance && strcmp(d->plugin_instance, plugin_instance) != 0)
      continue;
    if (strcmp(d->type, type) != 0)
      continue;
    if (type_instance && strcmp(d->type_instance, type_instance) != 0)
      continue;
    return d;
  }
  return NULL;
}

size_t mock_count_instance(const char *plugin_instance) {
  size_t n = 0;
  for (size_t i = 0; i < mock_dispatched_num; i++)
    n += strcmp(mock_dispatched[i].plugin_instance, plugin_instance) == 0;
  return n;
}

oconfig_item_t *mock_config_new(const char *key) {
  oconfig_item_t *ci = calloc(1, sizeof(*ci));
  ci->key = strdup(key);
  return ci;
}

static oconfig_item_t *config_child(oconfig_item_t *parent, const char *key) {
  parent->children = realloc(parent->children, (parent->children_num + 1) * sizeof(oconfig_item_t));
  oconfig_item_t *c = &parent->children[parent->children_num++];
  memset(c, 0, sizeof(*c));
  c->key = strdup(key);
  c->parent = parent;
  c->values = calloc(1, sizeof(oconfig_value_t));
  c->values_num = 1;
  return c;
}

oconfig_item_t *mock_config_add_string(oconfig_item_t *parent, const char *key, const char *value) {
  oconfig_item_t *c = config_child(parent, key);
  c->values[0].type = OCONFIG_TYPE_STRING;
  c->values[0].value.string = strdup(value);
  return c;
}

oconfig_item_t *mock_config_add_bool(oconfig_item_t *parent, const char *key, bool value) {
  oconfig_item_t *c = config_child(parent, key);
  c->values[0].type = OCONFIG_TYPE_BOOLEAN;
  c->values[0].value.boolean = value;
  return c;
}

oconfig_item_t *mock_config_add_number(oconfig_item_t *parent, const char *key, double value) {
  oconfig_item_t *c = config_child(parent, key);
  c->values[0].type = OCONFIG_TYPE_NUMBER;
  c->values[0].value.number = value;
  return c;
}

static void config_free_children(oconfig_item_t *ci) {
  for (int i = 0; i < ci->children_num; i++) {
    oconfig_item_t *c = &ci->children[i];
    config_free_children(c);
    free(c->key);
    for (int v = 0; v < c->values_num; v++)
      if (c->values[v].type == OCONFIG_TYPE_STRING)
        free(c->values[v].value.string);
    free(c->values);
  }
  free(ci->children);
}

void mock_config_free(oconfig_item_t *ci) {
  config_free_children(ci);
  free(ci->key);
  free(ci);
}

char *sstrncpy(char *dest, const char *src, size_t n) {
  strncpy(dest, src, n);
  if (n > 0)
    dest[n - 1] = '\0';
  return dest;
}

int ssnprintf(char *str, size_t size, char const *format, ...) {
  va_list ap;
  va_start(ap, format);
  int r = vsnprintf(str, size, format, ap);
  va_end(ap);
  return r;
}

int plugin_thread_create(pthread_t *thread, void *(*start_routine)(void *), void *arg,
                         char const *name) {
  (void)name;
  return pthread_create(thread, NULL, start_routine, arg);
}

/* collectd's c_complain_once, without its back-off: says it once until C_COMPLAIN_INIT. */
void c_complain_once(int level, c_complain_t *c, const char *format, ...) {
  if (c->complained_once)
    return;
  c->complained_once = true;
  char message[1024];
  va_list ap;
  va_start(ap, format);
  vsnprintf(message, sizeof(message), format, ap);
  va_end(ap);
  plugin_log(level, "%s", message);
}
