/* What the plugin says about a container: notifications, and warnings about its files (see
 * notify.h and container.h). */
#include "plugin/notify.h"

#include "utils/common/common.h"

#include "plugin/config.h"

#include <inttypes.h>

/* The fields every notification about a container has; the caller adds a message. */
static void container_notification(notification_t *n, const container_t *c, int severity,
                                   const char *type, const char *type_instance) {
  memset(n, 0, sizeof(*n));
  n->severity = severity;
  n->time = cdtime();
  sstrncpy(n->host, hostname_g, sizeof(n->host));
  sstrncpy(n->plugin, PLUGIN_NAME, sizeof(n->plugin));
  sstrncpy(n->plugin_instance, c->name, sizeof(n->plugin_instance));
  sstrncpy(n->type, type, sizeof(n->type));
  if (type_instance)
    sstrncpy(n->type_instance, type_instance, sizeof(n->type_instance));
  plugin_notification_meta_add_string(n, "container_id", c->id);
  plugin_notification_meta_add_string(n, "cgroup", c->relpath);
}

static void notification_send(notification_t *n) {
  plugin_dispatch_notification(n);
  plugin_notification_meta_free(n->meta);
}

void notify_container(const container_t *c, int severity, const char *message, bool with_totals) {
  if (!conf.notifications)
    return;
  notification_t n;
  container_notification(&n, c, severity, "container", NULL);
  char totals_text[256] = "";
  if (with_totals) {
    sample_totals_t t = sample_totals(&c->state);
    ssnprintf(totals_text, sizeof(totals_text),
              "; totals: cpu_us=%" PRIu64 " memory_peak_bytes=%" PRIu64 " oom_kills=%" PRIu64
              " io_read_bytes=%" PRIu64 " io_write_bytes=%" PRIu64,
              t.cpu_us, t.memory_peak, t.oom_kills, t.io_read, t.io_write);
    plugin_notification_meta_add_unsigned_int(&n, "cpu_us", t.cpu_us);
    plugin_notification_meta_add_unsigned_int(&n, "memory_peak_bytes", t.memory_peak);
    plugin_notification_meta_add_unsigned_int(&n, "oom_kills", t.oom_kills);
    plugin_notification_meta_add_unsigned_int(&n, "io_read_bytes", t.io_read);
    plugin_notification_meta_add_unsigned_int(&n, "io_write_bytes", t.io_write);
  }
  ssnprintf(n.message, sizeof(n.message), "%s %s (id %s, runtime %s)%s", message, c->name, c->id,
            c->runtime, totals_text);
  plugin_notification_meta_add_string(&n, "runtime", c->runtime);
  notification_send(&n);
}

void notify_diagnosis_change(const container_t *c, const container_sample_t *s) {
  int code = s->diag_code, from = s->diag_changed_from;
  /* Nothing changed, or the first diagnosis says all is well. */
  if (!conf.notifications || code < 0 || from == -2 || (from == -1 && code == DIAG_NOT_THROTTLED))
    return;
  notification_t n;
  container_notification(&n, c, code != DIAG_NOT_THROTTLED ? NOTIF_WARNING : NOTIF_OKAY, "gauge",
                         "cpu_diagnosis");
  if (code != DIAG_NOT_THROTTLED)
    ssnprintf(n.message, sizeof(n.message), "container %s: CPU %s (%s)", c->name, diag_name(code),
              s->diag_why);
  else
    ssnprintf(n.message, sizeof(n.message), "container %s: CPU not_throttled again, was %s (%s)",
              c->name, diag_name(from), s->diag_why);
  notification_send(&n);
}

void container_report_error(void *ctx, const char *file, int err, const char *what) {
  container_t *c = ctx;
  for (int i = 0; i < c->n_complained; i++)
    if (strcmp(c->complained[i], file) == 0)
      return;
  if (c->n_complained < MAX_COMPLAINTS)
    snprintf(c->complained[c->n_complained++], sizeof(c->complained[0]), "%s", file);
  if (err == -E2BIG) { /* a per-read limit, not a broken file */
    WARNING(PLUGIN_NAME " plugin: container %s: %s: %s; its other values are still collected.",
            c->name, file, what);
    return;
  }
  WARNING(PLUGIN_NAME " plugin: container %s: cannot use %s/%s: %s (%s); the container's other "
                      "values are still collected.",
          c->name, c->relpath, file, what, err ? strerror(err < 0 ? -err : err) : "bad format");
}
