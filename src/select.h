/* A small select/ignore list (collectd's ignorelist semantics) for interface and container names.
 * Pure: no collectd calls, so the glue and the unit tests share it. */
#ifndef CONTAINER_SELECT_H
#define CONTAINER_SELECT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct select_list select_list_t;

/* Returns NULL when out of memory. An empty list collects everything. */
select_list_t *select_create(void);
void select_destroy(select_list_t *list);

/* Adds a literal name, or a POSIX extended regex written between slashes ("/^veth/").
 * Returns 0, -ENOMEM, or -EINVAL for an empty pattern or a bad regex (then select_error() says
 * why). */
int select_add(select_list_t *list, const char *pattern);

/* true: listed items are ignored (IgnoreSelected true); false (default): only listed items are
 * collected. */
void select_set_invert(select_list_t *list, bool ignore_selected);

/* Whether name is collected. An empty list collects everything, whatever the invert flag. */
bool select_matches(const select_list_t *list, const char *name);

size_t select_count(const select_list_t *list);

/* Text of the last select_add() error ("" if none). Valid until the next select_add(). */
const char *select_error(const select_list_t *list);

#endif
