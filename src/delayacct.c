/* The per-container monotonic delay accumulator: see delayacct.h. */
#define _GNU_SOURCE
#include <sched.h>

#include "delayacct.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "genl.h"
#include "util.h"

#define UNSEEN_READS_KEPT 2

typedef struct {
  pid_t tgid;
  uint64_t start_ms;
  uint64_t last[DELAY_V_COUNT];
  uint32_t gen;      /* the read that last saw it */
  uint8_t unseen;    /* reads in a row that did not see it */
  bool exited;       /* its final exit record was counted */
  bool approx_start; /* start estimated from an exit record */
} entry_t;

struct delay_state {
  entry_t *e; /* sorted by tgid, unique */
  size_t n, cap;
  uint64_t acc[DELAY_V_COUNT];
  uint64_t prev_ms; /* time of the previous read (0: none yet) */
  uint32_t gen;
  bool prev_delay_on;
  /* The CPUs the processes may run on: asked again every DELAY_AFFINITY_READS reads (one system
   * call per process otherwise). Touched by the container's reads only. */
  cpu_set_t cpus;
  bool has_cpus;
  unsigned cpus_age;
  struct delay_state *prev, *next;
};

#define DELAY_AFFINITY_READS 10

/* One lock for the registry, every state and the counters: reads hold it only while merging
 * (the netlink and /proc work is done before), the listener only while routing one record. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static delay_state_t *g_states;
static uint32_t g_present; /* fields the kernel's replies carried */
static delay_stats_t g_stats;
static pthread_mutex_t g_listener_lock = PTHREAD_MUTEX_INITIALIZER;
static ts_listener_t *g_listener; /* under g_listener_lock */
static bool g_want_listener, g_listener_tried;
static ts_log_fn g_log;
static char g_proc_root[PATH_MAX] = "/proc";
static long g_hz = 100;

/* ---- small helpers ---- */

static uint64_t boot_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t value_flag(int i) {
  return i < TS_DELAY_COUNT ? TS_F_DELAY(i) : TS_F_CTXSW;
}

static void stats_values(const ts_stats_t *s, uint64_t v[DELAY_V_COUNT]) {
  for (int k = 0; k < TS_DELAY_COUNT; k++)
    v[k] = s->delay_ns[k];
  v[DELAY_V_NVCSW] = s->nvcsw;
  v[DELAY_V_NIVCSW] = s->nivcsw;
}

/* The increase from last to now of value i, and the new "last". */
static uint64_t advance_one(int i, uint64_t *last, uint64_t now) {
  uint64_t l = *last;
  if (now >= l) {
    *last = now;
    return now - l;
  }
  if (i >= TS_DELAY_COUNT) {
    /* unsigned long context-switch counters of a 32-bit kernel wrap at 2^32 */
    if (l <= UINT32_MAX && l - now > (1ull << 31)) {
      *last = now;
      return now + (UINT32_MAX - l) + 1;
    }
  } else if (l >= (1ull << 62)) {
    /* the kernel sets a delay total that would overflow s64 to 0 */
    *last = now;
    return now;
  }
  return 0; /* backwards: keep the high-water mark */
}

static void advance(delay_state_t *st, entry_t *e, const uint64_t v[DELAY_V_COUNT],
                    uint32_t present, bool rebase_delays) {
  for (int i = 0; i < DELAY_V_COUNT; i++) {
    if (!(present & value_flag(i)))
      continue;
    if (rebase_delays && i < TS_DELAY_COUNT) {
      e->last[i] = v[i];
      continue;
    }
    st->acc[i] += advance_one(i, &e->last[i], v[i]);
  }
}

static void set_baseline(delay_state_t *st, entry_t *e, const uint64_t v[DELAY_V_COUNT],
                         uint32_t present, bool count_full) {
  for (int i = 0; i < DELAY_V_COUNT; i++) {
    e->last[i] = (present & value_flag(i)) ? v[i] : 0;
    if (count_full)
      st->acc[i] += e->last[i];
  }
}

/* Index of tgid in st->e, or -(insertion point)-1. */
static long find(const delay_state_t *st, pid_t tgid) {
  size_t lo = 0, hi = st->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (st->e[mid].tgid < tgid)
      lo = mid + 1;
    else if (st->e[mid].tgid > tgid)
      hi = mid;
    else
      return (long)mid;
  }
  return -(long)lo - 1;
}

