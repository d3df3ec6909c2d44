#include "netns_registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *cid;
  uint64_t last_seen;
} member_t;

typedef struct {
  netns_id_t id;
  char *owner; /* a copy: members move on realloc */
  member_t *members;
  size_t n_members, cap_members;
} entry_t;

/* Container -> namespace, so a container that changes namespace leaves the old one. */
typedef struct {
  char *cid;
  netns_id_t id;
} where_t;

struct netns_registry {
  pthread_mutex_t lock;
  uint64_t ttl, last_sweep;
  entry_t *entries; /* sorted by (dev, ino) */
  size_t n_entries, cap_entries;
  where_t *where; /* sorted by cid */
  size_t n_where, cap_where;
};

static int id_cmp(netns_id_t a, netns_id_t b) {
  if (a.dev != b.dev)
    return a.dev < b.dev ? -1 : 1;
  if (a.ino != b.ino)
    return a.ino < b.ino ? -1 : 1;
  return 0;
}

/* Lower bound: index of the first entry >= id; *found if equal. */
static size_t entry_find(const netns_registry_t *r, netns_id_t id, bool *found) {
  size_t lo = 0, hi = r->n_entries;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (id_cmp(r->entries[mid].id, id) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < r->n_entries && id_cmp(r->entries[lo].id, id) == 0;
  return lo;
}

static size_t where_find(const netns_registry_t *r, const char *cid, bool *found) {
  size_t lo = 0, hi = r->n_where;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(r->where[mid].cid, cid) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < r->n_where && strcmp(r->where[lo].cid, cid) == 0;
  return lo;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap)
    return true;
  size_t ncap = *cap ? 2 * *cap : 8;
  void *p = realloc(*arr, ncap * elem);
  if (p == NULL)
    return false;
  *arr = p;
  *cap = ncap;
  return true;
}

static void where_remove(netns_registry_t *r, const char *cid) {
  bool found;
  size_t i = where_find(r, cid, &found);
  if (!found)
    return;
  free(r->where[i].cid);
  memmove(&r->where[i], &r->where[i + 1], (r->n_where - i - 1) * sizeof(where_t));
  r->n_where--;
}

static void entry_free(entry_t *e) {
  for (size_t i = 0; i < e->n_members; i++)
    free(e->members[i].cid);
  free(e->members);
  free(e->owner);
}

static void entry_remove(netns_registry_t *r, size_t i) {
  entry_free(&r->entries[i]);
  memmove(&r->entries[i], &r->entries[i + 1], (r->n_entries - i - 1) * sizeof(entry_t));
  r->n_entries--;
}

static void member_remove(netns_registry_t *r, entry_t *e, size_t m) {
  where_remove(r, e->members[m].cid);
  free(e->members[m].cid);
  e->members[m] = e->members[--e->n_members];
}

/* Drops members of e not seen within ttl, except keep (may be NULL). */
static void entry_expire(netns_registry_t *r, entry_t *e, const char *keep, uint64_t now) {
  for (size_t m = 0; m < e->n_members;) {
    member_t *mb = &e->members[m];
    bool stale = now > mb->last_seen && now - mb->last_seen > r->ttl;
    if (stale && (keep == NULL || strcmp(mb->cid, keep) != 0))
      member_remove(r, e, m);
    else
      m++;
  }
}

static bool entry_has(const entry_t *e, const char *cid) {
  for (size_t m = 0; m < e->n_members; m++)
    if (strcmp(e->members[m].cid, cid) == 0)
      return true;
  return false;
}

/* Keeps the owner while it is a member; otherwise picks the smallest member id. */
static bool entry_choose_owner(entry_t *e) {
  if (e->owner != NULL && entry_has(e, e->owner))
    return true;
  const char *best = NULL;
  for (size_t m = 0; m < e->n_members; m++)
    if (best == NULL || strcmp(e->members[m].cid, best) < 0)
      best = e->members[m].cid;
  free(e->owner);
  e->owner = best ? strdup(best) : NULL;
  return best == NULL || e->owner != NULL;
}

static void sweep(netns_registry_t *r, uint64_t now) {
  for (size_t i = 0; i < r->n_entries;) {
    entry_expire(r, &r->entries[i], NULL, now);
    if (r->entries[i].n_members == 0)
      entry_remove(r, i);
    else
      i++;
  }
  r->last_sweep = now;
}

