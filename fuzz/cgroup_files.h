/* The files the cgroup fuzz targets feed to the readers, in the order of the packed input
 * (fakefs.h). Shared by fuzz_cgroup_v1.c, fuzz_cgroup_v2.c and pack_seeds.c, which builds seeds in
 * this format from fixture directories. */
#ifndef FUZZ_CGROUP_FILES_H
#define FUZZ_CGROUP_FILES_H

static const char *const cgroup_v2_files[] = {
    "cpu.stat",    "cpu.max",      "memory.current",  "memory.max",  "memory.swap.current",
    "memory.peak", "memory.stat",  "memory.events",   "io.stat",     "pids.current",
    "pids.max",    "cpu.pressure", "memory.pressure", "io.pressure",
};
#define CGROUP_V2_NFILES (sizeof(cgroup_v2_files) / sizeof(cgroup_v2_files[0]))

static const char *const cgroup_v1_files[] = {
    "cpuacct.usage_user",
    "cpuacct.usage_sys",
    "cpuacct.stat",
    "cpu.stat",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "memory.usage_in_bytes",
    "memory.limit_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.stat",
    "memory.oom_control",
    "blkio.throttle.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes",
    "blkio.throttle.io_serviced_recursive",
    "blkio.throttle.io_serviced",
    "pids.current",
    "pids.max",
};
#define CGROUP_V1_NFILES (sizeof(cgroup_v1_files) / sizeof(cgroup_v1_files[0]))

#endif
