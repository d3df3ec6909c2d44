#include "cgfiles.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  int dirfd;
  int fd;           /* kept fd; -1 in a negative entry (file missing) */
  int err;          /* negative entry: the open error (ENOENT, EOPNOTSUPP) */
  unsigned skip;    /* negative entry: reads answered before opening again */
  const char *name; /* interned: see intern() */
} entry_t;

struct cg_files {
  entry_t *e;
  size_t n, cap;
  size_t hint; /* just past the last hit: readers ask for their files in the same order */
};

static atomic_long budget;
static atomic_long kept;

/* Takes one fd from the budget; false when it is used up. */
static bool reserve(void) {
  long cur = atomic_load(&kept);
  while (cur < atomic_load(&budget))
    if (atomic_compare_exchange_weak(&kept, &cur, cur + 1))
      return true;
  return false;
}

static void release(void) {
  atomic_fetch_sub(&kept, 1);
}

/* Entries point into one process-wide copy of each distinct name (a few dozen file names in all)
 * instead of a copy each: about 1 KiB less heap per container. Never freed. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static char **names;
static size_t names_n, names_cap;

static const char *intern(const char *name) {
  const char *found = NULL;
  pthread_mutex_lock(&names_lock);
  for (size_t i = 0; i < names_n && !found; i++)
    if (strcmp(names[i], name) == 0)
      found = names[i];
  if (!found && names_n == names_cap) {
    size_t cap = names_cap ? 2 * names_cap : 32;
    char **grown = realloc(names, cap * sizeof(*grown));
    if (grown) {
      names = grown;
      names_cap = cap;
    }
  }
  if (!found && names_n < names_cap && (names[names_n] = strdup(name)) != NULL)
    found = names[names_n++];
  pthread_mutex_unlock(&names_lock);
  return found;
}

cg_files_t *cg_files_create(void) {
  return calloc(1, sizeof(cg_files_t));
}

void cg_files_close_all(cg_files_t *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n; i++) {
    if (f->e[i].fd >= 0) {
      close(f->e[i].fd);
      release();
    }
  }
  f->n = 0;
  f->hint = 0;
}

void cg_files_destroy(cg_files_t *f) {
  if (f == NULL)
    return;
  cg_files_close_all(f);
  free(f->e);
  free(f);
}

void cg_files_set_budget(long max_kept) {
  atomic_store(&budget, max_kept);
}

long cg_files_kept(void) {
  return atomic_load(&kept);
}

bool cg_files_reserve(long n) {
  long cur = atomic_load(&kept);
  while (cur + n <= atomic_load(&budget))
    if (atomic_compare_exchange_weak(&kept, &cur, cur + n))
      return true;
  return false;
}

void cg_files_unreserve(long n) {
  atomic_fetch_sub(&kept, n);
}

void cg_files_move_high(int *fd) {
  int high = fcntl(*fd, F_DUPFD_CLOEXEC, CG_FILES_MIN_FD);
  if (high >= 0) {
    close(*fd);
    *fd = high;
  }
}

static entry_t *lookup(cg_files_t *f, int dirfd, const char *name) {
  if (f->hint >= f->n)
    f->hint = 0;
  for (size_t k = 0; k < f->n; k++) {
    size_t i = f->hint + k < f->n ? f->hint + k : f->hint + k - f->n;
    entry_t *e = &f->e[i];
    if (e->dirfd == dirfd && strcmp(e->name, name) == 0) {
      f->hint = i + 1;
      return e;
    }
  }
  return NULL;
}

/* A new entry with no fd, or NULL on ENOMEM. */
static entry_t *add(cg_files_t *f, int dirfd, const char *name) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 32; /* a container reads at most ~24 files */
    entry_t *e = realloc(f->e, cap * sizeof(*e));
    if (e == NULL)
      return NULL;
    f->e = e;
    f->cap = cap;
  }
  const char *copy = intern(name);
  if (copy == NULL)
    return NULL;
  entry_t *e = &f->e[f->n++];
  *e = (entry_t){.dirfd = dirfd, .fd = -1, .name = copy};
  return e;
}

static void drop(cg_files_t *f, entry_t *e) {
  if (e->fd >= 0) {
    close(e->fd);
    release();
  }
  *e = f->e[--f->n];
}

