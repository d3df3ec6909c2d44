/* A small generic-netlink client for the kernel's TASKSTATS family (taskstats and cgroupstats
 * commands), on libnl-genl-3. No collectd calls.
 *
 * Threads: the family id is resolved once (genl_init) and shared; every thread that sends a
 * request gets its own netlink socket, created on first use and closed when the thread exits,
 * by genl_thread_cleanup(), or by genl_shutdown(). Requests therefore never wait on a lock held by
 * another thread's netlink round trip.
 *
 * Errors are -errno: -ENOENT (family missing: no CONFIG_TASKSTATS), -EPERM, -EINVAL (the kernel
 * refused the request), -ETIMEDOUT (no answer within GENL_TIMEOUT_MS), -ENOMEM, -ESHUTDOWN
 * (genl_init not called, or after genl_shutdown). */
#ifndef CONTAINER_GENL_H
#define CONTAINER_GENL_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

/* A request, or a batch of up to GENL_BATCH, fails with -ETIMEDOUT when its answers are not all
 * in this long after it was sent. The kernel answers while the request is sent; it stays silent
 * only for some malformed requests. */
#define GENL_TIMEOUT_MS 1000

/* Largest attribute payload of a request: the TASKSTATS commands take a u32 (a PID, a TGID, a
 * file descriptor). Requests are built on the stack. */
#define GENL_MAX_PAYLOAD 16

/* Most requests sent with one sendmmsg. The kernel answers each request while it is sent, so
 * all the replies of a batch sit in the socket's receive buffer before the first is read; one
 * that does not fit is dropped (ENOBUFS). Each socket therefore gets an explicit receive buffer
 * (GENL_RCVBUF, forced past rmem_max where CAP_NET_ADMIN allows) and batches no more requests
 * than that buffer holds at GENL_REPLY_COST each (getsockopt(SO_RCVBUF)); replies lost all the
 * same are asked for again (see genl_request_batch). */
#define GENL_BATCH 64

/* What one reply costs in the receive buffer's accounting (the skb's truesize), with a margin: a
 * taskstats v16 reply takes about 1.3 KiB (a 64 KiB buffer held 51 of them). */
#define GENL_REPLY_COST 2048

/* The receive buffer asked for: GENL_BATCH replies at GENL_REPLY_COST (the kernel doubles the
 * value for its bookkeeping, which leaves a further margin). libnl's default is 32 KiB. */
#define GENL_RCVBUF (GENL_BATCH * GENL_REPLY_COST)

/* Resolves the TASKSTATS family id. Thread-safe and idempotent: later calls return the cached
 * result; a failed resolution is retried on the next call (the module may be loaded later). */
int genl_init(void);

/* The resolved family id, or -ESHUTDOWN before genl_init succeeded. */
int genl_family_id(void);

/* Called once per reply message with the message's top-level attributes, parsed and validated
 * against the caller's policy (tb has maxattr+1 entries; absent attributes are NULL). Returns 0
 * or -errno; an error is what genl_request returns (after the exchange has been drained). */
typedef int (*genl_reply_cb)(struct nlattr **tb, void *arg);

typedef struct {
  uint8_t cmd;                     /* e.g. CGROUPSTATS_CMD_GET, TASKSTATS_CMD_GET */
  uint16_t attr_type;              /* e.g. CGROUPSTATS_CMD_ATTR_FD, TASKSTATS_CMD_ATTR_PID */
  const void *data;                /* attribute payload (NULL with len 0 sends no attribute) */
  size_t len;                      /* at most GENL_MAX_PAYLOAD */
  int maxattr;                     /* highest reply attribute type the policy covers */
  const struct nla_policy *policy; /* maxattr+1 entries, or NULL for no validation */
  genl_reply_cb cb;                /* may be NULL: the reply is then only waited for */
  void *arg;
} genl_req_t;

/* Sends one GET request (a command the kernel answers with one message or an error; no
 * NLM_F_ACK, which would cost a second message per request) on the calling thread's socket
 * and waits (bounded) for the reply: genl_request_batch with n = 1. Returns 0, the kernel's
 * -errno, the callback's -errno, -ETIMEDOUT, or -EINVAL (a bad request, e.g. a payload over
 * GENL_MAX_PAYLOAD: nothing sent). After a timeout or a transport error the thread's socket is
 * discarded, so a late reply can never be mistaken for the answer to the next request. */
int genl_request(const genl_req_t *req);

/* Sends n GET requests in batches (at most GENL_BATCH, and no more than the socket's receive
 * buffer holds) with one sendmmsg each, their replies read with recvmmsg, instead of a send and
 * a receive per request. rcs[i] gets what genl_request would return for reqs[i]; each reply goes
 * to its own callback. When the receive buffer overflowed all the same (ENOBUFS), every reply
 * the kernel did queue is read, exactly the requests whose replies were dropped are sent again
 * and the socket's batch size shrinks to what fitted; a request is answered -ENOBUFS only when
 * two rounds in a row got no reply at all. Returns 0, -EINVAL (a bad request: nothing sent),
 * -ESHUTDOWN, -ENOBUFS, or the transport error that ended the exchange (the socket is then
 * discarded, as by genl_request); every rcs[i] is set in all cases (rcs must not be NULL). */
int genl_request_batch(const genl_req_t *reqs, size_t n, int *rcs);

/* Convenience for the common case: a single u32 attribute (a PID, a TGID, or a file
 * descriptor). */
int genl_request_u32(uint8_t cmd, uint16_t attr_type, uint32_t value, int maxattr,
                     const struct nla_policy *policy, genl_reply_cb cb, void *arg);

/* Closes the calling thread's socket (if any). Safe to call any time; the next request opens a
 * new one. */
void genl_thread_cleanup(void);

/* Closes every thread's socket and forgets the family id. Call only when no other thread is
 * inside genl_request (collectd stops its read threads before calling shutdown callbacks).
 * genl_init may be called again afterwards. */
void genl_shutdown(void);

#endif
