/* libFuzzer target: the cgroup v2 readers (cpu.stat, cpu.max, memory.*, io.stat, pids.*, PSI)
 * through cgv2_read() and cg_psi_read(), and cg_parse_kv() on the raw input. Files come from the
 * input (fakefs.h). */
#include "cgroup_v2.h"
#include "cgread.h"
#include "cgroup_files.h"
#include "fakefs.h"

#include <stdlib.h>

static int errors;
static void on_error(void *ctx, const char *file, int err, const char *what) {
  (void)ctx;
  /* Touch every argument: a dangling pointer here is a bug ASan should see. */
  if (file[0] == '\0' || what == NULL || what[0] == '\0' || err <= 0)
    abort();
  errors++;
}

static void check_metrics(const cg_metrics_t *m) {
  if (m->n_blkdev > CG_MAX_BLKDEV)
    abort();
  for (unsigned i = 0; i < m->n_blkdev; i++) {
    const cg_blkdev_t *d = &m->blkdev[i];
    if ((d->read_bytes | d->write_bytes | d->read_ops | d->write_ops) == 0)
      abort(); /* cg_blkdev_compact() drops idle devices */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fakefs_load(cgroup_v2_files, CGROUP_V2_NFILES, data, size);
  cg_metrics_t m;
  memset(&m, 0, sizeof(m));
  int rc = cgv2_read(3,
                     CG_GROUP_CPU | CG_GROUP_MEMORY | CG_GROUP_BLKIO | CG_GROUP_PIDS |
                         CG_GROUP_PRESSURE | CG_READ_LIMITS,
                     &m, on_error, NULL);
  if (rc < 0 && rc != -ENODEV)
    abort();
  check_metrics(&m);

  memset(&m, 0, sizeof(m));
  cg_psi_read(3, &m, NULL, NULL);

  /* The flat-keyed parser on the whole input (NUL-terminated copy). */
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  static const char *const keys[] = {"user_usec", "system_usec", "anon", "file",
                                     "oom_kill",  "total",       "some", "nr_periods"};
  uint64_t vals[8];
  uint32_t seen = 0;
  const char *bad = NULL;
  if (cg_parse_kv(text, keys, 8, vals, &seen, &bad) != 0 && (bad == NULL || bad[0] == '\0'))
    abort();
  if (seen >> 8)
    abort();

  /* MAJ:MIN over every prefix length of the first token. */
  size_t tl = strcspn(text, " \n");
  uint32_t maj, min;
  cg_parse_devno(text, tl, &maj, &min);
  free(text);
  return 0;
}
