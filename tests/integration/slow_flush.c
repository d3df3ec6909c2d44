/* A collectd write plugin for test_shutdown.sh: it keeps nothing, and its flush sleeps
 * SLOW_FLUSH_SECONDS (default 3). collectd flushes every writer while it shuts down, after it has
 * freed the read callbacks' data and before it calls the plugins' shutdown callbacks: the sleep
 * holds that window open, so the test can make containers exit inside it. */
#include "collectd.h"
#include "plugin.h"

#include <stdlib.h>
#include <unistd.h>

static int slow_write(const data_set_t *ds, const value_list_t *vl, user_data_t *ud) {
  (void)ds;
  (void)vl;
  (void)ud;
  return 0;
}

static int slow_flush(cdtime_t timeout, const char *identifier, user_data_t *ud) {
  (void)timeout;
  (void)identifier;
  (void)ud;
  const char *s = getenv("SLOW_FLUSH_SECONDS");
  int seconds = s ? atoi(s) : 3;
  INFO("slow_flush: flushing, sleeping %d s", seconds);
  sleep((unsigned)seconds);
  INFO("slow_flush: flushed");
  return 0;
}

void module_register(void) {
  plugin_register_write("slow_flush", slow_write, NULL);
  plugin_register_flush("slow_flush", slow_flush, NULL);
}
