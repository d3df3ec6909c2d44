/* libFuzzer target: the /proc/partitions parser behind blockdev_name() (real file in a temporary
 * directory, loaded by blockdev_init()). */
#include "blockdev.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];
static char file[96];

static void cleanup(void) {
  unlink(file);
  rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(root, sizeof(root), "%s/fuzz-partitions.XXXXXX", base);
  if (!mkdtemp(root))
    abort();
  snprintf(file, sizeof(file), "%s/partitions", root);
  atexit(cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    abort();
  if (size > 0 && write(fd, data, size) != (ssize_t)size)
    abort();
  close(fd);
  if (blockdev_init(root) != 0)
    abort();
  static const uint32_t devs[][2] = {{8, 0}, {7, 0}, {253, 1}, {259, 0}, {0, 0}, {4294967295u, 1}};
  for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
    char name[64];
    blockdev_name(devs[i][0], devs[i][1], name, sizeof(name));
    if (memchr(name, '\0', sizeof(name)) == NULL || name[0] == '\0' || strchr(name, '/') ||
        strchr(name, ' '))
      abort();
  }
  char tiny[2];
  blockdev_name(8, 0, tiny, sizeof(tiny));
  blockdev_shutdown();
  return 0;
}