/* Takes cid out of namespace id (dropping the namespace when it empties). */
static void leave(netns_registry_t *r, netns_id_t id, const char *cid) {
  bool found;
  size_t i = entry_find(r, id, &found);
  if (!found)
    return;
  entry_t *e = &r->entries[i];
  for (size_t m = 0; m < e->n_members; m++) {
    if (strcmp(e->members[m].cid, cid) == 0) {
      member_remove(r, e, m);
      break;
    }
  }
  if (e->n_members == 0)
    entry_remove(r, i);
}

netns_registry_t *netns_registry_create(uint64_t ttl) {
  netns_registry_t *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return NULL;
  pthread_mutex_init(&r->lock, NULL);
  r->ttl = ttl;
  return r;
}

void netns_registry_destroy(netns_registry_t *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_entries; i++)
    entry_free(&r->entries[i]);
  for (size_t i = 0; i < r->n_where; i++)
    free(r->where[i].cid);
  free(r->entries);
  free(r->where);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

static bool see_locked(netns_registry_t *r, netns_id_t id, const char *cid, uint64_t now) {
  /* Sweeping at most every ttl/2 keeps a call O(log n) in the common case. */
  if (now < r->last_sweep || now - r->last_sweep >= r->ttl / 2)
    sweep(r, now);

  bool found;
  size_t w = where_find(r, cid, &found);
  if (found && id_cmp(r->where[w].id, id) != 0) {
    leave(r, r->where[w].id, cid); /* also drops the where_t row */
    w = where_find(r, cid, &found);
  }
  if (!found) {
    if (!grow((void **)&r->where, &r->cap_where, r->n_where, sizeof(where_t)))
      return false;
    char *copy = strdup(cid);
    if (copy == NULL)
      return false;
    memmove(&r->where[w + 1], &r->where[w], (r->n_where - w) * sizeof(where_t));
    r->where[w] = (where_t){.cid = copy, .id = id};
    r->n_where++;
  }

  size_t i = entry_find(r, id, &found);
  if (!found) {
    if (!grow((void **)&r->entries, &r->cap_entries, r->n_entries, sizeof(entry_t)))
      goto fail;
    memmove(&r->entries[i + 1], &r->entries[i], (r->n_entries - i) * sizeof(entry_t));
    r->entries[i] = (entry_t){.id = id};
    r->n_entries++;
  }
  entry_t *e = &r->entries[i];
  member_t *mb = NULL;
  for (size_t m = 0; m < e->n_members && mb == NULL; m++)
    if (strcmp(e->members[m].cid, cid) == 0)
      mb = &e->members[m];
  if (mb == NULL) {
    char *copy = strdup(cid);
    if (copy == NULL ||
        !grow((void **)&e->members, &e->cap_members, e->n_members, sizeof(member_t))) {
      free(copy);
      goto fail;
    }
    mb = &e->members[e->n_members++];
    mb->cid = copy;
  }
  mb->last_seen = now;
  entry_expire(r, e, cid, now);
  if (!entry_choose_owner(e))
    return false;
  return e->owner != NULL && strcmp(e->owner, cid) == 0;

fail:
  /* Keep the two indexes consistent: cid is in no namespace. */
  i = entry_find(r, id, &found);
  if (found && r->entries[i].n_members == 0)
    entry_remove(r, i);
  where_remove(r, cid);
  return false;
}

bool netns_registry_see(netns_registry_t *r, netns_id_t id, const char *cid, uint64_t now) {
  pthread_mutex_lock(&r->lock);
  bool owner = see_locked(r, id, cid, now);
  pthread_mutex_unlock(&r->lock);
  return owner;
}

void netns_registry_forget(netns_registry_t *r, const char *cid) {
  pthread_mutex_lock(&r->lock);
  bool found;
  size_t w = where_find(r, cid, &found);
  if (found)
    leave(r, r->where[w].id, cid);
  pthread_mutex_unlock(&r->lock);
}

size_t netns_registry_namespaces(netns_registry_t *r) {
  pthread_mutex_lock(&r->lock);
  size_t n = r->n_entries;
  pthread_mutex_unlock(&r->lock);
  return n;
}

bool netns_registry_owner(netns_registry_t *r, netns_id_t id, char *buf, size_t size) {
  pthread_mutex_lock(&r->lock);
  bool found;
  size_t i = entry_find(r, id, &found);
  bool ok = found && r->entries[i].owner != NULL && size > 0;
  if (ok) {
    strncpy(buf, r->entries[i].owner, size - 1);
    buf[size - 1] = '\0';
  }
  pthread_mutex_unlock(&r->lock);
  return ok;
}
