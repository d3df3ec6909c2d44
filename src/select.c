#include "select.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *literal; /* NULL for a regex entry */
  regex_t re;
} select_entry_t;

struct select_list {
  select_entry_t *entries;
  size_t n, cap;
  bool invert;
  char error[256];
};

select_list_t *select_create(void) {
  return calloc(1, sizeof(select_list_t));
}

void select_destroy(select_list_t *list) {
  if (list == NULL)
    return;
  for (size_t i = 0; i < list->n; i++) {
    if (list->entries[i].literal != NULL)
      free(list->entries[i].literal);
    else
      regfree(&list->entries[i].re);
  }
  free(list->entries);
  free(list);
}

static bool is_regex(const char *p, size_t len) {
  return len >= 2 && p[0] == '/' && p[len - 1] == '/';
}

int select_add(select_list_t *list, const char *pattern) {
  list->error[0] = '\0';
  size_t len = pattern ? strlen(pattern) : 0;
  if (len == 0) {
    snprintf(list->error, sizeof(list->error), "empty pattern");
    return -EINVAL;
  }
  if (list->n == list->cap) {
    size_t cap = list->cap ? 2 * list->cap : 4;
    select_entry_t *e = realloc(list->entries, cap * sizeof(*e));
    if (e == NULL)
      return -ENOMEM;
    list->entries = e;
    list->cap = cap;
  }
  select_entry_t *e = &list->entries[list->n];
  memset(e, 0, sizeof(*e));
  if (!is_regex(pattern, len)) {
    e->literal = strdup(pattern);
    if (e->literal == NULL)
      return -ENOMEM;
    list->n++;
    return 0;
  }
  char *expr = strndup(pattern + 1, len - 2);
  if (expr == NULL)
    return -ENOMEM;
  int rc = regcomp(&e->re, expr, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[160];
    regerror(rc, &e->re, msg, sizeof(msg));
    snprintf(list->error, sizeof(list->error), "bad regex \"%s\": %s", expr, msg);
    free(expr);
    return -EINVAL;
  }
  free(expr);
  list->n++;
  return 0;
}

void select_set_invert(select_list_t *list, bool ignore_selected) {
  list->invert = ignore_selected;
}

bool select_matches(const select_list_t *list, const char *name) {
  if (list == NULL || list->n == 0)
    return true;
  bool hit = false;
  for (size_t i = 0; i < list->n && !hit; i++) {
    const select_entry_t *e = &list->entries[i];
    if (e->literal != NULL)
      hit = strcmp(e->literal, name) == 0;
    else
      hit = regexec(&e->re, name, 0, NULL, 0) == 0;
  }
  return list->invert ? !hit : hit;
}

size_t select_count(const select_list_t *list) {
  return list ? list->n : 0;
}

const char *select_error(const select_list_t *list) {
  return list->error;
}
