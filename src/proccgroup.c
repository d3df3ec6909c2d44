#include "proccgroup.h"

#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* path (length len, from the file) equal to or below rel (already stripped of slashes). */
static bool path_under(const char *path, size_t len, const char *rel, size_t rel_len) {
  while (len > 0 && path[0] == '/') {
    path++;
    len--;
  }
  if (rel_len == 0)
    return true;
  if (len < rel_len || memcmp(path, rel, rel_len) != 0)
    return false;
  return len == rel_len || path[rel_len] == '/';
}

bool proc_cgroup_text_has(const char *text, const char *cgroup_relpath) {
  const char *rel = cgroup_relpath ? cgroup_relpath : "";
  while (*rel == '/')
    rel++;
  size_t rel_len = strlen(rel);
  while (rel_len > 0 && rel[rel_len - 1] == '/')
    rel_len--;

  const char *line = text;
  while (line && *line) {
    const char *eol = strchr(line, '\n');
    size_t llen = eol ? (size_t)(eol - line) : strlen(line);
    const char *c1 = memchr(line, ':', llen);
    const char *c2 = c1 ? memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;
    if (c2 != NULL) {
      const char *path = c2 + 1;
      size_t plen = llen - (size_t)(path - line);
      if (plen > 0 && path[0] == '/' && path_under(path, plen, rel, rel_len))
        return true;
    }
    line = eol ? eol + 1 : NULL;
  }
  return false;
}

bool proc_pid_in_cgroup(const char *proc_root, pid_t pid, const char *cgroup_relpath) {
  char path[4096];
  /* A process on 13 v1 hierarchies with long k8s paths stays well under this. */
  char text[16384];
  int n = snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
  if (n < 0 || (size_t)n >= sizeof(path))
    return false;
  if (read_file_at(AT_FDCWD, path, text, sizeof(text)) < 0)
    return false;
  return proc_cgroup_text_has(text, cgroup_relpath);
}
