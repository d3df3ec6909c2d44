/* names.c: config.v2.json (real files), kubelet log symlinks, podman containers.json, the
 * cache, its collision and retry rules, and concurrent use. */
#include "names.h"
#include "testutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define ID_C "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccddddddddddddeeeeeeeeeeeeffff"
#define ID_D "1111111111112222222222223333333333334444444444445555555555556666"
#define ID_NGINX "8ad700d1f7115aba42de87ce088d3f16808a1ac54e2d7f562c499bdef8d0a0d4"

static char tmp[256];

static void write_file(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "w");
  if (!f || fwrite(text, 1, len, f) != len) {
    perror(path);
    exit(1);
  }
  fclose(f);
}

static size_t read_real(const char *rel, char *buf, size_t size) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", real_fixture_dir(), rel);
  ssize_t n = read_file_at(AT_FDCWD, path, buf, size);
  if (n < 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  return (size_t)n;
}

static void ident(const char *path, container_ident_t *c) {
  if (!container_identify(path, c)) {
    fprintf(stderr, "not a container path: %s\n", path);
    exit(1);
  }
}

static void docker_config_real(void) {
  static const struct {
    const char *dir, *name;
  } cases[] = {
      {"capsule8-bash-1", "dreamy_volhard"},
      {"blog-nginx-running-3", "custom-nginx-t2"},
      /* Has a nested "Name" (the volume's) inside MountPoints: only the top-level one counts. */
      {"blog-nexus-stopped-2", "nexus"},
  };
  char buf[65536], rel[256], err[256];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    snprintf(rel, sizeof(rel), "docker-config/%s/config.v2.json", cases[i].dir);
    size_t n = read_real(rel, buf, sizeof(buf));
    CHECK(n > 0 && buf[n - 1] != '\n'); /* dockerd writes no final newline */
    docker_info_t info;
    CHECK_INT(names_parse_docker_config(buf, n, &info, err, sizeof(err)), 0);
    CHECK_STR(info.name, cases[i].name);
    CHECK_STR(info.k8s_namespace, "");
    /* Truncated in the middle: an error naming the position, never a name. */
    CHECK_INT(names_parse_docker_config(buf, n / 2, &info, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "line 1") != NULL);
    CHECK_STR(info.name, "");
  }
}

static void docker_config_edge(void) {
  docker_info_t info;
  char err[256];
  const char *t;
  t = "{}";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), -ENODATA);
  t = "{\"Name\":\"/\"}";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), -ENODATA);
  t = "{\"Name\":5}";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), -ENODATA);
  t = "[\"Name\"]";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), -ENODATA);
  t = "";
  CHECK_INT(names_parse_docker_config(t, 0, &info, err, sizeof(err)), -EINVAL);
  t = "{\"Name\":\"/k8s_app_web-0_prod_1234_0\",\"Config\":{\"Labels\":{"
      "\"io.kubernetes.pod.namespace\":\"prod\",\"io.kubernetes.pod.name\":\"web-0\","
      "\"io.kubernetes.container.name\":\"app\"}}}\n";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), 0);
  CHECK_STR(info.name, "k8s_app_web-0_prod_1234_0");
  CHECK_STR(info.k8s_namespace, "prod");
  CHECK_STR(info.k8s_pod, "web-0");
  CHECK_STR(info.k8s_container, "app");
  /* Labels but no Name: still usable when all three are there. */
  t = "{\"Config\":{\"Labels\":{\"io.kubernetes.pod.namespace\":\"prod\","
      "\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.container.name\":\"app\"}}}";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), 0);
  t = "{\"Config\":{\"Labels\":{\"io.kubernetes.pod.name\":\"web-0\"}}}";
  CHECK_INT(names_parse_docker_config(t, strlen(t), &info, err, sizeof(err)), -ENODATA);
}

