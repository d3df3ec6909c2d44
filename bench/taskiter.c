/* bench/taskiter.c: runs bench/taskiter.bpf.c in a loop, like bench/floor.c runs the plugin's
 * reads: one pass over every task on the host, then one map lookup per container.
 *
 *   taskiter SECONDS CGROUP_ROOT < LIST    LIST: "KIND RELPATH" lines, as for bench/floor.c
 *
 * Prints the CPU per pass and per container per pass (µs), and the counts of the last pass. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "taskiter.skel.h"

struct counts {
  __u64 gen;
  __u32 r, d, s, other;
};

static double cpu_now(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 5;
  const char *root = argc > 2 ? argv[2] : "/sys/fs/cgroup";
  static unsigned long long ids[65536];
  size_t n = 0;
  char kind[64], rel[4096], path[8192];
  while (n < 65536 && scanf("%63s %4095s", kind, rel) == 2) {
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (stat(path, &st) == 0)
      ids[n++] = st.st_ino;
  }
  struct taskiter_bpf *skel = taskiter_bpf__open_and_load();
  if (skel == NULL || n == 0) {
    fprintf(stderr, "taskiter: cannot load the BPF program, or no containers\n");
    return 1;
  }
  int map = bpf_map__fd(skel->maps.by_cgroup);
  struct counts zero = {0};
  for (size_t i = 0; i < n; i++)
    bpf_map_update_elem(map, &ids[i], &zero, BPF_ANY);
  struct bpf_link *link = bpf_program__attach_iter(skel->progs.count_states, NULL);
  if (link == NULL) {
    fprintf(stderr, "taskiter: cannot attach the iterator\n");
    return 1;
  }
  unsigned long passes = 0, r = 0, s = 0, d = 0;
  char buf[256];
  double t0 = cpu_now(), end = now() + seconds;
  while (now() < end) {
    skel->bss->gen++;
    int it = bpf_iter_create(bpf_link__fd(link));
    while (read(it, buf, sizeof(buf)) > 0)
      ;
    close(it);
    r = s = d = 0;
    for (size_t i = 0; i < n; i++) {
      struct counts c;
      if (bpf_map_lookup_elem(map, &ids[i], &c) == 0 && c.gen == skel->bss->gen)
        r += c.r, s += c.s, d += c.d;
    }
    passes++;
  }
  double used = cpu_now() - t0;
  printf("taskiter passes %lu containers %zu us_per_pass %.1f us_per_container %.2f running %lu "
         "sleeping %lu uninterruptible %lu\n",
         passes, n, used * 1e6 / (double)passes, used * 1e6 / (double)passes / (double)n, r, s, d);
  bpf_link__destroy(link);
  taskiter_bpf__destroy(skel);
  return 0;
}
