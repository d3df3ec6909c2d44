/* A fake read_file_at() for the fuzz targets of the cgroup readers (fuzz_cgroup_v1.c,
 * fuzz_cgroup_v2.c). The readers' parsers are static and reached only through read_file_at(), so
 * the targets are linked with -Wl,--wrap=read_file_at: every file the reader asks for comes from
 * the fuzz input instead of the disk, with no syscalls per input.
 *
 * Input format: chunks separated by NUL bytes (the kernel's files never contain NUL); chunk i is
 * the content of fakefs_names[i]. A missing chunk (input too short) means ENOENT; a chunk that is
 * exactly one special byte means an error from open/read:
 *   "\xff" ENOENT (controller absent)   "\xfe" ENODEV (cgroup removed mid-read)
 *   "\xfd" EOPNOTSUPP (PSI disabled)    "\xfc" EIO
 * fuzz/make-corpus.sh packs fixture directories in this format (same name order!). */
#ifndef FUZZ_FAKEFS_H
#define FUZZ_FAKEFS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

typedef struct {
  const uint8_t *data;
  size_t len;
  int err; /* 0: present */
} fakefs_file_t;

#define FAKEFS_MAX 32
static fakefs_file_t fakefs_files[FAKEFS_MAX];
static const char *const *fakefs_names;
static size_t fakefs_n;
static unsigned fakefs_reads;

static void fakefs_load(const char *const *names, size_t n, const uint8_t *data, size_t size) {
  fakefs_names = names;
  fakefs_n = n < FAKEFS_MAX ? n : FAKEFS_MAX;
  fakefs_reads = 0;
  size_t pos = 0;
  for (size_t i = 0; i < fakefs_n; i++) {
    if (pos > size || (pos == size && i > 0)) {
      fakefs_files[i] = (fakefs_file_t){NULL, 0, ENOENT};
      continue;
    }
    const uint8_t *start = data + pos;
    const uint8_t *nul = memchr(start, 0, size - pos);
    size_t len = nul ? (size_t)(nul - start) : size - pos;
    int err = 0;
    if (len == 1) {
      switch (start[0]) {
      case 0xff:
        err = ENOENT;
        break;
      case 0xfe:
        err = ENODEV;
        break;
      case 0xfd:
        err = EOPNOTSUPP;
        break;
      case 0xfc:
        err = EIO;
        break;
      }
    }
    fakefs_files[i] = (fakefs_file_t){start, len, err};
    pos += len + 1;
  }
}

/* Same contract as util.c's read_file_at: whole file, NUL-terminated, -EFBIG when longer than
 * size - 1, -errno otherwise. */
ssize_t __wrap_read_file_at(int dirfd, const char *name, char *buf, size_t size);
ssize_t __wrap_read_file_at(int dirfd, const char *name, char *buf, size_t size) {
  (void)dirfd;
  fakefs_reads++;
  for (size_t i = 0; i < fakefs_n; i++) {
    if (strcmp(fakefs_names[i], name) != 0)
      continue;
    const fakefs_file_t *f = &fakefs_files[i];
    if (f->err)
      return -f->err;
    if (size == 0)
      return -EINVAL;
    if (f->len > size - 1)
      return -EFBIG;
    memcpy(buf, f->data, f->len);
    buf[f->len] = '\0';
    return (ssize_t)f->len;
  }
  return -ENOENT;
}

#endif
