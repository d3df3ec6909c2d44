/* A small stand-in for the collectd daemon's plugin API: records what the plugin registers,
 * dispatches and logs, so the glue can be tested without collectd. */
#ifndef MOCK_PLUGIN_H
#define MOCK_PLUGIN_H

#include "collectd.h"
#include "plugin.h"

#define MOCK_MAX_VALUES 16

typedef struct {
  char plugin[DATA_MAX_NAME_LEN], plugin_instance[DATA_MAX_NAME_LEN];
  char type[DATA_MAX_NAME_LEN], type_instance[DATA_MAX_NAME_LEN];
  size_t values_len;
  value_t values[MOCK_MAX_VALUES];
  cdtime_t time;
  char meta_container_id[256];
} mock_dispatch_t;

typedef struct {
  char group[DATA_MAX_NAME_LEN], name[256];
  plugin_read_cb callback;
  user_data_t ud;
  cdtime_t interval; /* 0: collectd's Interval */
  bool active;
} mock_read_t;

typedef struct {
  int severity;
  char message[NOTIF_MAX_MSG_LEN];
  char plugin_instance[DATA_MAX_NAME_LEN];
  char type[DATA_MAX_NAME_LEN], type_instance[DATA_MAX_NAME_LEN];
} mock_notification_t;

extern mock_dispatch_t *mock_dispatched;
extern size_t mock_dispatched_num;
extern mock_read_t mock_reads[4096];
extern size_t mock_reads_num;
extern mock_notification_t mock_notifications[256];
extern size_t mock_notifications_num;
extern char mock_log_text[1 << 16]; /* every log line, "LEVEL message\n" */
extern int mock_errors_logged;
extern cdtime_t mock_time;      /* what cdtime() returns; 0 = the real clock */
extern cdtime_t mock_time_step; /* added to mock_time after each cdtime() */

/* The callbacks module_register() handed over. */
extern int (*mock_config_cb)(oconfig_item_t *);
extern plugin_init_cb mock_init_cb;
extern plugin_shutdown_cb mock_shutdown_cb;

void mock_reset_records(void);
/* Loads a types.db file for plugin_get_ds (as collectd's TypesDB does); adds to what is loaded.
 * Returns the number of types read, -1 if the file cannot be read. mock_types_clear forgets
 * them all. */
int mock_types_load(const char *path);
void mock_types_clear(void);
/* Runs every active read callback once (the discovery callback first), like one interval. */
int mock_run_reads(void);
size_t mock_active_reads(void);
/* The first dispatched list matching, NULL if none. plugin_instance/type_instance may be NULL. */
const mock_dispatch_t *mock_find(const char *plugin_instance, const char *type,
                                 const char *type_instance);
size_t mock_count_instance(const char *plugin_instance);

/* Builds config items: mock_config_new("Plugin") then mock_config_add(parent, key, value). */
oconfig_item_t *mock_config_new(const char *key);
oconfig_item_t *mock_config_add_string(oconfig_item_t *parent, const char *key, const char *value);
oconfig_item_t *mock_config_add_bool(oconfig_item_t *parent, const char *key, bool value);
oconfig_item_t *mock_config_add_number(oconfig_item_t *parent, const char *key, double value);
void mock_config_free(oconfig_item_t *ci);

#endif