static entry_t *insert_at(delay_state_t *st, size_t pos) {
  if (st->n == st->cap) {
    /* Most containers run one or two processes: 16 entries up front cost 1.5 KiB each. */
    size_t cap = st->cap ? st->cap * 2 : 2;
    entry_t *ne = realloc(st->e, cap * sizeof(*ne));
    if (ne == NULL)
      return NULL;
    st->e = ne;
    st->cap = cap;
  }
  memmove(&st->e[pos + 1], &st->e[pos], (st->n - pos) * sizeof(*st->e));
  st->n++;
  memset(&st->e[pos], 0, sizeof(st->e[pos]));
  return &st->e[pos];
}

static bool same_start(const entry_t *e, uint64_t start_ms, bool approx) {
  uint64_t d = e->start_ms > start_ms ? e->start_ms - start_ms : start_ms - e->start_ms;
  /* both from /proc: equal up to the tick-to-ms rounding */
  return d <= (e->approx_start || approx ? DELAY_START_TOLERANCE_MS : 20);
}

/* ---- the pure core ---- */

void delay_merge(delay_state_t *st, const delay_proc_sample_t *s, size_t n, uint64_t now_ms,
                 bool delay_on, delay_totals_t *out) {
  pthread_mutex_lock(&g_lock);
  bool rebase = delay_on && !st->prev_delay_on && st->prev_ms != 0;
  st->gen++;
  uint32_t present = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t v[DELAY_V_COUNT];
    stats_values(&s[i].ts.stats, v);
    uint32_t pr = s[i].ts.stats.present & (TS_F_ALL_DELAYS | TS_F_CTXSW);
    present |= pr;
    /* Born since the previous read: everything it accrued happened here. */
    bool born_here = st->prev_ms != 0 && s[i].start_ms + 20 > st->prev_ms;
    long at = find(st, s[i].ts.tgid);
    entry_t *e;
    if (at >= 0) {
      e = &st->e[at];
      if (!same_start(e, s[i].start_ms, false)) {
        /* A reused PID: the old process's share stays, the new one starts afresh. */
        e->start_ms = s[i].start_ms;
        e->approx_start = false;
        e->exited = false;
        set_baseline(st, e, v, pr, born_here);
      } else {
        advance(st, e, v, pr, rebase);
        e->exited = false; /* alive after all (a leader thread that exited before the others) */
        if (e->approx_start) {
          e->start_ms = s[i].start_ms;
          e->approx_start = false;
        }
      }
    } else {
      e = insert_at(st, (size_t)(-at - 1));
      if (e == NULL)
        continue; /* out of memory: this process is not counted this time */
      e->tgid = s[i].ts.tgid;
      e->start_ms = s[i].start_ms;
      set_baseline(st, e, v, pr, born_here);
    }
    e->gen = st->gen;
    e->unseen = 0;
  }
  /* Entries of processes no longer there: keep a while for a late exit record, then drop
   * (their contribution stays in acc). */
  size_t w = 0;
  for (size_t r = 0; r < st->n; r++) {
    entry_t *e = &st->e[r];
    if (e->gen != st->gen) {
      if (e->exited || ++e->unseen >= UNSEEN_READS_KEPT)
        continue;
    }
    if (w != r)
      st->e[w] = *e;
    w++;
  }
  st->n = w;
  g_present |= present;
  st->prev_ms = now_ms;
  st->prev_delay_on = delay_on;

  memset(out, 0, sizeof(*out));
  for (int k = 0; k < TS_DELAY_COUNT; k++)
    out->delay_ns[k] = st->acc[k];
  out->nvcsw = st->acc[DELAY_V_NVCSW];
  out->nivcsw = st->acc[DELAY_V_NIVCSW];
  out->present = g_present;
  out->delay_on = delay_on;
  out->n_tasks = (unsigned)n;
  pthread_mutex_unlock(&g_lock);
}

/* An exit record's process: its key, values and start estimate. */
typedef struct {
  pid_t key;
  uint64_t v[DELAY_V_COUNT];
  uint32_t present;
  uint64_t est; /* start of the exiting thread (ms since boot) */
  bool has_est, exact_thread, whole_process;
  uint32_t ppid;
} exit_proc_t;