static bool is_missing(ssize_t n) {
  return n == -ENOENT || n == -EOPNOTSUPP;
}

/* After an uncached open or read returned n: remember a missing file (e: its entry, if any), or
 * forget the negative entry of a file that is back. */
static void note_uncached(cg_files_t *f, entry_t *e, int dirfd, const char *name, ssize_t n) {
  if (!is_missing(n) || atomic_load(&budget) <= 0) {
    if (e != NULL)
      drop(f, e);
    return;
  }
  if (e == NULL && (e = add(f, dirfd, name)) == NULL)
    return; /* ENOMEM: just not remembered */
  e->err = (int)-n;
  e->skip = CG_FILES_NEG_READS;
}

static ssize_t read_kept(cg_files_t *f, entry_t *e, char *buf, size_t size) {
  ssize_t n = pread_file(e->fd, buf, size);
  /* -EFBIG is the buffer's fault, not the fd's: keep it. Anything else (ENODEV: cgroup
   * removed) closes it, and the next call opens the file again. */
  if (n < 0 && n != -EFBIG)
    drop(f, e);
  return n;
}

/* Opens name for entry e (may be NULL: added on success) and keeps the fd. Returns the fd,
 * -EMFILE when it cannot be kept (no budget, ENOMEM: nothing was opened), or -errno of the open
 * (a missing file is remembered). */
static int open_kept(cg_files_t *f, entry_t *e, int dirfd, const char *name) {
  if (!reserve())
    return -EMFILE;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = -errno;
    release();
    note_uncached(f, e, dirfd, name, err);
    return err;
  }
  /* Above the select() range; where the fd limit is too low, the low fd is kept instead. */
  cg_files_move_high(&fd);
  if (e == NULL && (e = add(f, dirfd, name)) == NULL) {
    close(fd);
    release();
    return -EMFILE;
  }
  e->fd = fd;
  e->skip = 0;
  e->err = 0;
  return fd;
}

ssize_t cg_files_read(cg_files_t *f, int dirfd, const char *name, char *buf, size_t size) {
  if (f == NULL || (f->n == 0 && atomic_load(&budget) <= 0))
    return read_file_at(dirfd, name, buf, size);

  entry_t *e = lookup(f, dirfd, name);
  if (e != NULL && e->fd >= 0)
    return read_kept(f, e, buf, size);
  if (e != NULL && e->skip > 0) {
    e->skip--;
    return -e->err;
  }

  /* Not kept yet, or a missing file due for another try. */
  int fd = open_kept(f, e, dirfd, name);
  if (fd == -EMFILE) {
    ssize_t n = read_file_at(dirfd, name, buf, size); /* nothing changed: e is valid */
    note_uncached(f, e, dirfd, name, n);
    return n;
  }
  if (fd < 0)
    return fd;
  return read_kept(f, lookup(f, dirfd, name), buf, size); /* add() may have moved e */
}

int cg_files_fd(cg_files_t *f, int dirfd, const char *name) {
  if (f == NULL)
    return -EMFILE;
  entry_t *e = lookup(f, dirfd, name);
  if (e != NULL && e->fd >= 0)
    return e->fd;
  if (e != NULL && e->skip > 0) {
    e->skip--;
    return -e->err;
  }
  return open_kept(f, e, dirfd, name);
}

void cg_files_forget(cg_files_t *f, int dirfd, const char *name) {
  entry_t *e = f ? lookup(f, dirfd, name) : NULL;
  if (e != NULL)
    drop(f, e);
}

int cg_files_open_for_read(cg_files_t *f, int dirfd, const char *name, bool *kept) {
  int fd = cg_files_fd(f, dirfd, name);
  *kept = fd >= 0;
  if (fd != -EMFILE)
    return fd;
  fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC); /* not kept: for this read only */
  return fd < 0 ? -errno : fd;
}

int cg_files_end_read(cg_files_t *f, int dirfd, const char *name, int fd, bool kept, int read_err) {
  if (!kept) {
    close(fd);
    return read_err;
  }
  if (read_err == 0)
    return 0;
  cg_files_forget(f, dirfd, name);
  return read_err == -ENODEV ? -ENOENT : read_err;
}
