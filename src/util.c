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

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not start one (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, a cut sequence). */
static size_t utf8_seq_len(const unsigned char *s) {
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    len = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    len = 3, lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    len = 4, lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
  else
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return len;
}

void sanitize_name(char *dst, const char *src, size_t n) {
  size_t i = 0;
  if (n == 0)
    return;
  while (src[i] && i + 1 < n) {
    const unsigned char *c = (const unsigned char *)src + i;
    size_t len = utf8_seq_len(c);
    if (len > 1) { /* a whole character, or none of it */
      if (i + len >= n)
        break;
      memcpy(dst + i, c, len);
      i += len;
      continue;
    }
    /* Not UTF-8 (an interface name may hold any byte): JSON and Prometheus writers need it. */
    dst[i] = (len == 0 || *c <= ' ' || *c == '/' || *c == '"' || *c == 0x7f) ? '_' : (char)*c;
    i++;
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