static void k8s_log_names(void) {
  char ns[256], pod[256], ctr[256];
  CHECK(names_parse_k8s_log("coredns-5d78c9869d-x7k2p_kube-system_coredns-" ID_A ".log", ID_A, ns,
                            pod, ctr, sizeof(ns)));
  CHECK_STR(pod, "coredns-5d78c9869d-x7k2p");
  CHECK_STR(ns, "kube-system");
  CHECK_STR(ctr, "coredns");
  /* Container names may contain '-' and end in digits or hex: the id is still the last 64. */
  CHECK(
      names_parse_k8s_log("web.v2-0_prod_side-car-1-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK_STR(pod, "web.v2-0");
  CHECK_STR(ctr, "side-car-1");
  CHECK(!names_parse_k8s_log("web-0_prod_app-" ID_A ".log", ID_B, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod_app-" ID_A ".log", "0123456789ab", ns, pod, ctr,
                             sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod_app-" ID_A ".log.1", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod_app_" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod-app-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web_0_prod_app-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("_prod_app-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0__app-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod_-" ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log(ID_A ".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log(".log", ID_A, ns, pod, ctr, sizeof(ns)));
  CHECK(!names_parse_k8s_log("web-0_prod_app-" ID_A ".log", ID_A, ns, pod, ctr, 4));
}

static void podman_json(void) {
  const char *t = "[{\"id\":\"" ID_B "\",\"names\":[\"other\"]},"
                  "{\"id\":\"" ID_A "\",\"names\":[\"web\",\"alias\"],\"image\":\"x\"},"
                  "{\"id\":\"" ID_C "\",\"names\":[]}]";
  char name[128], err[128];
  CHECK_INT(names_parse_podman_json(t, strlen(t), ID_A, name, sizeof(name), err, sizeof(err)), 0);
  CHECK_STR(name, "web");
  CHECK_INT(names_parse_podman_json(t, strlen(t), ID_C, name, sizeof(name), err, sizeof(err)),
            -ENOENT);
  CHECK_INT(names_parse_podman_json(t, strlen(t), "0123", name, sizeof(name), err, sizeof(err)),
            -ENOENT);
  CHECK_INT(names_parse_podman_json("{}", 2, ID_A, name, sizeof(name), err, sizeof(err)), -EINVAL);
  CHECK_INT(names_parse_podman_json(t, 30, ID_A, name, sizeof(name), err, sizeof(err)), -EINVAL);
}

static void fit(void) {
  char out[NAME_MAX_LEN], src[600];
  memset(src, 'a', 300);
  src[300] = '\0';
  names_fit(out, src);
  CHECK_INT(strlen(out), NAME_MAX_LEN - 1);
  names_fit(out, "my app/\"x\"\tz");
  CHECK_STR(out, "my_app__x__z");
  /* Never cut inside a UTF-8 sequence. */
  memset(src, 'a', 126);
  strcpy(src + 126, "\xc3\xa9z");
  names_fit(out, src);
  CHECK_INT(strlen(out), 126);
  memset(src, 'a', 125);
  strcpy(src + 125, "\xc3\xa9z");
  names_fit(out, src);
  CHECK_INT(strlen(out), 127);
  CHECK_STR(out + 125, "\xc3\xa9");
}

static void mkdirs(const char *fmt, const char *a) {
  char path[1024], cmd[1200];
  snprintf(path, sizeof(path), fmt, tmp, a);
  snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
  if (system(cmd) != 0)
    exit(1);
}

static void put_docker_config(const char *id, const char *text, size_t len) {
  char path[1024];
  mkdirs("%s/docker/containers/%s", id);
  snprintf(path, sizeof(path), "%s/docker/containers/%s/config.v2.json", tmp, id);
  write_file(path, text, len);
}

static void put_log(const char *pod, const char *ns, const char *ctr, const char *id) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/logs/%s_%s_%s-%s.log", tmp, pod, ns, ctr, id);
  CHECK_INT(symlink("/var/log/pods/nowhere/0.log", path), 0);
}

static void configure(void) {
  char d[512], k[512], p[512];
  snprintf(d, sizeof(d), "%s/docker", tmp);
  snprintf(k, sizeof(k), "%s/logs", tmp);
  snprintf(p, sizeof(p), "%s/containers.json", tmp);
  names_config_t cfg = {d, k, p, ""};
  CHECK_INT(names_configure(&cfg), 0);
}

static void lookup_docker(void) {
  char buf[65536];
  container_ident_t c;
  container_names_t n;
  size_t len = read_real("docker-config/blog-nginx-running-3/config.v2.json", buf, sizeof(buf));
  put_docker_config(ID_NGINX, buf, len);

  ident("/system.slice/docker-" ID_NGINX ".scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "custom-nginx-t2");
  CHECK_STR(n.source, "docker");
  CHECK(!n.provisional);
  CHECK_INT(names_cache_size(), 1);
  /* v1: the same container seen in another hierarchy is the same entry. */
  ident("/docker/" ID_NGINX, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "custom-nginx-t2");
  CHECK_INT(names_cache_size(), 1);

  /* Missing config: short id, provisional; resolved once the file appears. */
  ident("/system.slice/docker-" ID_A ".scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "0123456789ab");
  CHECK_STR(n.source, "short-id");
  CHECK(n.provisional);
  CHECK(strstr(n.note, "config.v2.json") != NULL);
  put_docker_config(ID_A, "{\"Name\":\"/late name\"}", 21);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "late_name");
  CHECK(!n.provisional);
  names_forget(ID_A);

  /* Truncated JSON: short id, with a note for the log. */
  put_docker_config(ID_B, buf, len / 3);
  ident("/docker/" ID_B, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "fedcba987654");
  CHECK(n.provisional);
  CHECK(n.note[0] != '\0');
  /* Retries stop after NAMES_RETRIES lookups. */
  for (int i = 0; i < NAMES_RETRIES + 2; i++)
    names_lookup(&c, &n);
  put_docker_config(ID_B, buf, len);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "fedcba987654");
  names_forget(ID_B);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "custom-nginx-t2_fedcba987654"); /* the nginx entry holds the name */
  names_forget(ID_B);

  /* No Name at all. */
  put_docker_config(ID_C, "{\"ID\":\"x\"}", 10);
  ident("/docker/" ID_C, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "aaaaaaaaaaaa");
  names_forget(ID_C);

  /* Bad characters and a long name. */
  const char *t;
  char big[400];
  int w = snprintf(big, sizeof(big), "{\"Name\":\"/%0300d\"}", 7);
  put_docker_config(ID_C, big, (size_t)w);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_INT(strlen(n.name), NAME_MAX_LEN - 1);
  names_forget(ID_C);
  t = "{\"Name\":\"/a b\\\"c\\td\"}";
  put_docker_config(ID_C, t, strlen(t));
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "a_b_c_d");
  names_forget(ID_C);

  /* dockershim / cri-dockerd: the Kubernetes labels win over the Docker name. */
  t = "{\"Name\":\"/k8s_app_web-0_prod_1234_0\",\"Config\":{\"Labels\":{"
      "\"io.kubernetes.pod.namespace\":\"prod\",\"io.kubernetes.pod.name\":\"web-0\","
      "\"io.kubernetes.container.name\":\"app\"}}}";
  put_docker_config(ID_C, t, strlen(t));
  ident("/kubepods/burstable/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/" ID_C, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "prod_web-0_app");
  CHECK_STR(n.source, "docker-labels");
  CHECK_STR(n.k8s_pod, "web-0");
  names_forget(ID_C);
  names_forget(ID_NGINX);
  CHECK_INT(names_cache_size(), 0);
}

static void lookup_k8s(void) {
  container_ident_t c;
  container_names_t n;
  mkdirs("%s/logs%s", "");
  const char *pod = "kubepods.slice/kubepods-burstable.slice/"
                    "kubepods-burstable-pod0ad2a1b4_1c1d_4e3f_9a8b_7c6d5e4f3a2b.slice/";
  char path[512];

  /* No symlink yet (kubelet makes it after the start): provisional short id, then the name. */
  snprintf(path, sizeof(path), "%scri-containerd-%s.scope", pod, ID_A);
  ident(path, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "0123456789ab");
  CHECK(n.provisional);
  put_log("web-0", "prod", "app", ID_A);
  put_log("web-0", "prod", "sidecar", ID_D);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "prod_web-0_app");
  CHECK_STR(n.source, "k8s-log");
  CHECK_STR(n.k8s_namespace, "prod");
  CHECK_STR(n.k8s_pod, "web-0");
  CHECK_STR(n.k8s_container, "app");
  CHECK(!n.provisional);

  /* Restarted container: the old cgroup is still there, the new one gets the short id. */
  put_log("web-0", "prod", "app", ID_B);
  snprintf(path, sizeof(path), "%scrio-%s.scope", pod, ID_B);
  ident(path, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "prod_web-0_app_fedcba987654");
  names_forget(ID_A);
  names_forget(ID_B);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "prod_web-0_app");
  names_forget(ID_B);

  /* kubepods cgroupfs driver: no config.v2.json is expected, the log dir answers. */
  snprintf(path, sizeof(path), "/kubepods/besteffort/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/%s",
           ID_D);
  ident(path, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "prod_web-0_sidecar");
  CHECK_STR(n.note, "");
  names_forget(ID_D);

  /* Names longer than 127 bytes are cut; the collision suffix still fits. (Pod names may have
   * 253 chars, but the symlink's file name must fit in 255 bytes.) */
  char longpod[260];
  memset(longpod, 'p', 180);
  longpod[180] = '\0';
  put_log(longpod, "ns", "c", ID_A);
  put_log(longpod, "ns", "c", ID_B);
  snprintf(path, sizeof(path), "%scri-containerd-%s.scope", pod, ID_A);
  ident(path, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_INT(strlen(n.name), NAME_MAX_LEN - 1);
  CHECK(strncmp(n.name, "ns_ppp", 6) == 0);
  CHECK_INT(strlen(n.k8s_pod), 180);
  snprintf(path, sizeof(path), "%scri-containerd-%s.scope", pod, ID_B);
  ident(path, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_INT(strlen(n.name), NAME_MAX_LEN - 1);
  CHECK_STR(n.name + NAME_MAX_LEN - 1 - 13, "_fedcba987654");
  names_forget(ID_A);
  names_forget(ID_B);

  /* Not below kubepods: the log dir is not consulted. */
  ident("/system.slice/nerdctl-" ID_A ".scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "0123456789ab");
  CHECK(!n.provisional);
  names_forget(ID_A);
  CHECK_INT(names_cache_size(), 0);
}

static void lookup_podman_lxc(void) {
  container_ident_t c;
  container_names_t n;
  char path[512];
  ident("/machine.slice/libpod-" ID_A ".scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0); /* no containers.json yet */
  CHECK_STR(n.name, "0123456789ab");
  CHECK(n.provisional);
  const char *t = "[{\"id\":\"" ID_A "\",\"names\":[\"web\"]}]\n";
  snprintf(path, sizeof(path), "%s/containers.json", tmp);
  write_file(path, t, strlen(t));
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web");
  CHECK_STR(n.source, "podman");

  /* A Docker container literally named "web_lxc", then LXC "web": "web" and "web_lxc" are
   * taken, so "_2" follows. Non-hex ids use the runtime as their suffix. */
  t = "{\"Name\":\"/web_lxc\"}";
  put_docker_config(ID_B, t, strlen(t));
  ident("/docker/" ID_B, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web_lxc");
  ident("/lxc.payload.web/system.slice/foo.service", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web_lxc_2");
  CHECK_STR(n.source, "path");
  CHECK(!n.provisional);
  ident("/lxc/web", &c); /* same id and runtime: the same entry */
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web_lxc_2");
  ident("/machine.slice/machine-web.scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web_machine");
  CHECK_INT(names_cache_size(), 4);
  names_forget("web"); /* every runtime's entry with that id */
  CHECK_INT(names_cache_size(), 2);
  ident("/machine.slice/systemd-nspawn@my\\x2dbox.service", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "my-box");

  container_ident_t none = {0};
  CHECK_INT(names_lookup(&none, &n), -EINVAL);
  CHECK_INT(names_lookup(NULL, &n), -EINVAL);
  names_shutdown();
  CHECK_INT(names_cache_size(), 0);
}

/* containerd "<ns>/<id>" tasks of tests/fixtures/containerd (real bundles): the id, or nerdctl's
 * name annotation; a 64-hex id without one gives its short id; the namespace is in the key. */
static void lookup_containerd(void) {
  char state[4096], path[16384];
  container_ident_t c;
  container_names_t n;
  snprintf(state, sizeof(state), "%s/containerd/run/containerd", fixture_dir());
  names_config_t cfg = {"", "", "", state};
  CHECK_INT(names_configure(&cfg), 0);
  ident("/rt-ns/rt_ctr_busy", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "rt_ctr_busy");
  CHECK_STR(n.source, "path");
  CHECK(!n.provisional);
  CHECK_STR(c.id, "rt-ns/rt_ctr_busy");
  ident("/rt-ns/58862739fb5446bc8b5d9f7a1dfa4a44a121cdf65d5a1f5a21a01d9cde147d0f", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "web-nerd");
  CHECK_STR(n.source, "nerdctl");

  /* A copy of the tree in tmp: the same task id in a second namespace collides. */
#define TASKS "/ctrd/io.containerd.runtime.v2.task"
  snprintf(path, sizeof(path),
           "cp -r '%s' '%s/ctrd' && mkdir -p '%s" TASKS "/other' && "
           "cp -r '%s" TASKS "/rt-ns/rt_ctr_busy' '%s" TASKS "/other/'",
           state, tmp, tmp, tmp, tmp);
  CHECK_INT(system(path), 0);
  snprintf(path, sizeof(path), "%s/ctrd", tmp);
  names_config_t cp = {"", "", "", path};
  CHECK_INT(names_configure(&cp), 0);
  ident("/other/rt_ctr_busy", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "rt_ctr_busy_containerd");
  /* A 64-hex id whose spec has no annotation, and a spec that is not JSON. */
  snprintf(path, sizeof(path),
           "mkdir -p '%s" TASKS "/rt-ns/" ID_C "' '%s" TASKS "/rt-ns/bad' && "
           "echo '{\"annotations\":{}}' >'%s" TASKS "/rt-ns/" ID_C "/config.json' && "
           "echo '{not json' >'%s" TASKS "/rt-ns/bad/config.json'",
           tmp, tmp, tmp, tmp);
#undef TASKS
  CHECK_INT(system(path), 0);
  ident("/rt-ns/" ID_C, &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "aaaaaaaaaaaa");
  CHECK_STR(n.source, "short-id");
  ident("/rt-ns/bad", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "bad");
  CHECK(strstr(n.note, "config.json") != NULL);
  names_shutdown();
  CHECK_STR(container_identify_containerd_state(), "/run/containerd");
}

/* Default paths, and "" turning a source off. */
static void config_defaults(void) {
  container_ident_t c;
  container_names_t n;
  names_config_t off = {"", "", "", ""};
  CHECK_INT(names_configure(&off), 0);
  ident("/system.slice/docker-" ID_A ".scope", &c);
  CHECK_INT(names_lookup(&c, &n), 0);
  CHECK_STR(n.name, "0123456789ab");
  CHECK(!n.provisional);
  CHECK_STR(n.note, "");
  names_shutdown();
  char big[5000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  names_config_t toolong = {big, NULL, NULL, NULL};
  CHECK_INT(names_configure(&toolong), -ENAMETOOLONG);
  CHECK_INT(names_configure(NULL), 0);
}

static void *worker(void *arg) {
  static const char *ids[] = {ID_A, ID_B, ID_C};
  unsigned seed = (unsigned)(size_t)arg;
  for (int i = 0; i < 2000; i++) {
    const char *id = ids[rand_r(&seed) % 3];
    char path[128];
    container_ident_t c;
    container_names_t n;
    snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", id);
    if (!container_identify(path, &c) || names_lookup(&c, &n) != 0 || n.name[0] == '\0')
      return (void *)1;
    if (rand_r(&seed) % 4 == 0)
      names_forget(id);
  }
  return NULL;
}

static void threads(void) {
  names_config_t off = {"", "", "", ""};
  names_configure(&off);
  pthread_t t[4];
  for (size_t i = 0; i < 4; i++)
    CHECK_INT(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
  for (size_t i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    CHECK(r == NULL);
  }
  CHECK(names_cache_size() <= 3);
  names_shutdown();
}

int main(void) {
  snprintf(tmp, sizeof(tmp), "%s/test_names.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  docker_config_real();
  docker_config_edge();
  k8s_log_names();
  podman_json();
  fit();
  configure();
  lookup_docker();
  lookup_k8s();
  configure();
  lookup_podman_lxc();
  lookup_containerd();
  config_defaults();
  threads();

  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
  if (system(cmd) != 0)
    test_failures++;
  return test_result("test_names");
}
