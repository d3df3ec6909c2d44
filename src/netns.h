/* Per-interface counters read from a container's own network namespace.
 *
 * setns() changes only the calling thread, and collectd's read threads serve every plugin, so all
 * namespace switching happens on one worker thread owned by this module. A caller hands it a
 * batch of requests as one job (a thread wake-up costs more than the reads: one round trip per
 * batch, not per container). For each request the worker opens PROC_ROOT/PID/ns/net, enters it,
 * creates a NETLINK_ROUTE socket there, returns to the host namespace and closes the namespace fd
 * at once (an open fd would keep a dead container's namespace, its veth and addresses alive),
 * then dumps the links over the socket. No collectd calls here: messages go through the log
 * callback given to netns_init(). */
#ifndef CONTAINER_NETNS_H
#define CONTAINER_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Identity of a namespace: (st_dev, st_ino) of its nsfs inode. */
typedef struct {
  uint64_t dev, ino;
} netns_id_t;

static inline bool netns_id_equal(netns_id_t a, netns_id_t b) {
  return a.dev == b.dev && a.ino == b.ino;
}

typedef struct {
  char name[IF_NAMESIZE];
  int ifindex;
  uint64_t rx_bytes, tx_bytes;
  uint64_t rx_packets, tx_packets;
  uint64_t rx_errors, tx_errors;
  uint64_t rx_dropped, tx_dropped;
} netns_if_stats_t;

/* Status codes of netns_read(), netns_read_batch() and netns_identify(). Negative values are -errno
 * of some other failure; netns_result_t.errmsg then says which step failed. */
enum {
  NETNS_OK = 0,       /* ifs/n_ifs filled */
  NETNS_HOST = 1,     /* the container uses the host's namespace: it has no counters of its own */
  NETNS_NO_PID = 2,   /* no candidate PID is alive and still in the container: skip quietly */
  NETNS_SKIPPED = 3,  /* claim() declined this namespace (another container reports it) */
  NETNS_NOPERM = 4,   /* EPERM/EACCES: missing capability, see NETNS_PERM_HINT */
  NETNS_POISONED = 5, /* the worker could not return to the host namespace and gave up */
  NETNS_STOPPED = 6,  /* netns_init() not called, or netns_shutdown() under way */
};

#define NETNS_PERM_HINT                                                                            \
  "reading container network counters needs CAP_SYS_ADMIN (setns) and CAP_SYS_PTRACE (to open "    \
  "other processes' /proc/PID/ns/net)"

typedef void (*netns_log_fn)(int level, const char *msg); /* syslog levels (LOG_ERR...) */

typedef struct {
  const char *proc_root; /* "/proc", or the host's /proc mounted elsewhere */
  const pid_t *pids;     /* candidates, tried in order */
  size_t n_pids;
  /* Optional: called after PROC_ROOT/PID/ns/net is open, to reject a PID that exited and was
   * reused by a process outside the container (see proc_pid_in_cgroup()). */
  bool (*still_member)(pid_t pid, void *ctx);
  /* Optional: called with the namespace identity before entering it (not for the host
   * namespace). Returning false skips the read with NETNS_SKIPPED: lets a pod's namespace be
   * read once (netns_registry_see()). */
  bool (*claim)(netns_id_t id, void *ctx);
  void *ctx;
} netns_request_t;

/* Interfaces read per namespace, in the kernel's order (ifindex: lo and the first veth lead):
 * one namespace with thousands must not flood the writers (4 value lists an interface). */
#define NETNS_MAX_IFS 256

typedef struct {
  netns_id_t id;         /* set for NETNS_OK, NETNS_HOST, NETNS_SKIPPED */
  pid_t pid;             /* the PID whose namespace was used */
  netns_if_stats_t *ifs; /* NETNS_OK only; free with netns_result_free() */
  size_t n_ifs;
  size_t n_ifs_total; /* interfaces the namespace has: more than n_ifs when NETNS_MAX_IFS cut */
  char errmsg[256];   /* what failed, for NETNS_NOPERM, NETNS_POISONED and -errno */
} netns_result_t;

/* Saves the calling thread's network namespace as the host namespace and starts the worker.
 * Call once (from the plugin's init). Returns 0 or -errno. */
int netns_init(netns_log_fn log);

/* Stops and joins the worker, fails queued requests with NETNS_STOPPED, closes the host fd.
 * netns_init() may be called again afterwards. */
void netns_shutdown(void);

/* Reads the interface counters of n containers' namespaces on the worker thread, in order, as
 * one job; statuses[i] is the status of reqs[i]. Blocks; callable from several threads at once
 * (jobs are served one at a time). If the worker retires midway, its replacement serves the rest.
 * Every result is initialised; call netns_result_free() on each whatever its status. */
void netns_read_batch(const netns_request_t *reqs, netns_result_t *results, int *statuses,
                      size_t n);

/* netns_read_batch() of one request; returns its status. */
int netns_read(const netns_request_t *req, netns_result_t *res);

/* Only finds the namespace identity (open, check, fstat, close) on the calling thread: no setns.
 * Returns NETNS_OK, NETNS_HOST, NETNS_NO_PID, NETNS_NOPERM or -errno. */
int netns_identify(const netns_request_t *req, netns_result_t *res);

void netns_result_free(netns_result_t *res);

const char *netns_status_str(int status);

/* The host namespace saved by netns_init() (zeros before). */
netns_id_t netns_host_id(void);

/* Parses one RTM_NEWLINK message (a struct nlmsghdr and its payload, len bytes) into out: name,
 * ifindex and the 64-bit counters (IFLA_STATS64, else the 32-bit IFLA_STATS). Returns 0,
 * -ENOENT when the message has no name or no statistics, -EINVAL when malformed. Pure. */
int netns_parse_link(const void *msg, size_t len, netns_if_stats_t *out);

#endif
