/* Which container reports a shared network namespace (a Kubernetes pod's containers share one).
 * Pure and thread-safe: the glue tells it which namespace each container is in; it answers
 * whether that container is the one to read and report the namespace. */
#ifndef CONTAINER_NETNS_REGISTRY_H
#define CONTAINER_NETNS_REGISTRY_H

#include "netns.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct netns_registry netns_registry_t;

/* ttl: a member not seen for longer than this is dropped (with its namespace when it was the
 * last). Any monotonic unit works, as long as netns_registry_see() gets the same (cdtime_t). */
netns_registry_t *netns_registry_create(uint64_t ttl);
void netns_registry_destroy(netns_registry_t *reg);

/* Records that container cid is in namespace id at time now (moving it out of any namespace it
 * was in before), and returns true if cid reports that namespace. The reporter is stable while
 * it is seen; when it must be chosen (new namespace, or the reporter left or expired) it is the
 * lexicographically smallest container id seen within ttl. Returns false on out-of-memory. */
bool netns_registry_see(netns_registry_t *reg, netns_id_t id, const char *cid, uint64_t now);

/* Drops container cid at once (call it when the container goes away), so another member of its
 * namespace takes over at its next netns_registry_see(). */
void netns_registry_forget(netns_registry_t *reg, const char *cid);

/* Inspection, for tests and debug lines. */
size_t netns_registry_namespaces(netns_registry_t *reg);
/* Copies the reporter of id into buf; false if the namespace is unknown. */
bool netns_registry_owner(netns_registry_t *reg, netns_id_t id, char *buf, size_t size);

#endif
