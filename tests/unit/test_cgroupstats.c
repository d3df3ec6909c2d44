/* cgroupstats_parse on exact, shorter, torn and longer payloads and cgroupstats_query's argument
 * checks, without the kernel; then, where the kernel has the TASKSTATS family, per-thread sockets
 * and truncated replies in real round trips (on /tmp, which answers EINVAL: no root needed). */
#define _GNU_SOURCE /* recvmmsg, RTLD_NEXT */
#include "cgroupstats.h"
#include "genl.h"
#include "genl_testing.h"
#include "testutil.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/cgroupstats.h>

/* Set: the next recvmmsg marks its first message truncated, as a reply bigger than genl.c's
 * receive slot would be. (This definition takes the place of libc's for genl.c.) */
static atomic_bool truncate_next;

int recvmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags, struct timespec *timeout) {
  static int (*real)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
  if (real == NULL)
    real = (int (*)(int, struct mmsghdr *, unsigned int, int, struct timespec *))dlsym(RTLD_NEXT,
                                                                                       "recvmmsg");
  int r = real(fd, msgs, n, flags, timeout);
  if (r > 0 && atomic_exchange(&truncate_next, false))
    msgs[0].msg_hdr.msg_flags |= MSG_TRUNC;
  return r;
}

/* struct cgroupstats field order: sleeping, running, stopped, uninterruptible, io_wait. */
static const uint64_t fields[7] = {11, 22, 33, 44, 55, 66, 77};

static void test_exact(void) {
  task_counts_t c;
  memset(&c, 0xff, sizeof(c));
  CHECK_INT(cgroupstats_parse(fields, 5 * sizeof(uint64_t), &c), 5);
  CHECK_U64(c.sleeping, 11);
  CHECK_U64(c.running, 22);
  CHECK_U64(c.stopped, 33);
  CHECK_U64(c.uninterruptible, 44);
  CHECK_U64(c.iowait, 55);
}

static void test_shorter(void) {
  task_counts_t c;
  memset(&c, 0xff, sizeof(c));
  CHECK_INT(cgroupstats_parse(fields, 2 * sizeof(uint64_t), &c), 2);
  CHECK_U64(c.sleeping, 11);
  CHECK_U64(c.running, 22);
  CHECK_U64(c.stopped, 0);
  CHECK_U64(c.uninterruptible, 0);
  CHECK_U64(c.iowait, 0);

  /* A torn last field is not half-read. */
  memset(&c, 0xff, sizeof(c));
  CHECK_INT(cgroupstats_parse(fields, 12, &c), 1);
  CHECK_U64(c.sleeping, 11);
  CHECK_U64(c.running, 0);

  memset(&c, 0xff, sizeof(c));
  CHECK_INT(cgroupstats_parse(fields, 0, &c), 0);
  CHECK_U64(c.sleeping + c.running + c.stopped + c.uninterruptible + c.iowait, 0);
  CHECK_INT(cgroupstats_parse(NULL, 0, &c), 0);
  CHECK_INT(cgroupstats_parse(NULL, 8, &c), -EINVAL);
}

static void test_longer(void) {
  task_counts_t c;
  CHECK_INT(cgroupstats_parse(fields, sizeof(fields), &c), 5);
  CHECK_U64(c.iowait, 55);
  CHECK_U64(c.running, 22);
  /* Netlink attribute payloads are only 4-byte aligned. */
  unsigned char buf[4 + sizeof(fields)];
  memcpy(buf + 4, fields, sizeof(fields));
  CHECK_INT(cgroupstats_parse(buf + 4, 5 * sizeof(uint64_t) + 3, &c), 5);
  CHECK_U64(c.uninterruptible, 44);
}

