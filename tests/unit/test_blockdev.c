/* blockdev: names from PROC_ROOT/partitions, fallback names, re-load policy, threads. */
#include "blockdev.h"
#include "testutil.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256], partitions[300];

static void write_partitions(const char *text) {
  /* Replace atomically so concurrent readers never see a half-written file. */
  char tmp[320];
  snprintf(tmp, sizeof(tmp), "%s.new", partitions);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
    perror(tmp);
    exit(1);
  }
  if (rename(tmp, partitions) != 0) {
    perror("rename");
    exit(1);
  }
}

static const char *name_of(uint32_t maj, uint32_t min, bool *known) {
  static char buf[64];
  bool k = blockdev_name(maj, min, buf, sizeof(buf));
  if (known)
    *known = k;
  return buf;
}

static const char base_table[] = "major minor  #blocks  name\n"
                                 "\n"
                                 "   8        0  488386584 sda\n"
                                 "   8        1     524288 sda1\n"
                                 " 259        0  500107608 nvme0n1\n"
                                 " 259        1    1048576 nvme0n1p1\n"
                                 " 253        0   52428800 dm-0\n"
                                 "   9        1 1953382400 md1\n"
                                 " 104        0  143338560 cciss!c0d0\n"
                                 "garbage line\n"
                                 "   7\n";

static void test_lookup(void) {
  write_partitions(base_table);
  CHECK_INT(blockdev_init(tmpdir), 0);
  bool known;
  CHECK_STR(name_of(8, 0, &known), "sda");
  CHECK(known);
  CHECK_STR(name_of(8, 1, NULL), "sda1");
  CHECK_STR(name_of(253, 0, NULL), "dm-0");
  CHECK_STR(name_of(259, 1, NULL), "nvme0n1p1");
  CHECK_STR(name_of(9, 1, NULL), "md1");
  CHECK_STR(name_of(104, 0, NULL), "cciss!c0d0");
  CHECK_STR(name_of(8, 16, &known), "8-16");
  CHECK(!known);
  CHECK_STR(name_of(4294967295u, 0, NULL), "4294967295-0");

  /* Small buffers are truncated and terminated; size 0 is left alone. */
  char small[3] = "zz";
  CHECK(blockdev_name(8, 0, small, sizeof(small)));
  CHECK_STR(small, "sd");
  CHECK(!blockdev_name(8, 0, small, 0));
  CHECK_STR(small, "sd");
  blockdev_name(8, 99, small, sizeof(small));
  CHECK_STR(small, "8-");
}

static void test_reload(void) {
  write_partitions(base_table);
  blockdev_init(tmpdir);
  /* Within the interval an unknown device does not re-read the file. */
  blockdev_set_reload_interval(3600);
  char more[sizeof(base_table) + 64];
  snprintf(more, sizeof(more), "%s   8       16  488386584 sdb\n", base_table);
  write_partitions(more);
  bool known;
  CHECK_STR(name_of(8, 16, &known), "8-16");
  CHECK(!known);
  /* Once it is due, the next miss re-loads. */
  blockdev_set_reload_interval(0);
  CHECK_STR(name_of(8, 16, &known), "sdb");
  CHECK(known);
  /* A later unreadable file keeps the names known so far. */
  unlink(partitions);
  CHECK_STR(name_of(8, 32, &known), "8-32");
  CHECK_STR(name_of(8, 16, &known), "sdb");
  CHECK(known);
  blockdev_set_reload_interval(BLOCKDEV_RELOAD_INTERVAL_S);
}

static void test_missing_and_shutdown(void) {
  CHECK_INT(blockdev_init("/nonexistent-proc-root"), 0);
  bool known;
  CHECK_STR(name_of(8, 0, &known), "8-0");
  CHECK(!known);
  write_partitions(base_table);
  blockdev_init(tmpdir);
  CHECK_STR(name_of(8, 0, NULL), "sda");
  blockdev_shutdown();
  CHECK_STR(name_of(8, 0, &known), "8-0");
  CHECK(!known);
  blockdev_shutdown(); /* twice is harmless */
  char longroot[5000];
  memset(longroot, 'a', sizeof(longroot) - 1);
  longroot[sizeof(longroot) - 1] = '\0';
  CHECK(blockdev_init(longroot) < 0);
}

/* The fixture trees name every device their cgroup files use. */
static void test_fixture_trees(void) {
  static const struct {
    const char *tree;
    uint32_t maj, min;
    const char *name;
  } cases[] = {{"v1-docker-cgroupfs", 7, 0, "loop0"},
               {"v1-docker-cgroupfs", 253, 0, "dm-0"},
               {"v1-docker-cgroupfs", 253, 1, "dm-1"},
               {"v1-docker-cgroupfs", 259, 0, "nvme0n1"},
               {"v2-kubepods", 253, 0, "dm-0"},
               {"v2-kubepods", 259, 0, "nvme0n1"},
               {"v2-kubepods", 252, 0, "vda"},
               {"v2-kubepods", 7, 7, "loop7"},
               {"hybrid", 8, 0, "sda"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char root[1024];
    snprintf(root, sizeof(root), "%s/%s/proc", fixture_dir(), cases[i].tree);
    CHECK_INT(blockdev_init(root), 0);
    bool known;
    CHECK_STR(name_of(cases[i].maj, cases[i].min, &known), cases[i].name);
    CHECK(known);
  }
}

/* Lookups from several threads while misses force re-loads (interval 0). */
static void *lookup_thread(void *arg) {
  long id = (long)arg;
  int bad = 0;
  char buf[32];
  for (int i = 0; i < 2000; i++) {
    if (!blockdev_name(8, 0, buf, sizeof(buf)) || strcmp(buf, "sda") != 0)
      bad++;
    blockdev_name(200, (uint32_t)(id * 10000 + i), buf, sizeof(buf));
  }
  return (void *)(long)bad;
}

static void test_threads(void) {
  write_partitions(base_table);
  blockdev_init(tmpdir);
  blockdev_set_reload_interval(0);
  pthread_t t[8];
  for (long i = 0; i < 8; i++)
    pthread_create(&t[i], NULL, lookup_thread, (void *)i);
  long bad = 0;
  for (int i = 0; i < 8; i++) {
    void *r;
    pthread_join(t[i], &r);
    bad += (long)r;
  }
  CHECK_INT(bad, 0);
  blockdev_set_reload_interval(BLOCKDEV_RELOAD_INTERVAL_S);
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_blockdev.XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(partitions, sizeof(partitions), "%s/partitions", tmpdir);
  test_lookup();
  test_reload();
  test_missing_and_shutdown();
  test_fixture_trees();
  test_threads();
  blockdev_shutdown();
  unlink(partitions);
  rmdir(tmpdir);
  return test_result("test_blockdev");
}
