/* CGROUPSTATS_CMD_GET over genl.c: see cgroupstats.h. */
#include "cgroupstats.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <linux/cgroupstats.h>

#include "genl.h"

int cgroupstats_parse(const void *payload, size_t len, task_counts_t *out) {
  if (payload == NULL && len > 0)
    return -EINVAL;
  struct cgroupstats cs;
  memset(&cs, 0, sizeof(cs));
  /* Whole fields only: a torn field would be garbage, a missing one reads 0. */
  size_t n = len / sizeof(uint64_t);
  if (n > sizeof(cs) / sizeof(uint64_t))
    n = sizeof(cs) / sizeof(uint64_t);
  if (n > 0)
    memcpy(&cs, payload, n * sizeof(uint64_t));
  out->sleeping = cs.nr_sleeping;
  out->running = cs.nr_running;
  out->stopped = cs.nr_stopped;
  out->uninterruptible = cs.nr_uninterruptible;
  out->iowait = cs.nr_io_wait;
  return (int)n;
}

/* minlen, not an exact length: older or newer kernels may send fewer or more fields. */
static const struct nla_policy reply_policy[CGROUPSTATS_TYPE_MAX + 1] = {
    [CGROUPSTATS_TYPE_CGROUP_STATS] = {.type = NLA_UNSPEC, .minlen = sizeof(uint64_t)},
};

typedef struct {
  task_counts_t *out;
  bool got;
} reply_ctx_t;

static int on_reply(struct nlattr **tb, void *arg) {
  reply_ctx_t *ctx = arg;
  const struct nlattr *a = tb[CGROUPSTATS_TYPE_CGROUP_STATS];
  if (a == NULL)
    return -EBADMSG;
  int n = cgroupstats_parse(nla_data(a), (size_t)nla_len(a), ctx->out);
  if (n < 0)
    return n;
  ctx->got = true;
  return 0;
}

int cgroupstats_query(int cgroup_dirfd, task_counts_t *out) {
  if (cgroup_dirfd < 0)
    return -EBADF;
  task_counts_t c = {0};
  reply_ctx_t ctx = {.out = &c, .got = false};
  int rc = genl_request_u32(CGROUPSTATS_CMD_GET, CGROUPSTATS_CMD_ATTR_FD, (uint32_t)cgroup_dirfd,
                            CGROUPSTATS_TYPE_MAX, reply_policy, on_reply, &ctx);
  if (rc)
    return rc;
  if (!ctx.got)
    return -ENODATA;
  *out = c;
  return 0;
}
