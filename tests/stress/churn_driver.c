/* Container churn for tests/stress/churn.sh and tests/integration/test_faults.sh: creates
 * "containers" (cgroups in Docker's cgroupfs layout, docker/<64-hex id>, in every given
 * hierarchy, each with one sleeping process, some in their own network namespace) and destroys
 * them, fast and without a shell per step (forks are slow on a loaded CI machine). Root only.
 *
 *   churn_driver [options]
 *     -r ROOT        cgroup root (default /sys/fs/cgroup)
 *     -c LIST        comma-separated hierarchies under ROOT (e.g. cpu,cpuacct,memory,unified)
 *     -d DIR         fake DockerRoot: DIR/containers/<id>/config.v2.json names each container
 *     -p PREFIX      name prefix (names are PREFIX<n>)
 *     -n CYCLES      containers to create and destroy (default 100); 0 with -L: only long-lived
 *     -L N           also create N long-lived containers (PREFIX"long_"<n>) kept until the end
 *     -H             hold: after the cycles, keep the long-lived ones until SIGTERM/SIGINT
 *     -a MAX         containers alive at once (default 8)
 *     -s RATE        containers started per second at most (default 10)
 *     -l MIN,MAX     lifetime in ms, uniform (default 200,1500)
 *     -N K           every K-th container gets its own network namespace (0: none; default 3)
 *     -f MS          each container's process forks a child that exits at once every MS ms
 *                    (PIDs that vanish between cgroup.procs and /proc; 0: none)
 *     -o FILE        write the inode of every network namespace made to FILE at the end
 *     -S SEED        random seed
 *   churn_driver -C FILE... [-P PID...]   only check: how many namespaces listed in FILEs (one
 *                 inode a line, as -o writes them) are still referenced by any process (or by the
 *                 PIDs given: on a shared machine another user's new namespace can reuse a freed
 *                 namespace's inode number); exits 3 if any
 * At the end it reports how many of the namespaces it made are still referenced by any process
 * (/proc/PID/task/TID/ns/net or an open fd): for information only, since inode numbers of freed
 * namespaces are reused. Exits 2 when a step failed (e.g. a cgroup that cannot be removed: a
 * process survived its container). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HIER 16
#define MAX_ALIVE 256

typedef struct {
  bool used, long_lived;
  char id[65];
  pid_t pid;
  double deadline;
} ct_t;

static const char *root = "/sys/fs/cgroup", *docker_root, *prefix = "churn_", *ns_file;
static char *hier[MAX_HIER];
static int n_hier;
static ct_t cts[MAX_ALIVE];
static volatile sig_atomic_t stop;
static uint64_t *ns_inodes;
static size_t n_ns, cap_ns;
static unsigned long created, destroyed, rmdir_retries, failures;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int write_str(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, s, strlen(s));
  int err = n < 0 ? -errno : 0;
  close(fd);
  return err;
}

static void mkdir_p(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      mkdir(tmp, 0755);
      *p = '/';
    }
  }
  mkdir(tmp, 0755);
}

static void write_docker_name(const char *id, const char *name) {
  if (!docker_root)
    return;
  char dir[4096], file[4200], json[512];
  snprintf(dir, sizeof(dir), "%s/containers/%s", docker_root, id);
  mkdir_p(dir);
  snprintf(file, sizeof(file), "%s/config.v2.json", dir);
  snprintf(json, sizeof(json), "{\"ID\":\"%s\",\"Name\":\"/%s\",\"State\":{\"Running\":true}}", id,
           name);
  FILE *f = fopen(file, "we");
  if (f) {
    fputs(json, f);
    fclose(f);
  }
}

static void remove_docker_name(const char *id) {
  if (!docker_root)
    return;
  char path[4200];
  snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", docker_root, id);
  unlink(path);
  snprintf(path, sizeof(path), "%s/containers/%s", docker_root, id);
  rmdir(path);
}

/* The container's process: waits until it is in its cgroups, then maybe enters a new network
 * namespace, then sleeps (forking short-lived children if asked) until killed. */