/* 1. The container that already knows this process. Under g_lock. */
static bool route_to_known(const exit_proc_t *x) {
  for (delay_state_t *st = g_states; st; st = st->next) {
    long at = find(st, x->key);
    if (at < 0)
      continue;
    entry_t *e = &st->e[at];
    if (e->exited)
      continue;
    bool consistent;
    if (!x->has_est)
      consistent = true;
    else if (x->exact_thread)
      consistent = same_start(e, x->est, true);
    else /* the last thread started at or after the process */
      consistent = e->start_ms <= x->est + DELAY_START_TOLERANCE_MS;
    if (!consistent)
      continue;
    advance(st, e, x->v, x->present, false);
    e->exited = true;
    g_stats.exits_matched++;
    return true;
  }
  return false;
}

/* 2. A child born since its parent's container was last read. Under g_lock. */
static bool route_to_parent(const exit_proc_t *x) {
  /* Only for a whole process: a PID-only record is one if the kernel says pid == tgid (v12+). */
  if (x->ppid == 0 || !x->has_est || !x->whole_process)
    return false;
  for (delay_state_t *st = g_states; st; st = st->next) {
    long pat = find(st, (pid_t)x->ppid);
    if (pat < 0 || st->prev_ms == 0 || x->est + DELAY_START_TOLERANCE_MS < st->prev_ms)
      continue;
    long at = find(st, x->key);
    entry_t *e;
    if (at >= 0) {
      e = &st->e[at]; /* an older process with this PID (gone): replaced */
    } else {
      e = insert_at(st, (size_t)(-at - 1));
      if (e == NULL)
        return false;
    }
    e->tgid = x->key;
    e->start_ms = x->est;
    e->approx_start = true;
    e->exited = true;
    e->gen = st->gen;
    e->unseen = 0;
    set_baseline(st, e, x->v, x->present, true);
    g_stats.exits_by_parent++;
    return true;
  }
  return false;
}

int delay_route_exit(const ts_exit_record_t *rec, uint64_t now_ms) {
  exit_proc_t x = {0};
  ts_stats_t vals;
  if (rec->has_pid && (rec->pid_stats.present & TS_F_BASIC)) {
    uint64_t e_ms = rec->pid_stats.etime_us / 1000;
    x.est = now_ms > e_ms ? now_ms - e_ms : 0;
    x.has_est = true;
    x.ppid = rec->pid_stats.ppid;
  }
  pthread_mutex_lock(&g_lock);
  if (rec->has_tgid) {
    x.key = (pid_t)rec->tgid;
    vals = rec->tgid_stats;
    /* signal->stats holds delays only: its context-switch fields are never filled */
    vals.present &= ~TS_F_CTXSW;
  } else if (rec->has_pid) {
    if ((rec->pid_stats.present & TS_F_TGID) && rec->pid_stats.tgid != 0 &&
        rec->pid_stats.tgid != rec->pid) {
      g_stats.exits_threads++; /* a thread of a live group: its delays stay in the group's */
      pthread_mutex_unlock(&g_lock);
      return 0;
    }
    x.key = (pid_t)rec->pid;
    vals = rec->pid_stats;
    x.exact_thread = true;
  } else {
    pthread_mutex_unlock(&g_lock);
    return 0;
  }
  stats_values(&vals, x.v);
  x.present = vals.present & (TS_F_ALL_DELAYS | TS_F_CTXSW);
  x.whole_process = rec->has_tgid || (rec->pid_stats.present & TS_F_TGID);
  bool routed = route_to_known(&x) || route_to_parent(&x);
  if (!routed)
    g_stats.exits_unrouted++;
  pthread_mutex_unlock(&g_lock);
  return routed ? 1 : 0;
}

delay_state_t *delay_state_create(void) {
  delay_state_t *st = calloc(1, sizeof(*st));
  if (st == NULL)
    return NULL;
  pthread_mutex_lock(&g_lock);
  st->next = g_states;
  if (g_states)
    g_states->prev = st;
  g_states = st;
  pthread_mutex_unlock(&g_lock);
  return st;
}

