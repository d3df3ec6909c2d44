#include "blockdev.h"

#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* DISK_NAME_LEN is 32 in the kernel. */
typedef struct {
  uint32_t major, minor;
  char name[40];
} bdev_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *partitions_path;
static bdev_t *devs; /* sorted by (major, minor) for bsearch */
static size_t n_devs;
static struct timespec last_load;
static bool loaded_once;
static unsigned reload_interval = BLOCKDEV_RELOAD_INTERVAL_S;

static int cmp_dev(const void *a, const void *b) {
  const bdev_t *x = a, *y = b;
  if (x->major != y->major)
    return x->major < y->major ? -1 : 1;
  if (x->minor != y->minor)
    return x->minor < y->minor ? -1 : 1;
  return 0;
}

/* Caller holds lock. Keeps the old table when the file cannot be read, so a transient failure
 * does not turn known names into MAJ-MIN ones. */
static void load_locked(void) {
  clock_gettime(CLOCK_MONOTONIC, &last_load);
  loaded_once = true;
  if (partitions_path == NULL)
    return;
  FILE *f = fopen(partitions_path, "re");
  if (f == NULL)
    return;
  bdev_t *tab = NULL;
  size_t n = 0, cap = 0;
  char line[256];
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned maj, min;
    unsigned long long blocks;
    char name[40];
    /* Header and blank lines do not match. */
    if (sscanf(line, "%u %u %llu %39s", &maj, &min, &blocks, name) != 4)
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      bdev_t *t = realloc(tab, ncap * sizeof(*t));
      if (t == NULL)
        break;
      tab = t;
      cap = ncap;
    }
    tab[n].major = maj;
    tab[n].minor = min;
    sanitize_name(tab[n].name, name, sizeof(tab[n].name));
    n++;
  }
  bool read_error = ferror(f);
  fclose(f);
  if (read_error) {
    free(tab);
    return;
  }
  if (n > 0) /* qsort's array may not be NULL, even when empty */
    qsort(tab, n, sizeof(*tab), cmp_dev);
  free(devs);
  devs = tab;
  n_devs = n;
}

int blockdev_init(const char *proc_root) {
  char path[4096];
  int err = path_join(path, sizeof(path), proc_root, "partitions");
  if (err)
    return err;
  char *p = strdup(path);
  if (p == NULL)
    return -ENOMEM;
  pthread_mutex_lock(&lock);
  free(partitions_path);
  partitions_path = p;
  free(devs);
  devs = NULL;
  n_devs = 0;
  load_locked();
  pthread_mutex_unlock(&lock);
  return 0;
}

void blockdev_shutdown(void) {
  pthread_mutex_lock(&lock);
  free(partitions_path);
  partitions_path = NULL;
  free(devs);
  devs = NULL;
  n_devs = 0;
  loaded_once = false;
  pthread_mutex_unlock(&lock);
}

void blockdev_set_reload_interval(unsigned seconds) {
  pthread_mutex_lock(&lock);
  reload_interval = seconds;
  pthread_mutex_unlock(&lock);
}

static const bdev_t *find_locked(uint32_t major, uint32_t minor) {
  if (devs == NULL)
    return NULL;
  bdev_t key = {.major = major, .minor = minor};
  return bsearch(&key, devs, n_devs, sizeof(*devs), cmp_dev);
}

static bool reload_due_locked(void) {
  if (!loaded_once)
    return true;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  time_t elapsed = now.tv_sec - last_load.tv_sec;
  if (now.tv_nsec < last_load.tv_nsec)
    elapsed--;
  return elapsed >= (time_t)reload_interval;
}

bool blockdev_name(uint32_t major, uint32_t minor, char *buf, size_t size) {
  if (size == 0)
    return false;
  bool found = false;
  pthread_mutex_lock(&lock);
  const bdev_t *d = find_locked(major, minor);
  if (d == NULL && partitions_path != NULL && reload_due_locked()) {
    load_locked();
    d = find_locked(major, minor);
  }
  if (d != NULL) {
    snprintf(buf, size, "%s", d->name);
    found = true;
  }
  pthread_mutex_unlock(&lock);
  if (!found)
    snprintf(buf, size, "%" PRIu32 "-%" PRIu32, major, minor);
  return found;
}