static void child_main(int ready_fd, int report_fd, bool netns, int fork_ms) {
  char c;
  if (read(ready_fd, &c, 1) != 1)
    _exit(1);
  uint64_t ino = 0;
  if (netns) {
    if (unshare(CLONE_NEWNET) == 0) {
      struct stat st;
      if (stat("/proc/self/ns/net", &st) == 0)
        ino = (uint64_t)st.st_ino;
    }
  }
  if (write(report_fd, &ino, sizeof(ino)) != sizeof(ino))
    _exit(1);
  close(report_fd);
  signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
  for (;;) {
    if (fork_ms > 0) {
      pid_t p = fork();
      if (p == 0)
        _exit(0);
      sleep_s(fork_ms / 1000.0);
    } else {
      pause();
    }
  }
}

static void random_id(char id[65]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 64; i++)
    id[i] = hex[random() & 15];
  id[64] = '\0';
}

static ct_t *create(bool long_lived, bool netns, int fork_ms, double life, unsigned long n) {
  ct_t *ct = NULL;
  for (int i = 0; i < MAX_ALIVE && !ct; i++)
    if (!cts[i].used)
      ct = &cts[i];
  if (!ct)
    return NULL;
  memset(ct, 0, sizeof(*ct));
  random_id(ct->id);
  char name[128];
  snprintf(name, sizeof(name), "%s%s%lu", prefix, long_lived ? "long_" : "", n);
  write_docker_name(ct->id, name);
  char path[4096];
  for (int h = 0; h < n_hier; h++) {
    snprintf(path, sizeof(path), "%s/%s/docker", root, hier[h]);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/docker/%s", root, hier[h], ct->id);
    if (mkdir(path, 0755) != 0) {
      fprintf(stderr, "churn_driver: mkdir %s: %s\n", path, strerror(errno));
      failures++;
    }
  }
  int ready[2], report[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
    failures++;
    return NULL;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[1]);
    close(report[0]);
    child_main(ready[0], report[1], netns, fork_ms);
  }
  close(ready[0]);
  close(report[1]);
  if (pid < 0) {
    failures++;
    close(ready[1]);
    close(report[0]);
    return NULL;
  }
  char pidbuf[32];
  snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
  for (int h = 0; h < n_hier; h++) {
    snprintf(path, sizeof(path), "%s/%s/docker/%s/cgroup.procs", root, hier[h], ct->id);
    int err = write_str(path, pidbuf);
    if (err) {
      fprintf(stderr, "churn_driver: %s: %s\n", path, strerror(-err));
      failures++;
    }
  }
  if (write(ready[1], "x", 1) != 1)
    failures++;
  close(ready[1]);
  uint64_t ino = 0;
  if (read(report[0], &ino, sizeof(ino)) != sizeof(ino))
    failures++;
  close(report[0]);
  if (netns) {
    if (ino == 0) {
      failures++;
    } else {
      if (n_ns == cap_ns) {
        cap_ns = cap_ns ? 2 * cap_ns : 256;
        ns_inodes = realloc(ns_inodes, cap_ns * sizeof(*ns_inodes));
      }
      ns_inodes[n_ns++] = ino;
    }
  }
  ct->used = true;
  ct->long_lived = long_lived;
  ct->pid = pid;
  ct->deadline = now() + life;
  created++;
  return ct;
}

static void destroy(ct_t *ct) {
  kill(ct->pid, SIGKILL);
  waitpid(ct->pid, NULL, 0);
  char path[4096];
  for (int h = n_hier - 1; h >= 0; h--) {
    snprintf(path, sizeof(path), "%s/%s/docker/%s", root, hier[h], ct->id);
    /* The killed process's children (fork mode) may take a moment to leave. */
    for (int tries = 0; rmdir(path) != 0 && errno == EBUSY && tries < 200; tries++) {
      rmdir_retries++;
      sleep_s(0.005);
    }
    if (access(path, F_OK) == 0) {
      fprintf(stderr, "churn_driver: cannot remove %s: %s\n", path, strerror(errno));
      failures++;
    }
  }
  remove_docker_name(ct->id);
  ct->used = false;
  destroyed++;
}

