#include "util.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool read_reached_end(size_t got, size_t asked) {
  return got < asked && got < SHORT_READ_IS_END;
}

static ssize_t read_all(int fd, char *buf, size_t size, bool positional) {
  size_t used = 0;
  if (size == 0)
    return -EINVAL;
  for (;;) {
    size_t asked = size - 1 - used;
    ssize_t n =
        positional ? pread(fd, buf + used, asked, (off_t)used) : read(fd, buf + used, asked);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      break;
    used += (size_t)n;
    if (read_reached_end((size_t)n, asked))
      break; /* no second read to see 0: for a seq_file it would print the file again */
    if (used == size - 1) {
      char probe;
      ssize_t more = positional ? pread(fd, &probe, 1, (off_t)used) : read(fd, &probe, 1);
      if (more > 0)
        return -EFBIG;
      break;
    }
  }
  buf[used] = '\0';
  return (ssize_t)used;
}

ssize_t read_file_at(int dirfd, const char *name, char *buf, size_t size) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read_all(fd, buf, size, false);
  close(fd);
  return n;
}

ssize_t pread_file(int fd, char *buf, size_t size) {
  return read_all(fd, buf, size, true);
}

int parse_u64_token(const char *s, uint64_t *out, const char **end) {
  while (*s == ' ' || *s == '\t' || *s == '\n')
    s++;
  if (!isdigit((unsigned char)*s))
    return -EINVAL;
  uint64_t v = 0;
  while (isdigit((unsigned char)*s)) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -ERANGE;
    v = v * 10 + d;
    s++;
  }
  if (*s != '\0' && !isspace((unsigned char)*s))
    return -EINVAL;
  *out = v;
  if (end)
    *end = s;
  return 0;
}

int parse_u64(const char *s, uint64_t *out) {
  const char *end;
  uint64_t v;
  int err = parse_u64_token(s, &v, &end);
  if (err)
    return err;
  while (isspace((unsigned char)*end))
    end++;
  if (*end != '\0')
    return -EINVAL;
  *out = v;
  return 0;
}

int parse_limit(const char *s, uint64_t *out, bool *unlimited) {
  while (isspace((unsigned char)*s))
    s++;
  if (strncmp(s, "max", 3) == 0 && (s[3] == '\0' || isspace((unsigned char)s[3]))) {
    *unlimited = true;
    *out = 0;
    return 0;
  }
  *unlimited = false;
  return parse_u64(s, out);
}

void kv_iter_init(kv_iter_t *it, const char *text) {
  it->pos = text;
}

bool kv_iter_next(kv_iter_t *it, const char **key, const char **value) {
  while (it->pos && *it->pos) {
    const char *nl = strchr(it->pos, '\n');
    size_t len = nl ? (size_t)(nl - it->pos) : strlen(it->pos);
    const char *start = it->pos;
    it->pos = nl ? nl + 1 : start + len;
    if (len == 0 || len >= sizeof(it->line))
      continue;
    memcpy(it->line, start, len);
    it->line[len] = '\0';
    char *sp = it->line;
    while (*sp && !isspace((unsigned char)*sp))
      sp++;
    if (*sp == '\0' || sp == it->line)
      continue;
    *sp++ = '\0';
    while (isspace((unsigned char)*sp))
      sp++;
    *key = it->line;
    *value = sp;
    return true;
  }
  return false;
}

void sanitize_name(char *dst, const char *src, size_t n) {
  size_t i = 0;
  if (n == 0)
    return;
  for (; src[i] && i + 1 < n; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c <= ' ' || c == '/' || c == '"' || c == 0x7f) ? '_' : (char)c;
  }
  dst[i] = '\0';
}

int path_join(char *dst, size_t n, const char *a, const char *b) {
  size_t la = strlen(a);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  const char *sep = (la == 1 && a[0] == '/') ? "" : "/";
  int w =
      *b ? snprintf(dst, n, "%.*s%s%s", (int)la, a, sep, b) : snprintf(dst, n, "%.*s", (int)la, a);
  if (w < 0 || (size_t)w >= n)
    return -ENAMETOOLONG;
  return 0;
}

bool is_hex(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
      return false;
  return true;
}

bool cg_dir_may_have_children(int dirfd) {
  struct stat st;
  return fstat(dirfd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_nlink != 2;
}

uint64_t fnv1a64_more(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