void delay_state_destroy(delay_state_t *st) {
  if (st == NULL)
    return;
  pthread_mutex_lock(&g_lock);
  if (st->prev)
    st->prev->next = st->next;
  else
    g_states = st->next;
  if (st->next)
    st->next->prev = st->prev;
  pthread_mutex_unlock(&g_lock);
  free(st->e);
  free(st);
}

void delay_get_stats(delay_stats_t *out) {
  pthread_mutex_lock(&g_lock);
  *out = g_stats;
  out->entries = 0;
  for (delay_state_t *st = g_states; st; st = st->next)
    out->entries += st->n;
  pthread_mutex_unlock(&g_lock);
}

/* ---- I/O ---- */

int delay_parse_starttime(const char *text, size_t len, uint64_t *ticks) {
  return procstate_parse_starttime(text, len, ticks);
}

static int read_start_ms(pid_t pid, uint64_t *ms) {
  char path[PATH_MAX + 32], buf[1024];
  snprintf(path, sizeof(path), "%s/%d/stat", g_proc_root, (int)pid);
  ssize_t len = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
  if (len < 0)
    return (int)len;
  uint64_t ticks;
  if (delay_parse_starttime(buf, (size_t)len, &ticks) != 0)
    return -EINVAL;
  *ms = ticks * 1000u / (uint64_t)g_hz;
  return 0;
}

static uint64_t g_state_checked_ms;
static int g_state_cached = -ENOENT;

int delay_accounting_state(const char *proc_root) {
  char path[PATH_MAX + 32], buf[32];
  snprintf(path, sizeof(path), "%s/sys/kernel/task_delayacct", proc_root);
  ssize_t len = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
  if (len < 0)
    return (int)len;
  return buf[0] == '1' ? 1 : 0;
}

int delay_accounting_enable(const char *proc_root) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof(path), "%s/sys/kernel/task_delayacct", proc_root);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = write(fd, "1\n", 2) == 2 ? 0 : -errno;
  close(fd);
  return rc;
}

/* The sysctl, read at most once a second for all containers. Without the sysctl (old kernels)
 * the boot parameter decided and delays are assumed on. */
static bool delay_on_now(uint64_t now_ms) {
  pthread_mutex_lock(&g_lock);
  if (g_state_checked_ms == 0 || now_ms >= g_state_checked_ms + 1000) {
    g_state_cached = delay_accounting_state(g_proc_root);
    g_state_checked_ms = now_ms ? now_ms : 1;
  }
  bool on = g_state_cached != 0;
  pthread_mutex_unlock(&g_lock);
  return on;
}

static void on_exit_record(const ts_exit_record_t *rec, void *arg);

/* The listener starts after the first answered TASKSTATS_CMD_GET: that proves the privilege,
 * so a collectd without CAP_NET_ADMIN gets the one error about it and nothing else. */
static void start_listener_once(void) {
  pthread_mutex_lock(&g_listener_lock);
  if (g_want_listener && !g_listener_tried) {
    g_listener_tried = true;
    ts_listener_t *l = NULL;
    if (ts_listener_start(NULL, on_exit_record, NULL, g_log, &l) == 0) {
      g_listener = l;
      if (g_log)
        g_log(LOG_INFO, "taskstats exit listener started: delay up to each process's exit is "
                        "counted.");
    }
  }
  pthread_mutex_unlock(&g_listener_lock);
}

static bool fatal_query_error(int rc) {
  return rc == -EPERM || rc == -ESHUTDOWN || rc == -ENOENT;
}

/* One container's part of the batch, once its processes' taskstats are in: s[0..n). */
static int finish_job(delay_job_t *job, delay_proc_sample_t *s, size_t n, uint64_t now,
                      bool delay_on) {
  delay_state_t *st = job->st;
  bool ask_cpus = st->cpus_age == 0 || !st->has_cpus;
  st->cpus_age = (st->cpus_age + 1) % DELAY_AFFINITY_READS;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  bool has_cpus = false;
  size_t got = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = s[i].ts.rc;
    if (fatal_query_error(rc))
      return rc;
    if (rc != 0)
      continue; /* -ESRCH: exited meanwhile (the listener has its record) */
    s[got++] = s[i];
    cpu_set_t mask;
    if (ask_cpus && sched_getaffinity(s[i].ts.tgid, sizeof(mask), &mask) == 0) {
      CPU_OR(&cpus, &cpus, &mask);
      has_cpus = true;
    }
  }
  if (ask_cpus) {
    st->cpus = cpus;
    st->has_cpus = has_cpus;
  } else {
    cpus = st->cpus;
    has_cpus = st->has_cpus && got > 0;
  }
  if (got > 0)
    start_listener_once();
  delay_totals_t *out = &job->out;
  delay_merge(st, s, got, now, delay_on, out);
  out->has_cpus = has_cpus;
  hs_cpumask_zero(&out->cpus);
  for (unsigned c = 0; c < CPU_SETSIZE && c < HOSTSTAT_MAX_CPUS; c++)
    if (CPU_ISSET(c, &cpus))
      hs_cpumask_set(&out->cpus, c);
  return 0;
}

