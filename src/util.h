/* Small helpers shared by every module: no collectd calls here. */
#ifndef CONTAINER_UTIL_H
#define CONTAINER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A kernel seq_file (every cgroup and /proc file read here) returns less than asked only at its
 * end, or when its own buffer of at least a page filled up with records of at most a line each;
 * a regular file only at its end. So a short read of under 2 KiB is the end of the file, and the
 * read that would return 0 (and make a seq_file print everything again) is not needed. Not for
 * pipes or sockets. */
#define SHORT_READ_IS_END 2048
bool read_reached_end(size_t got, size_t asked);

/* Reads a whole (small) file relative to dirfd (AT_FDCWD for absolute paths) into buf and
 * NUL-terminates it. Returns the length, or -errno. A file longer than size-1 is -EFBIG. */
ssize_t read_file_at(int dirfd, const char *name, char *buf, size_t size);

/* Re-reads an already open file from offset 0 (pread), same contract as read_file_at. */
ssize_t pread_file(int fd, char *buf, size_t size);

/* Strict unsigned decimal: whole token, no sign, no overflow. Returns 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *out);

/* Like parse_u64 but over the first whitespace-delimited token of s; *end (optional) is set just
 * past the token. */
int parse_u64_token(const char *s, uint64_t *out, const char **end);

/* A "limit" value: a number, or the literal "max" (cgroup v2), which sets *unlimited. */
int parse_limit(const char *s, uint64_t *out, bool *unlimited);

/* Iterates "key value" lines of flat-keyed files (cpu.stat, memory.stat...). Returns false at the
 * end. key/value point into a scratch copy that lives until the next call. */
typedef struct {
  const char *pos;
  char line[256];
} kv_iter_t;
void kv_iter_init(kv_iter_t *it, const char *text);
bool kv_iter_next(kv_iter_t *it, const char **key, const char **value);

/* Copies src into dst (size n), replacing characters collectd identifiers cannot hold
 * ('/', whitespace, control characters, '"') and every byte that is not part of valid UTF-8
 * with '_'; a multi-byte character that does not fit is left out whole. Always
 * NUL-terminates. */
void sanitize_name(char *dst, const char *src, size_t n);

/* Joins a and b with one '/' into dst. Returns -ENAMETOOLONG if it does not fit. */
int path_join(char *dst, size_t n, const char *a, const char *b);

/* False when the directory open as dirfd certainly has no subdirectory: its link count is 2
 * (cgroupfs, tmpfs, ext4 count subdirectories there). True when it may have some, or when
 * that cannot be told (fstat failed, a file system with other link counts). */
bool cg_dir_may_have_children(int dirfd);

/* True if the first len characters of s are lowercase hex digits. */
bool is_hex(const char *s, size_t len);

/* 64-bit FNV-1a of len bytes, continuing from h (start with FNV1A64_INIT). */
#define FNV1A64_INIT 14695981039346656037ull
uint64_t fnv1a64_more(uint64_t h, const void *data, size_t len);
static inline uint64_t fnv1a64(const void *data, size_t len) {
  return fnv1a64_more(FNV1A64_INIT, data, len);
}

#endif
