/* Block device names for MAJ:MIN pairs, from PROC_ROOT/partitions. Thread-safe: collectd calls
 * the per-container read callbacks from several threads. No collectd calls here. */
#ifndef CONTAINER_BLOCKDEV_H
#define CONTAINER_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Minimum time between two re-loads triggered by lookups of unknown devices. */
#define BLOCKDEV_RELOAD_INTERVAL_S 10

/* Sets the proc root (e.g. "/proc", or a fixture tree's proc dir) and loads the table. A missing
 * or unreadable partitions file is not an error here: every lookup then falls back to "MAJ-MIN".
 * Returns 0, or -ENAMETOOLONG / -ENOMEM. May be called again to switch roots. */
int blockdev_init(const char *proc_root);

/* Frees the table. Lookups after this return the fallback name. */
void blockdev_shutdown(void);

/* Writes the device's name into buf (e.g. 8:0 -> "sda", 253:0 -> "dm-0"); for a device not in
 * the partitions file, re-loads it (at most every BLOCKDEV_RELOAD_INTERVAL_S seconds) and
 * otherwise writes "MAJ-MIN" (no ':' so the name is safe for graphite and file names).
 * Returns true when the name came from the partitions file. buf is always NUL-terminated. */
bool blockdev_name(uint32_t major, uint32_t minor, char *buf, size_t size);

/* For tests: changes the re-load interval (seconds, 0 = re-load on every miss). */
void blockdev_set_reload_interval(unsigned seconds);

#endif
