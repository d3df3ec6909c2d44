#include "names.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_NAME_SIZE (3 * NAMES_K8S_FIELD_LEN)

typedef struct entry {
  struct entry *next;
  container_runtime_t runtime;
  char id[CONTAINER_ID_SIZE];
  container_names_t names;
  unsigned attempts;
} entry_t;

typedef struct {
  char docker_root[PATH_MAX];
  char k8s_log_dir[PATH_MAX];
  char podman_json[PATH_MAX];
  char containerd_state[PATH_MAX];
} config_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *cache;
static size_t cache_len;
static config_t config = {NAMES_DEFAULT_DOCKER_ROOT, NAMES_DEFAULT_K8S_LOG_DIR,
                          NAMES_DEFAULT_PODMAN_JSON, IDENTIFY_DEFAULT_CONTAINERD_STATE};

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max) {
  size_t len = strlen(s);
  if (len <= max)
    return;
  len = max;
  while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
    len--;
  s[len] = '\0';
}

void names_fit(char dst[NAME_MAX_LEN], const char *src) {
  char tmp[RAW_NAME_SIZE];
  sanitize_name(tmp, src, sizeof(tmp));
  cut_utf8(tmp, NAME_MAX_LEN - 1);
  memcpy(dst, tmp, strlen(tmp) + 1);
}

/* Notes are for logs: cutting a long path short is fine. */
__attribute__((format(printf, 2, 3))) static void set_note(container_names_t *out, const char *fmt,
                                                           ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->note, sizeof(out->note), fmt, ap);
  va_end(ap);
}

static void copy_field(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

static const char *json_str(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int docker_extract(json_t *root, docker_info_t *out) {
  memset(out, 0, sizeof(*out));
  if (!json_is_object(root))
    return -ENODATA;
  const char *name = json_str(root, "Name");
  if (name) {
    while (*name == '/')
      name++;
    copy_field(out->name, sizeof(out->name), name);
  }
  json_t *labels = json_object_get(json_object_get(root, "Config"), "Labels");
  if (json_is_object(labels)) {
    copy_field(out->k8s_namespace, sizeof(out->k8s_namespace),
               json_str(labels, "io.kubernetes.pod.namespace"));
    copy_field(out->k8s_pod, sizeof(out->k8s_pod), json_str(labels, "io.kubernetes.pod.name"));
    copy_field(out->k8s_container, sizeof(out->k8s_container),
               json_str(labels, "io.kubernetes.container.name"));
  }
  bool k8s = out->k8s_namespace[0] && out->k8s_pod[0] && out->k8s_container[0];
  return (out->name[0] || k8s) ? 0 : -ENODATA;
}

static void json_err(char *err, size_t errlen, const json_error_t *je) {
  if (err && errlen)
    snprintf(err, errlen, "line %d column %d: %s", je->line, je->column, je->text);
}

int names_parse_docker_config(const char *text, size_t len, docker_info_t *out, char *err,
                              size_t errlen) {
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  if (!root) {
    memset(out, 0, sizeof(*out));
    json_err(err, errlen, &je);
    return -EINVAL;
  }
  int rc = docker_extract(root, out);
  json_decref(root);
  return rc;
}

static int podman_extract(json_t *root, const char *id, char *name, size_t size) {
  size_t i;
  json_t *c;
  if (!json_is_array(root))
    return -EINVAL;
  json_array_foreach(root, i, c) {
    const char *cid = json_str(c, "id");
    if (!cid || strcmp(cid, id) != 0)
      continue;
    json_t *first = json_array_get(json_object_get(c, "names"), 0);
    if (!json_is_string(first) || json_string_length(first) == 0)
      return -ENOENT;
    copy_field(name, size, json_string_value(first));
    return 0;
  }
  return -ENOENT;
}

int names_parse_podman_json(const char *text, size_t len, const char *id, char *name, size_t size,
                            char *err, size_t errlen) {
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  if (!root) {
    json_err(err, errlen, &je);
    return -EINVAL;
  }
  int rc = podman_extract(root, id, name, size);
  if (rc == -EINVAL && err && errlen)
    snprintf(err, errlen, "not a JSON array");
  json_decref(root);
  return rc;
}

bool names_parse_k8s_log(const char *filename, const char *id, char *ns, char *pod, char *container,
                         size_t size) {
  static const char ext[] = ".log";
  size_t len = strlen(filename), idl = CONTAINER_HEX_ID_LEN, el = sizeof(ext) - 1;
  if (len < idl + el + 1 + 5 || strcmp(filename + len - el, ext) != 0)
    return false;
  const char *fid = filename + len - el - idl;
  if (fid[-1] != '-' || !is_hex(fid, idl) || strncmp(fid, id, idl) != 0 || id[idl] != '\0')
    return false;
  /* <pod>_<namespace>_<container>: none of the three may contain '_'. */
  size_t rest = (size_t)(fid - 1 - filename);
  const char *u1 = memchr(filename, '_', rest);
  if (!u1)
    return false;
  const char *u2 = memchr(u1 + 1, '_', rest - (size_t)(u1 + 1 - filename));
  if (!u2 || memchr(u2 + 1, '_', rest - (size_t)(u2 + 1 - filename)))
    return false;
  size_t lp = (size_t)(u1 - filename), ln = (size_t)(u2 - u1 - 1),
         lc = (size_t)(fid - 1 - (u2 + 1));
  if (lp == 0 || ln == 0 || lc == 0 || lp >= size || ln >= size || lc >= size)
    return false;
  snprintf(pod, size, "%.*s", (int)lp, filename);
  snprintf(ns, size, "%.*s", (int)ln, u1 + 1);
  snprintf(container, size, "%.*s", (int)lc, u2 + 1);
  return true;
}

static int k8s_log_lookup(const char *dir, const char *id, container_names_t *out) {
  DIR *d = opendir(dir);
  if (!d) {
    int err = errno;
    set_note(out, "%s: %s", dir, strerror(err));
    return -err;
  }
  int rc = -ENOENT;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (names_parse_k8s_log(de->d_name, id, out->k8s_namespace, out->k8s_pod, out->k8s_container,
                            NAMES_K8S_FIELD_LEN)) {
      rc = 0;
      break;
    }
  }
  closedir(d);
  if (rc)
    set_note(out, "%s: no log symlink for %.12s", dir, id);
  return rc;
}

/* The JSON file at path, or NULL with the note filled and *err set (-ENOENT: no such file). */
static json_t *load_json(const char *path, container_names_t *out, int *err) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) {
    set_note(out, "%s: %s", path, je.text);
    *err = json_error_code(&je) == json_error_cannot_open_file ? -ENOENT : -EINVAL;
  }
  return j;
}