static bool inode_ours(uint64_t ino) {
  for (size_t i = 0; i < n_ns; i++)
    if (ns_inodes[i] == ino)
      return true;
  return false;
}

/* Namespaces we made that any process still holds (as a thread's namespace or an open fd). */
static bool print_holders;
static pid_t *only_pids;
static int n_only;

static bool pid_wanted(const char *name) {
  if (n_only == 0)
    return true;
  for (int i = 0; i < n_only; i++)
    if (atoi(name) == only_pids[i])
      return true;
  return false;
}

static size_t namespaces_left(void) {
  size_t left = 0;
  uint64_t *seen = calloc(n_ns + 1, sizeof(*seen));
  size_t n_seen = 0;
  DIR *proc = opendir("/proc");
  struct dirent *p;
  while (proc && (p = readdir(proc)) != NULL) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9' || !pid_wanted(p->d_name))
      continue;
    char path[1024], link[128];
    snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
    DIR *tasks = opendir(path);
    struct dirent *t;
    while (tasks && (t = readdir(tasks)) != NULL) {
      if (t->d_name[0] == '.')
        continue;
      struct stat st;
      snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", p->d_name, t->d_name);
      if (stat(path, &st) == 0 && inode_ours((uint64_t)st.st_ino)) {
        bool dup = false;
        for (size_t i = 0; i < n_seen; i++)
          dup |= seen[i] == (uint64_t)st.st_ino;
        if (!dup && n_seen < n_ns) {
          seen[n_seen++] = (uint64_t)st.st_ino;
          if (print_holders)
            fprintf(stderr, "churn_driver: namespace %" PRIu64 " still used by task %s/%s\n",
                    (uint64_t)st.st_ino, p->d_name, t->d_name);
        }
      }
    }
    if (tasks)
      closedir(tasks);
    snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(path);
    struct dirent *f;
    while (fds && (f = readdir(fds)) != NULL) {
      if (f->d_name[0] == '.')
        continue;
      char fp[600];
      snprintf(fp, sizeof(fp), "/proc/%s/fd/%s", p->d_name, f->d_name);
      ssize_t n = readlink(fp, link, sizeof(link) - 1);
      if (n <= 0)
        continue;
      link[n] = '\0';
      uint64_t ino;
      if (sscanf(link, "net:[%" SCNu64 "]", &ino) == 1 && inode_ours(ino)) {
        bool dup = false;
        for (size_t i = 0; i < n_seen; i++)
          dup |= seen[i] == ino;
        if (!dup && n_seen < n_ns) {
          seen[n_seen++] = ino;
          if (print_holders)
            fprintf(stderr, "churn_driver: namespace %" PRIu64 " held open by pid %s fd %s\n", ino,
                    p->d_name, f->d_name);
        }
      }
    }
    if (fds)
      closedir(fds);
  }
  if (proc)
    closedir(proc);
  left = n_seen;
  free(seen);
  return left;
}