void delay_sample_containers(delay_job_t *jobs, size_t n_jobs) {
  size_t total = 0;
  for (size_t j = 0; j < n_jobs; j++)
    total += jobs[j].n;
  delay_proc_sample_t *s = total ? calloc(total, sizeof(*s)) : NULL;
  size_t *first = calloc(n_jobs + 1, sizeof(*first)); /* each job's samples: first[j].. */
  if (first == NULL || (total && s == NULL)) {
    for (size_t j = 0; j < n_jobs; j++)
      jobs[j].rc = -ENOMEM;
    goto out;
  }
  /* Every container's live processes with their start times, then one batched query. */
  size_t m = 0;
  for (size_t j = 0; j < n_jobs; j++) {
    first[j] = m;
    for (size_t i = 0; i < jobs[j].n; i++) {
      pid_t tgid = jobs[j].tgids[i];
      uint64_t start, ticks;
      if (procstate_starts_find(jobs[j].known, tgid, &ticks))
        start = ticks * 1000u / (uint64_t)g_hz;
      else if (read_start_ms(tgid, &start) != 0)
        continue; /* gone */
      s[m].ts.tgid = tgid;
      s[m].start_ms = start;
      m++;
    }
  }
  first[n_jobs] = m;
  if (m > 0) /* into the samples themselves: each result is in its ts.rc */
    taskstats_query_tgids(&s->ts, m, sizeof(*s));
  uint64_t now = boot_ms();
  bool on = delay_on_now(now);
  for (size_t j = 0; j < n_jobs; j++)
    jobs[j].rc = finish_job(&jobs[j], s + first[j], first[j + 1] - first[j], now, on);
out:
  free(first);
  free(s);
}

int delay_sample_container(delay_state_t *st, const pid_t *tgids, size_t n,
                           const procstate_starts_t *known, delay_totals_t *out) {
  delay_job_t job = {.st = st, .tgids = tgids, .n = n, .known = known};
  delay_sample_containers(&job, 1);
  if (job.rc == 0)
    *out = job.out;
  return job.rc;
}

/* ---- init / shutdown ---- */

static void on_exit_record(const ts_exit_record_t *rec, void *arg) {
  (void)arg;
  delay_route_exit(rec, boot_ms());
}

int delay_init(const delay_config_t *cfg) {
  long hz = sysconf(_SC_CLK_TCK);
  g_hz = hz > 0 ? hz : 100;
  if (cfg && cfg->proc_root)
    snprintf(g_proc_root, sizeof(g_proc_root), "%s", cfg->proc_root);
  pthread_mutex_lock(&g_lock);
  g_state_checked_ms = 0;
  pthread_mutex_unlock(&g_lock);
  int rc = genl_init();
  if (rc != 0)
    return rc;
  pthread_mutex_lock(&g_listener_lock);
  g_want_listener = cfg && cfg->exit_listener;
  g_log = cfg ? cfg->log : NULL;
  g_listener_tried = false;
  pthread_mutex_unlock(&g_listener_lock);
  return 0;
}

void delay_shutdown(void) {
  pthread_mutex_lock(&g_listener_lock);
  ts_listener_stop(g_listener);
  g_listener = NULL;
  g_want_listener = false;
  pthread_mutex_unlock(&g_listener_lock);
}

bool delay_listener_running(void) {
  pthread_mutex_lock(&g_listener_lock);
  bool on = g_listener != NULL;
  pthread_mutex_unlock(&g_listener_lock);
  return on;
}
