/* Seed packer for the cgroup fuzz targets (not a fuzz target; fuzz/make-corpus.sh runs it):
 *   pack_seeds v1|v2 OUTDIR < LIST
 * Each line of LIST becomes one seed OUTDIR/pack-N in fakefs.h's format:
 *   DIR[|DIR...]  every file of cgroup_files.h's list, taken from the first DIR that has it
 *                 (a v1 cgroup's files sit in one directory per controller), "\xff" if none has it
 *   =PATH         that one file in the slot of its base name (cpu, memory, io -> *.pressure: the
 *                 /proc/pressure files have the cgroup files' format), every other file absent;
 *                 a file whose name is not in the list is skipped. */
#include "cgroup_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int append_file(FILE *out, const char *path) {
  FILE *in = fopen(path, "rb");
  if (!in)
    return -1;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    fwrite(buf, 1, n, out);
  fclose(in);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "v1") != 0 && strcmp(argv[1], "v2") != 0)) {
    fprintf(stderr, "usage: %s v1|v2 OUTDIR < LIST\n", argv[0]);
    return 2;
  }
  const char *const *names = argv[1][1] == '1' ? cgroup_v1_files : cgroup_v2_files;
  size_t n = argv[1][1] == '1' ? CGROUP_V1_NFILES : CGROUP_V2_NFILES;
  char line[8192];
  int seeds = 0;
  while (fgets(line, sizeof(line), stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (!line[0])
      continue;
    const char *single = NULL;
    size_t slot = n;
    if (line[0] == '=') {
      single = line + 1;
      const char *base = strrchr(single, '/');
      base = base ? base + 1 : single;
      char want[256];
      snprintf(want, sizeof(want), "%s%s", base, strchr(base, '.') ? "" : ".pressure");
      for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0)
          slot = i;
      if (slot == n)
        continue;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/pack-%d", argv[2], seeds);
    FILE *out = fopen(path, "wb");
    if (!out) {
      perror(path);
      return 1;
    }
    for (size_t i = 0; i < n; i++) {
      if (i > 0)
        fputc('\0', out);
      int found = -1;
      if (single) {
        if (i == slot)
          found = append_file(out, single);
      } else {
        char dirs[8192];
        snprintf(dirs, sizeof(dirs), "%s", line);
        for (char *save, *d = strtok_r(dirs, "|", &save); d && found < 0;
             d = strtok_r(NULL, "|", &save)) {
          char file[8192];
          snprintf(file, sizeof(file), "%s/%s", d, names[i]);
          found = append_file(out, file);
        }
      }
      if (found < 0)
        fputc(0xff, out);
    }
    fclose(out);
    seeds++;
  }
  printf("%d\n", seeds);
  return 0;
}