int main(int argc, char **argv) {
  unsigned long cycles = 100;
  int n_long = 0, max_alive = 8, netns_every = 3, fork_ms = 0, opt;
  double rate = 10, life_min = 0.2, life_max = 1.5;
  bool hold = false;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  char *list = NULL;
  if (argc > 2 && strcmp(argv[1], "-C") == 0) {
    print_holders = true;
    for (int a = 2; a < argc; a++) {
      if (strcmp(argv[a], "-P") == 0) {
        only_pids = calloc((size_t)argc, sizeof(*only_pids));
        while (++a < argc)
          only_pids[n_only++] = atoi(argv[a]);
        break;
      }
      FILE *f = fopen(argv[a], "re");
      uint64_t ino;
      while (f && fscanf(f, "%" SCNu64, &ino) == 1) {
        if (n_ns == cap_ns) {
          cap_ns = cap_ns ? 2 * cap_ns : 256;
          ns_inodes = realloc(ns_inodes, cap_ns * sizeof(*ns_inodes));
        }
        ns_inodes[n_ns++] = ino;
      }
      if (f)
        fclose(f);
    }
    size_t left = namespaces_left();
    printf("%zu\n", left);
    return left ? 3 : 0;
  }
  while ((opt = getopt(argc, argv, "r:c:d:p:n:L:Ha:s:l:N:f:o:S:")) != -1) {
    switch (opt) {
    case 'r':
      root = optarg;
      break;
    case 'c':
      list = optarg;
      break;
    case 'd':
      docker_root = optarg;
      break;
    case 'p':
      prefix = optarg;
      break;
    case 'n':
      cycles = strtoul(optarg, NULL, 10);
      break;
    case 'L':
      n_long = atoi(optarg);
      break;
    case 'H':
      hold = true;
      break;
    case 'a':
      max_alive = atoi(optarg);
      break;
    case 's':
      rate = atof(optarg);
      break;
    case 'l': {
      double a, b;
      if (sscanf(optarg, "%lf,%lf", &a, &b) == 2) {
        life_min = a / 1000;
        life_max = b / 1000;
      }
      break;
    }
    case 'N':
      netns_every = atoi(optarg);
      break;
    case 'f':
      fork_ms = atoi(optarg);
      break;
    case 'o':
      ns_file = optarg;
      break;
    case 'S':
      seed = (unsigned)strtoul(optarg, NULL, 10);
      break;
    default:
      fprintf(stderr, "usage: see the comment at the top of churn_driver.c\n");
      return 2;
    }
  }
  if (!list || max_alive < 1 || max_alive + n_long > MAX_ALIVE || rate <= 0) {
    fprintf(stderr, "churn_driver: -c LIST is required; -a 1..%d\n", MAX_ALIVE - n_long);
    return 2;
  }
  for (char *save, *h = strtok_r(list, ",", &save); h && n_hier < MAX_HIER;
       h = strtok_r(NULL, ",", &save))
    hier[n_hier++] = h;
  srandom(seed);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  for (int i = 0; i < n_long; i++)
    if (!create(true, i % 2 == 1 && netns_every > 0, fork_ms, 1e9, (unsigned long)i))
      return 2;
  if (n_long)
    printf("long-lived: %d\n", n_long);
  fflush(stdout);

  double t0 = now(), next_start = t0;
  unsigned long started = 0;
  while (!stop) {
    double t = now();
    int alive = 0;
    for (int i = 0; i < MAX_ALIVE; i++) {
      if (!cts[i].used || cts[i].long_lived)
        continue;
      if (cts[i].deadline <= t)
        destroy(&cts[i]);
      else
        alive++;
    }
    if (started >= cycles && alive == 0)
      break;
    if (started < cycles && alive < max_alive && t >= next_start) {
      double life = life_min + (life_max - life_min) * (double)random() / (double)RAND_MAX;
      bool ns = netns_every > 0 && started % (unsigned long)netns_every == 0;
      if (create(false, ns, 0, life, started))
        started++;
      next_start = t + 1.0 / rate;
    }
    sleep_s(0.005);
  }
  for (int i = 0; i < MAX_ALIVE; i++)
    if (cts[i].used && !cts[i].long_lived)
      destroy(&cts[i]);
  double elapsed = now() - t0;
  unsigned long churned = destroyed;
  while (hold && !stop)
    pause();
  for (int i = 0; i < MAX_ALIVE; i++)
    if (cts[i].used)
      destroy(&cts[i]);
  for (int h = 0; h < n_hier; h++) { /* docker/ itself, if we made it and it is empty now */
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/docker", root, hier[h]);
    rmdir(path);
  }
  if (ns_file) {
    FILE *f = fopen(ns_file, "we");
    for (size_t i = 0; f && i < n_ns; i++)
      fprintf(f, "%" PRIu64 "\n", ns_inodes[i]);
    if (f)
      fclose(f);
  }
  sleep_s(0.2); /* let the kernel finish tearing down the last namespaces' users */
  size_t left = namespaces_left();
  printf("cycles: %lu in %.1f s; created %lu, destroyed %lu; network namespaces made %zu, "
         "inode numbers still in use (by anyone) %zu; rmdir retries %lu; failures %lu\n",
         churned, elapsed, created, destroyed, n_ns, left, rmdir_retries, failures);
  return failures ? 2 : 0;
}
