/* bench/taskiter.bpf.c: task states per container cgroup for every task on the host in one pass
 * (an iter/task program), to measure what a BPF source of the load's task counts would cost
 * against /proc/TID/stat reads. Bench only: not part of the plugin. Classifies like /proc's
 * letter (task_state_index): TASK_REPORT bits, idle as I, rtlock waits and frozen tasks as D.
 * Counts a task in the cgroup it is in on the default hierarchy (no subtree sums). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct counts {
  __u64 gen;
  __u32 r, d, s, other;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64); /* cgroup id: the directory's inode number */
  __type(value, struct counts);
} by_cgroup SEC(".maps");

__u64 gen = 0; /* the pass under way: counts of an older pass start again from 0 */

SEC("iter/task")
int count_states(struct bpf_iter__task *ctx) {
  struct task_struct *t = ctx->task;
  if (!t)
    return 0;
  __u64 id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
  struct counts *c = bpf_map_lookup_elem(&by_cgroup, &id);
  if (!c)
    return 0; /* not a container's cgroup: the map holds only those */
  if (c->gen != gen) {
    c->gen = gen;
    c->r = c->d = c->s = c->other = 0;
  }
  unsigned int state = BPF_CORE_READ(t, __state);
  unsigned int rep = (state | (unsigned int)BPF_CORE_READ(t, exit_state)) & 0x7f;
  if ((state & 0x402) == 0x402)
    rep = 0x80; /* TASK_IDLE: I */
  else if (state & (0x1000 | 0x8000))
    rep = 2; /* TASK_RTLOCK_WAIT, TASK_FROZEN: D */
  if (rep == 0)
    c->r++;
  else if (rep == 2)
    c->d++;
  else if (rep == 1)
    c->s++;
  else
    c->other++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