static void test_query_args(void) {
  task_counts_t c = {0};
  CHECK_INT(cgroupstats_query(-1, &c), -EBADF);
  CHECK_INT(genl_family_id(), -ESHUTDOWN);
  CHECK_INT(cgroupstats_query(0, &c), -ESHUTDOWN); /* genl_init not called */
  CHECK_INT(genl_open_sockets(), 0);
  /* A batch that cannot be sent still gives every request its result. */
  uint32_t v = 1;
  genl_req_t reqs[3] = {{.cmd = 1, .attr_type = 1, .data = &v, .len = sizeof(v)},
                        {.cmd = 1, .attr_type = 1, .data = &v, .len = sizeof(v)},
                        {.cmd = 1, .attr_type = 1, .data = &v, .len = sizeof(v)}};
  int rcs[3] = {7, 7, 7};
  CHECK_INT(genl_request_batch(reqs, 3, rcs), -ESHUTDOWN);
  CHECK(rcs[0] == -ESHUTDOWN && rcs[1] == -ESHUTDOWN && rcs[2] == -ESHUTDOWN);
  reqs[1].len = 64; /* more than a batched request carries */
  rcs[0] = rcs[1] = rcs[2] = 7;
  CHECK_INT(genl_request_batch(reqs, 3, rcs), -EINVAL);
  CHECK(rcs[0] == -EINVAL && rcs[1] == -EINVAL && rcs[2] == -EINVAL);
  CHECK_INT(genl_request_batch(reqs, 0, NULL), 0);
  rcs[0] = rcs[1] = 7;
  CHECK_INT(genl_request_batch(NULL, 2, rcs), -EINVAL);
  CHECK(rcs[0] == -EINVAL && rcs[1] == -EINVAL);
  /* A single request has the same payload limit: checked before anything else. */
  unsigned char big[GENL_MAX_PAYLOAD + 1] = {0};
  genl_req_t one = {.cmd = 1, .attr_type = 1, .data = big, .len = sizeof(big)};
  CHECK_INT(genl_request(&one), -EINVAL);
  one.len = GENL_MAX_PAYLOAD;
  CHECK_INT(genl_request(&one), -ESHUTDOWN);
  CHECK_INT(genl_request(NULL), -EINVAL);
  CHECK_INT(genl_open_sockets(), 0);
}

#define NTHREADS 8
#define NQUERIES 50
static int tmp_fd;
static int thread_errors[NTHREADS];

/* Each thread gets its own socket; the kernel refuses a non-cgroup directory with -EINVAL
 * (-EPERM where the caller may not use the command). */
static void *query_thread(void *arg) {
  int *errs = arg;
  for (int i = 0; i < NQUERIES; i++) {
    task_counts_t c;
    int rc = cgroupstats_query(tmp_fd, &c);
    if (rc != -EINVAL && rc != -EPERM)
      (*errs)++;
  }
  return NULL;
}

/* A truncated reply fails the exchange with -EMSGSIZE and discards the socket: alone and in a
 * batch. */
static void test_truncated(void) {
  task_counts_t c;
  atomic_store(&truncate_next, true);
  CHECK_INT(cgroupstats_query(tmp_fd, &c), -EMSGSIZE);
  CHECK_INT(genl_open_sockets(), 0);
  uint32_t fd = (uint32_t)tmp_fd;
  genl_req_t req = {.cmd = CGROUPSTATS_CMD_GET,
                    .attr_type = CGROUPSTATS_CMD_ATTR_FD,
                    .data = &fd,
                    .len = sizeof(fd),
                    .maxattr = CGROUPSTATS_TYPE_MAX};
  genl_req_t reqs[3] = {req, req, req};
  int rcs[3] = {7, 7, 7};
  atomic_store(&truncate_next, true);
  CHECK_INT(genl_request_batch(reqs, 3, rcs), -EMSGSIZE);
  CHECK(rcs[0] == -EMSGSIZE && rcs[1] == -EMSGSIZE && rcs[2] == -EMSGSIZE);
  CHECK_INT(genl_open_sockets(), 0);
}

static void test_threads(void) {
  int fds_before = count_fds();
  int rc = genl_init();
  if (rc != 0) {
    TEST_SKIP_PART("test_cgroupstats: threaded queries: genl_init: %s", strerror(-rc));
    return;
  }
  CHECK_INT(genl_init(), 0); /* idempotent */
  CHECK(genl_family_id() > 0);
  tmp_fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    pthread_create(&t[i], NULL, query_thread, &thread_errors[i]);
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(thread_errors[i], 0);
  }
  /* Every thread's socket was closed when the thread exited. */
  CHECK_INT(genl_open_sockets(), 0);
  task_counts_t c;
  CHECK(cgroupstats_query(tmp_fd, &c) < 0);
  CHECK_INT(genl_open_sockets(), 1);
  test_truncated();
  CHECK(cgroupstats_query(tmp_fd, &c) < 0);
  CHECK_INT(genl_open_sockets(), 1);
  genl_thread_cleanup();
  CHECK_INT(genl_open_sockets(), 0);
  CHECK(cgroupstats_query(tmp_fd, &c) < 0); /* a new socket on demand */
  genl_shutdown();
  CHECK_INT(genl_open_sockets(), 0);
  CHECK_INT(cgroupstats_query(tmp_fd, &c), -ESHUTDOWN);
  close(tmp_fd);
  CHECK_INT(count_fds(), fds_before);
}

int main(void) {
  test_exact();
  test_shorter();
  test_longer();
  test_query_args();
  test_threads();
  return test_result("test_cgroupstats");
}
