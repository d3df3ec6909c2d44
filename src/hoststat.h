/* The host's CPU time from ProcRoot/stat: per CPU and in total, idle and all. No collectd calls.
 *
 * idle = idle + iowait; total = user + nice + system + idle + iowait + irq + softirq + steal
 * (guest and guest_nice are already inside user and nice, as procps counts them). Units are the
 * file's: USER_HZ ticks (sysconf(_SC_CLK_TCK)). CPU lines need not be contiguous (an offline CPU
 * has none), the intr line can be far longer than any fixed buffer, and very old kernels give
 * only 4 numbers per line: all of that parses. */
#ifndef CONTAINER_HOSTSTAT_H
#define CONTAINER_HOSTSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTSTAT_MAX_CPUS 1024

/* A CPU set that needs no _GNU_SOURCE in the includer (the layout of glibc's cpu_set_t). */
typedef struct {
  uint64_t bits[HOSTSTAT_MAX_CPUS / 64];
} hs_cpumask_t;

static inline void hs_cpumask_zero(hs_cpumask_t *m) {
  for (unsigned i = 0; i < HOSTSTAT_MAX_CPUS / 64; i++)
    m->bits[i] = 0;
}
static inline void hs_cpumask_set(hs_cpumask_t *m, unsigned cpu) {
  if (cpu < HOSTSTAT_MAX_CPUS)
    m->bits[cpu / 64] |= 1ull << (cpu % 64);
}
static inline bool hs_cpumask_isset(const hs_cpumask_t *m, unsigned cpu) {
  return cpu < HOSTSTAT_MAX_CPUS && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

typedef struct {
  uint64_t idle, total;
} hoststat_cpu_t;

typedef struct {
  bool has_all;
  hoststat_cpu_t all;   /* the "cpu" line */
  hs_cpumask_t present; /* CPUs that have a cpuN line */
  unsigned n_cpus;      /* number of cpuN lines */
  hoststat_cpu_t cpu[HOSTSTAT_MAX_CPUS];
  bool has_btime;
  uint64_t btime; /* boot time, s since 1970 */
  /* The kernel's own task counts: procs_running is nr_running(), the runnable tasks (the
   * reading thread included); procs_blocked is nr_iowait(), the tasks waiting for I/O in
   * io_schedule() only: a subset of the uninterruptible tasks the load average counts. */
  bool has_procs;
  uint64_t procs_running, procs_blocked;
} hoststat_t;

/* Parses the text of /proc/stat (len bytes, need not be NUL-terminated). Returns 0, or -EINVAL
 * when there is no usable "cpu" line. cpuN lines beyond HOSTSTAT_MAX_CPUS are ignored. */
int hoststat_parse(const char *text, size_t len, hoststat_t *out);

/* Reads and parses PROC_ROOT/stat, however long it is. Returns 0 or -errno. */
int hoststat_read(const char *proc_root, hoststat_t *out);

/* ProcRoot/loadavg: "1.05 0.70 0.31 3/109 19540": the kernel's averages as it prints them
 * (avenrun + 1/200, two decimals truncated), runnable tasks (nr_running(), the reader included)
 * / threads, and the last PID. */
typedef struct {
  double avg[3];          /* 1, 5, 15 minutes */
  uint32_t hundredths[3]; /* the same, exactly: 105 for "1.05" */
  uint64_t running, threads;
  uint64_t last_pid;
} hostload_t;

/* Parses the text of /proc/loadavg (len bytes, need not be NUL-terminated). Returns 0, or
 * -EINVAL when it is not that format. */
int hostload_parse(const char *text, size_t len, hostload_t *out);

/* Reads and parses PROC_ROOT/loadavg. Returns 0 or -errno. */
int hostload_read(const char *proc_root, hostload_t *out);

/* Sums idle and total over the CPUs in mask that have a line (mask NULL: the "cpu" line, or the
 * sum of the cpuN lines without one). *ncpus gets the number of CPUs summed (0 for the "cpu"
 * line). Returns 0, or -ENOENT when nothing could be summed. */
int hoststat_sum(const hoststat_t *h, const hs_cpumask_t *mask, uint64_t *idle, uint64_t *total,
                 unsigned *ncpus);

#endif
