/* Frozen cgroups: see freezer.h. */
#include "freezer.h"
#include "util.h"

#include <errno.h>
#include <string.h>

/* The text up to the first newline (or len), without trailing blanks. */
static size_t line_len(const char *text, size_t len) {
  const char *nl = memchr(text, '\n', len);
  size_t n = nl ? (size_t)(nl - text) : len;
  while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\r'))
    n--;
  return n;
}

int freezer_v1_parse(const char *text, size_t len) {
  static const struct {
    const char *name;
    freezer_state_t st;
  } states[] = {
      {"THAWED", FREEZER_THAWED}, {"FREEZING", FREEZER_FREEZING}, {"FROZEN", FREEZER_FROZEN}};
  size_t n = line_len(text, len);
  for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
    if (n == strlen(states[i].name) && memcmp(text, states[i].name, n) == 0)
      return states[i].st;
  return -EINVAL;
}

int freezer_v1_read_at(int dirfd) {
  char buf[64];
  ssize_t n = read_file_at(dirfd, "freezer.state", buf, sizeof(buf));
  if (n < 0)
    return n == -EFBIG ? -EINVAL : (int)n;
  return freezer_v1_parse(buf, (size_t)n);
}

int freezer_v2_parse_events(const char *text, size_t len) {
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
    if (ll > 7 && memcmp(p, "frozen ", 7) == 0) {
      size_t vl = line_len(p + 7, ll - 7);
      if (vl == 1 && (p[7] == '0' || p[7] == '1'))
        return p[7] - '0';
      return -EINVAL;
    }
    p += ll + 1;
  }
  return -ENOENT;
}

int freezer_v2_read_at(int dirfd) {
  char buf[256];
  ssize_t n = read_file_at(dirfd, "cgroup.events", buf, sizeof(buf));
  if (n < 0)
    return n == -EFBIG ? -EINVAL : (int)n;
  int frozen = freezer_v2_parse_events(buf, (size_t)n);
  if (frozen != 0)
    return frozen == 1 ? FREEZER_FROZEN : frozen;
  /* Not frozen: is a freeze of its own under way? (An ancestor's freeze is not seen here: the
   * tasks' own states are right meanwhile, see freezer.h.) */
  n = read_file_at(dirfd, "cgroup.freeze", buf, sizeof(buf));
  if (n < 0)
    return n == -ENOENT ? FREEZER_THAWED : (n == -EFBIG ? -EINVAL : (int)n);
  size_t l = line_len(buf, (size_t)n);
  if (l == 1 && buf[0] == '1')
    return FREEZER_FREEZING;
  return l == 1 && buf[0] == '0' ? FREEZER_THAWED : -EINVAL;
}

bool freezer_hides_tasks(int st, bool v2) {
  return st == FREEZER_FROZEN || (!v2 && st == FREEZER_FREEZING);
}

bool freezer_is_frozen(int v1_dirfd, int v2_dirfd, int *err) {
  int e = 0;
  bool hidden = false;
  if (v1_dirfd >= 0) {
    int st = freezer_v1_read_at(v1_dirfd);
    hidden = freezer_hides_tasks(st, false);
    if (st < 0 && st != -ENOENT)
      e = st;
  }
  if (!hidden && v2_dirfd >= 0) {
    int st = freezer_v2_read_at(v2_dirfd);
    hidden = freezer_hides_tasks(st, true);
    if (st < 0 && st != -ENOENT && e == 0)
      e = st;
  }
  if (err)
    *err = e;
  return hidden;
}