/* Returns 0 when a name came out of config.v2.json, else a negative errno (note filled). */
static int docker_lookup(const char *root, const char *id, container_names_t *out, char *raw) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", root, id) >=
      (int)sizeof(path))
    return -ENAMETOOLONG;
  int rc;
  json_t *j = load_json(path, out, &rc);
  if (!j)
    return rc;
  docker_info_t info;
  rc = docker_extract(j, &info);
  json_decref(j);
  if (rc) {
    set_note(out, "%s: no Name", path);
    return rc;
  }
  if (info.k8s_namespace[0] && info.k8s_pod[0] && info.k8s_container[0]) {
    memcpy(out->k8s_namespace, info.k8s_namespace, sizeof(out->k8s_namespace));
    memcpy(out->k8s_pod, info.k8s_pod, sizeof(out->k8s_pod));
    memcpy(out->k8s_container, info.k8s_container, sizeof(out->k8s_container));
    out->source = "docker-labels";
  } else {
    snprintf(raw, RAW_NAME_SIZE, "%s", info.name);
    out->source = "docker";
  }
  return 0;
}

static int podman_lookup(const char *path, const char *id, container_names_t *out, char *raw) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) {
    set_note(out, "%s: %s", path, je.text);
    return -EINVAL;
  }
  int rc = podman_extract(j, id, raw, RAW_NAME_SIZE);
  json_decref(j);
  if (rc)
    set_note(out, "%s: no name for %.12s", path, id);
  else
    out->source = "podman";
  return rc;
}

/* A containerd task's OCI spec (config.json in its bundle, key "<ns>/<id>"): nerdctl copies its
 * labels into the annotations, so "nerdctl/name" is the name `nerdctl ps` shows. 0 with raw
 * filled, -ENODATA when the spec has no such annotation (`ctr run`), else a negative errno. */
static int containerd_lookup(const char *state, const char *key, container_names_t *out,
                             char *raw) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/io.containerd.runtime.v2.task/%s/config.json", state, key) >=
      (int)sizeof(path))
    return -ENAMETOOLONG;
  int rc;
  json_t *j = load_json(path, out, &rc);
  if (!j)
    return rc;
  const char *name = json_str(json_object_get(j, "annotations"), "nerdctl/name");
  rc = -ENODATA;
  if (name && name[0]) {
    copy_field(raw, RAW_NAME_SIZE, name);
    out->source = "nerdctl";
    rc = 0;
  }
  json_decref(j);
  return rc;
}

