#include "identify.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set at configuration, before any walk: read without a lock. */
static char containerd_state[PATH_MAX] = IDENTIFY_DEFAULT_CONTAINERD_STATE;

typedef struct {
  const char *s;
  size_t n;
} elem_t;

static bool elem_is(elem_t e, const char *lit) {
  size_t l = strlen(lit);
  return e.n == l && memcmp(e.s, lit, l) == 0;
}

static bool mem_contains(const char *s, size_t n, const char *lit) {
  size_t l = strlen(lit);
  for (size_t i = 0; i + l <= n; i++)
    if (memcmp(s + i, lit, l) == 0)
      return true;
  return false;
}

/* e == prefix + mid + suffix with a non-empty mid. */
static bool strip_affix(elem_t e, const char *prefix, const char *suffix, elem_t *mid) {
  size_t lp = strlen(prefix), ls = strlen(suffix);
  if (e.n <= lp + ls || memcmp(e.s, prefix, lp) != 0 || memcmp(e.s + e.n - ls, suffix, ls) != 0)
    return false;
  mid->s = e.s + lp;
  mid->n = e.n - lp - ls;
  return true;
}

static bool hex64(elem_t e) {
  return e.n == CONTAINER_HEX_ID_LEN && is_hex(e.s, e.n);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* systemd unit-name unescaping ("\x2d" -> '-'). False if it does not fit or yields NUL. */
static bool unescape(char *dst, size_t size, elem_t e) {
  size_t o = 0;
  for (size_t i = 0; i < e.n; i++) {
    char c = e.s[i];
    if (c == '\\' && i + 3 < e.n && e.s[i + 1] == 'x' && hexval(e.s[i + 2]) >= 0 &&
        hexval(e.s[i + 3]) >= 0) {
      c = (char)(hexval(e.s[i + 2]) * 16 + hexval(e.s[i + 3]));
      i += 3;
    }
    if (c == '\0' || o + 1 >= size)
      return false;
    dst[o++] = c;
  }
  dst[o] = '\0';
  return o > 0;
}

static bool copy_elem(char *dst, size_t size, elem_t e) {
  if (e.n == 0 || e.n >= size)
    return false;
  memcpy(dst, e.s, e.n);
  dst[e.n] = '\0';
  return true;
}

/* Pod UID from a pod cgroup element: "pod<uid>" (cgroupfs) or "<...>-pod<uid>.slice" (systemd,
 * where the UID's '-' became '_' or "\x2d"). */
static bool parse_pod(elem_t e, char *uid, size_t size) {
  elem_t u;
  elem_t stem;
  if (strip_affix(e, "", ".slice", &stem)) {
    const char *dash = NULL;
    for (size_t i = 0; i < stem.n; i++)
      if (stem.s[i] == '-')
        dash = stem.s + i;
    elem_t last = dash ? (elem_t){dash + 1, stem.n - (size_t)(dash + 1 - stem.s)} : stem;
    if (!strip_affix(last, "pod", "", &u))
      return false;
  } else if (!strip_affix(e, "pod", "", &u)) {
    return false;
  }
  if (!unescape(uid, size, u))
    return false;
  for (char *p = uid; *p; p++) {
    if (*p == '_')
      *p = '-';
    else if (hexval(*p) < 0 && *p != '-')
      return false;
  }
  return true;
}

typedef struct {
  bool kubernetes;
  bool prev_is_pod;
  unsigned depth; /* path elements before the current one */
  char pod_uid[CONTAINER_UID_SIZE];
  elem_t prev;
} scan_t;

static bool set_hex(container_ident_t *out, container_runtime_t rt, elem_t id, elem_t top) {
  if (!copy_elem(out->id, sizeof(out->id), id) || !copy_elem(out->name, sizeof(out->name), top))
    return false;
  out->runtime = rt;
  out->hex_id = true;
  return true;
}

static bool set_named(container_ident_t *out, container_runtime_t rt, elem_t name, bool esc) {
  bool ok = esc ? unescape(out->name, sizeof(out->name), name)
                : copy_elem(out->name, sizeof(out->name), name);
  if (!ok)
    return false;
  memcpy(out->id, out->name, strlen(out->name) + 1);
  out->runtime = rt;
  out->hex_id = false;
  return true;
}

/* "<parent>.slice:<runtime>:<id>": how the v1 systemd driver's paths look in cgroupfs. */
static bool match_colon(elem_t e, container_ident_t *out) {
  const char *c1 = memchr(e.s, ':', e.n);
  if (!c1)
    return false;
  const char *c2 = memchr(c1 + 1, ':', e.n - (size_t)(c1 + 1 - e.s));
  if (!c2)
    return false;
  elem_t slice = {e.s, (size_t)(c1 - e.s)};
  elem_t kind = {c1 + 1, (size_t)(c2 - c1 - 1)};
  elem_t id = {c2 + 1, e.n - (size_t)(c2 + 1 - e.s)};
  container_runtime_t rt;
  if (elem_is(kind, "cri-containerd"))
    rt = CT_RUNTIME_CONTAINERD;
  else if (elem_is(kind, "crio"))
    rt = CT_RUNTIME_CRIO;
  else if (elem_is(kind, "docker"))
    rt = CT_RUNTIME_DOCKER;
  else
    return false;
  elem_t stem;
  if (!hex64(id) || !strip_affix(slice, "", ".slice", &stem) || !set_hex(out, rt, id, e))
    return false;
  if (mem_contains(slice.s, slice.n, "kubepods")) {
    out->kubernetes = true;
    if (!parse_pod(slice, out->pod_uid, sizeof(out->pod_uid)))
      out->pod_uid[0] = '\0';
  }
  return true;
}

/* "<ns>/<id>" at the root is what `ctr run` (and nerdctl with cgroupfs) makes; it is a container
 * only when containerd has a task bundle for it, i.e. STATE/io.containerd.runtime.v2.task/<ns>/<id>
 * exists: any other two-level cgroup (system.slice/cron.service, machine/qemu-1) is not. */
static bool match_containerd_task(elem_t ns, elem_t id, container_ident_t *out) {
  char path[PATH_MAX];
  if (containerd_state[0] == '\0' || ns.n + 1 + id.n >= sizeof(out->id) ||
      memchr(ns.s, '\0', ns.n) || memchr(id.s, '\0', id.n))
    return false;
  int n = snprintf(path, sizeof(path), "%s/io.containerd.runtime.v2.task/%.*s/%.*s",
                   containerd_state, (int)ns.n, ns.s, (int)id.n, id.s);
  if (n < 0 || (size_t)n >= sizeof(path) || faccessat(AT_FDCWD, path, F_OK, 0) != 0)
    return false;
  snprintf(out->id, sizeof(out->id), "%.*s/%.*s", (int)ns.n, ns.s, (int)id.n, id.s);
  if (!copy_elem(out->name, sizeof(out->name), id))
    return false;
  out->runtime = CT_RUNTIME_CONTAINERD;
  out->hex_id = false; /* the key holds the namespace */
  return true;
}

static bool match_container(elem_t e, const scan_t *st, container_ident_t *out) {
  elem_t mid;
  bool found = false;

  if (st->prev_is_pod && hex64(e))
    found = set_hex(out, CT_RUNTIME_KUBERNETES, e, e);
  else if (st->prev_is_pod && strip_affix(e, "crio-", "", &mid) && hex64(mid))
    found = set_hex(out, CT_RUNTIME_CRIO, mid, e);
  else if (elem_is(st->prev, "docker") && hex64(e))
    found = set_hex(out, CT_RUNTIME_DOCKER, e, e);
  else if (strip_affix(e, "docker-", ".scope", &mid) && hex64(mid))
    found = set_hex(out, CT_RUNTIME_DOCKER, mid, e);
  else if (strip_affix(e, "cri-containerd-", ".scope", &mid) && hex64(mid))
    found = set_hex(out, CT_RUNTIME_CONTAINERD, mid, e);
  else if (strip_affix(e, "nerdctl-", ".scope", &mid) && hex64(mid))
    found = set_hex(out, CT_RUNTIME_CONTAINERD, mid, e);
  else if (strip_affix(e, "crio-", ".scope", &mid) && hex64(mid))
    found = set_hex(out, CT_RUNTIME_CRIO, mid, e);
  else if ((strip_affix(e, "libpod-", ".scope", &mid) && hex64(mid)) ||
           (strip_affix(e, "libpod-", "", &mid) && hex64(mid)) ||
           (strip_affix(e, "libpod-payload-", "", &mid) && hex64(mid)))
    found = set_hex(out, CT_RUNTIME_PODMAN, mid, e);
  else if ((elem_is(st->prev, "lxc") || elem_is(st->prev, "lxc.payload")) && e.n > 0)
    found = set_named(out, CT_RUNTIME_LXC, e, false);
  else if (strip_affix(e, "lxc.payload.", "", &mid))
    found = set_named(out, CT_RUNTIME_LXC, mid, false);
  else if (strip_affix(e, "systemd-nspawn@", ".service", &mid))
    found = set_named(out, CT_RUNTIME_NSPAWN, mid, true);
  else if (elem_is(st->prev, "machine.slice") && strip_affix(e, "machine-", ".scope", &mid))
    found = set_named(out, CT_RUNTIME_MACHINE, mid, true);
  else if (match_colon(e, out))
    return true;
  else if (st->depth == 1 && !st->kubernetes && match_containerd_task(st->prev, e, out))
    return true;

  if (!found)
    return false;
  if (st->kubernetes) {
    out->kubernetes = true;
    if (st->prev_is_pod)
      memcpy(out->pod_uid, st->pod_uid, sizeof(out->pod_uid));
  }
  return true;
}

static bool skippable(elem_t e) {
  return e.n == 0 || elem_is(e, ".") || elem_is(e, "..");
}

int container_identify_set_containerd_state(const char *dir) {
  if (dir == NULL)
    dir = IDENTIFY_DEFAULT_CONTAINERD_STATE;
  size_t n = strlen(dir);
  if (n >= sizeof(containerd_state))
    return -ENAMETOOLONG;
  memcpy(containerd_state, dir, n + 1);
  return 0;
}

const char *container_identify_containerd_state(void) {
  return containerd_state;
}

bool container_identify(const char *relpath, container_ident_t *out) {
  static const char deleted[] = " (deleted)";
  memset(out, 0, sizeof(*out));
  if (relpath == NULL)
    return false;
  size_t len = strlen(relpath);
  if (len >= sizeof(deleted) - 1 && strcmp(relpath + len - (sizeof(deleted) - 1), deleted) == 0)
    len -= sizeof(deleted) - 1;

  scan_t st = {0};
  size_t pos = 0;
  while (pos < len) {
    size_t start = pos;
    while (pos < len && relpath[pos] != '/')
      pos++;
    elem_t e = {relpath + start, pos - start};
    if (pos < len)
      pos++;
    if (skippable(e))
      continue;

    if (match_container(e, &st, out)) {
      out->top_len = start + e.n;
      out->is_top = true;
      for (size_t p = out->top_len; p < len;) {
        size_t s = p;
        while (p < len && relpath[p] != '/')
          p++;
        elem_t rest = {relpath + s, p - s};
        if (rest.n > 0 && !elem_is(rest, "."))
          out->is_top = false;
        if (p < len)
          p++;
      }
      return true;
    }
    memset(out, 0, sizeof(*out));

    if (mem_contains(e.s, e.n, "kubepods"))
      st.kubernetes = true;
    st.prev_is_pod = st.kubernetes && parse_pod(e, st.pod_uid, sizeof(st.pod_uid));
    st.prev = e;
    st.depth++;
  }
  return false;
}

const char *container_runtime_name(container_runtime_t rt) {
  switch (rt) {
  case CT_RUNTIME_DOCKER:
    return "docker";
  case CT_RUNTIME_CONTAINERD:
    return "containerd";
  case CT_RUNTIME_CRIO:
    return "crio";
  case CT_RUNTIME_KUBERNETES:
    return "kubernetes";
  case CT_RUNTIME_PODMAN:
    return "podman";
  case CT_RUNTIME_LXC:
    return "lxc";
  case CT_RUNTIME_NSPAWN:
    return "systemd-nspawn";
  case CT_RUNTIME_MACHINE:
    return "machine";
  case CT_RUNTIME_NONE:
    break;
  }
  return "";
}
