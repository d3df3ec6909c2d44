/* Notifications about a container: appeared, disappeared (with its totals), and changes of its
 * CPU diagnosis. */
#ifndef CONTAINER_PLUGIN_NOTIFY_H
#define CONTAINER_PLUGIN_NOTIFY_H

#include "plugin/container.h"

#include <stdbool.h>

/* "container appeared:" / "container disappeared:" (with_totals: what sample_totals says). */
void notify_container(const container_t *c, int severity, const char *message, bool with_totals);
/* WARNING when the confirmed diagnosis becomes a throttled one, OKAY when it is not again. */
void notify_diagnosis_change(const container_t *c, const container_sample_t *s);

#endif