/* Finds a raw (unsanitised) name; no lock held. */
static void resolve(const config_t *cfg, const container_ident_t *ident, container_names_t *out,
                    char *raw) {
  bool retry = false;
  raw[0] = '\0';
  switch (ident->runtime) {
  case CT_RUNTIME_LXC:
  case CT_RUNTIME_NSPAWN:
  case CT_RUNTIME_MACHINE:
    snprintf(raw, RAW_NAME_SIZE, "%s", ident->name);
    out->source = "path";
    break;
  case CT_RUNTIME_DOCKER:
  case CT_RUNTIME_KUBERNETES:
    if (cfg->docker_root[0]) {
      int rc = docker_lookup(cfg->docker_root, ident->id, out, raw);
      if (rc == 0)
        break;
      /* The kubepods cgroupfs layout is shared with containerd: no file is no news there. */
      if (ident->runtime == CT_RUNTIME_DOCKER || rc != -ENOENT)
        retry = true;
      else
        out->note[0] = '\0';
    }
    /* fall through */
  case CT_RUNTIME_CONTAINERD:
  case CT_RUNTIME_CRIO:
    if (ident->runtime == CT_RUNTIME_CONTAINERD && !ident->kubernetes && !ident->hex_id) {
      /* A "<ns>/<id>" task: the bundle is there (identify saw it); no annotation, the id. */
      if (cfg->containerd_state[0])
        containerd_lookup(cfg->containerd_state, ident->id, out, raw);
      break;
    }
    if (ident->kubernetes && cfg->k8s_log_dir[0]) {
      if (k8s_log_lookup(cfg->k8s_log_dir, ident->id, out) == 0) {
        out->source = "k8s-log";
        retry = false;
        break;
      }
      retry = true;
    }
    break;
  case CT_RUNTIME_PODMAN:
    if (cfg->podman_json[0] && podman_lookup(cfg->podman_json, ident->id, out, raw) != 0)
      retry = true;
    break;
  case CT_RUNTIME_NONE:
    break;
  }
  if (out->k8s_namespace[0])
    snprintf(raw, RAW_NAME_SIZE, "%s_%s_%s", out->k8s_namespace, out->k8s_pod, out->k8s_container);
  if (raw[0] == '\0') {
    if (ident->hex_id) {
      snprintf(raw, RAW_NAME_SIZE, "%.*s", CONTAINER_SHORT_ID_LEN, ident->id);
      out->source = "short-id";
    } else if (strlen(ident->name) == CONTAINER_HEX_ID_LEN &&
               is_hex(ident->name, CONTAINER_HEX_ID_LEN)) {
      snprintf(raw, RAW_NAME_SIZE, "%.*s", CONTAINER_SHORT_ID_LEN, ident->name);
      out->source = "short-id";
    } else {
      snprintf(raw, RAW_NAME_SIZE, "%s", ident->name);
      out->source = "path";
    }
    out->provisional = retry;
  }
}

static entry_t *find(const char *id, container_runtime_t rt) {
  for (entry_t *e = cache; e; e = e->next)
    if (e->runtime == rt && strcmp(e->id, id) == 0)
      return e;
  return NULL;
}

static bool taken(const char *name, const entry_t *self) {
  for (entry_t *e = cache; e; e = e->next)
    if (e != self && strcmp(e->names.name, name) == 0)
      return true;
  return false;
}

static void compose(char dst[NAME_MAX_LEN], const char *base, const char *tail) {
  char tmp[NAME_MAX_LEN];
  memcpy(tmp, base, strlen(base) + 1);
  cut_utf8(tmp, NAME_MAX_LEN - 1 - strlen(tail));
  snprintf(dst, NAME_MAX_LEN, "%s%s", tmp, tail);
}

/* Applies the collision rule; called with the lock held. */
static void unique_name(char dst[NAME_MAX_LEN], const char *raw, const container_ident_t *ident,
                        const entry_t *self) {
  char base[NAME_MAX_LEN], tail[64];
  names_fit(base, raw);
  if (base[0] == '\0')
    snprintf(base, sizeof(base), "%s", container_runtime_name(ident->runtime));
  if (!taken(base, self)) {
    memcpy(dst, base, sizeof(base));
    return;
  }
  char sfx[32];
  if (ident->hex_id)
    snprintf(sfx, sizeof(sfx), "%.*s", CONTAINER_SHORT_ID_LEN, ident->id);
  else
    snprintf(sfx, sizeof(sfx), "%s", container_runtime_name(ident->runtime));
  snprintf(tail, sizeof(tail), "_%s", sfx);
  compose(dst, base, tail);
  for (unsigned k = 2; taken(dst, self) && k < UINT_MAX; k++) {
    snprintf(tail, sizeof(tail), "_%s_%u", sfx, k);
    compose(dst, base, tail);
  }
}

int names_configure(const names_config_t *cfg) {
  config_t c;
  const char *d = cfg && cfg->docker_root ? cfg->docker_root : NAMES_DEFAULT_DOCKER_ROOT;
  const char *k = cfg && cfg->k8s_log_dir ? cfg->k8s_log_dir : NAMES_DEFAULT_K8S_LOG_DIR;
  const char *p = cfg && cfg->podman_json ? cfg->podman_json : NAMES_DEFAULT_PODMAN_JSON;
  const char *s =
      cfg && cfg->containerd_state ? cfg->containerd_state : IDENTIFY_DEFAULT_CONTAINERD_STATE;
  if (strlen(d) >= PATH_MAX || strlen(k) >= PATH_MAX || strlen(p) >= PATH_MAX ||
      strlen(s) >= PATH_MAX)
    return -ENAMETOOLONG;
  memcpy(c.docker_root, d, strlen(d) + 1);
  memcpy(c.k8s_log_dir, k, strlen(k) + 1);
  memcpy(c.podman_json, p, strlen(p) + 1);
  memcpy(c.containerd_state, s, strlen(s) + 1);
  /* identify.c recognises "<ns>/<id>" tasks by their bundle in the same directory. */
  container_identify_set_containerd_state(s);
  pthread_mutex_lock(&lock);
  config = c;
  pthread_mutex_unlock(&lock);
  return 0;
}

int names_lookup(const container_ident_t *ident, container_names_t *out) {
  if (!ident || ident->runtime == CT_RUNTIME_NONE || ident->id[0] == '\0')
    return -EINVAL;

  pthread_mutex_lock(&lock);
  entry_t *e = find(ident->id, ident->runtime);
  if (e && (!e->names.provisional || e->attempts >= NAMES_RETRIES)) {
    *out = e->names;
    pthread_mutex_unlock(&lock);
    return 0;
  }
  config_t *cfg = malloc(sizeof(*cfg));
  if (!cfg) {
    pthread_mutex_unlock(&lock);
    return -ENOMEM;
  }
  *cfg = config;
  pthread_mutex_unlock(&lock);

  container_names_t res;
  char raw[RAW_NAME_SIZE];
  memset(&res, 0, sizeof(res));
  resolve(cfg, ident, &res, raw);
  free(cfg);

  pthread_mutex_lock(&lock);
  e = find(ident->id, ident->runtime);
  if (!e) {
    e = calloc(1, sizeof(*e));
    if (!e) {
      pthread_mutex_unlock(&lock);
      return -ENOMEM;
    }
    e->runtime = ident->runtime;
    memcpy(e->id, ident->id, sizeof(e->id));
    e->names = res;
    unique_name(e->names.name, raw, ident, NULL);
    e->attempts = 1;
    e->next = cache;
    cache = e;
    cache_len++;
  } else if (e->names.provisional && e->attempts < NAMES_RETRIES) {
    e->attempts++;
    if (!res.provisional) {
      e->names = res;
      unique_name(e->names.name, raw, ident, e);
    } else {
      memcpy(e->names.note, res.note, sizeof(res.note));
    }
  }
  *out = e->names;
  pthread_mutex_unlock(&lock);
  return 0;
}

void names_forget(const char *id) {
  if (!id)
    return;
  pthread_mutex_lock(&lock);
  for (entry_t **pp = &cache; *pp;) {
    entry_t *e = *pp;
    if (strcmp(e->id, id) == 0) {
      *pp = e->next;
      free(e);
      cache_len--;
    } else {
      pp = &e->next;
    }
  }
  pthread_mutex_unlock(&lock);
}

void names_shutdown(void) {
  pthread_mutex_lock(&lock);
  while (cache) {
    entry_t *e = cache;
    cache = e->next;
    free(e);
  }
  cache_len = 0;
  config = (config_t){NAMES_DEFAULT_DOCKER_ROOT, NAMES_DEFAULT_K8S_LOG_DIR,
                      NAMES_DEFAULT_PODMAN_JSON, IDENTIFY_DEFAULT_CONTAINERD_STATE};
  pthread_mutex_unlock(&lock);
  container_identify_set_containerd_state(NULL);
}

size_t names_cache_size(void) {
  pthread_mutex_lock(&lock);
  size_t n = cache_len;
  pthread_mutex_unlock(&lock);
  return n;
}
