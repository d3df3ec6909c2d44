/* Per-container cache of kept-open cgroup file descriptors: a read is one pread() instead of
 * openat+read+close. No collectd calls here. */
#ifndef CONTAINER_CGFILES_H
#define CONTAINER_CGFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Kept fds are moved to this number or above, so code that uses select() (exec plugin...) keeps
 * getting low fds. */
#define CG_FILES_MIN_FD 1024

/* Reads of a missing file answered from memory before trying to open it again (a v2 controller
 * can be enabled later, creating the file). */
#define CG_FILES_NEG_READS 30

typedef struct cg_files cg_files_t;

/* NULL on ENOMEM. */
cg_files_t *cg_files_create(void);

/* Closes every kept fd and frees f. NULL is fine. */
void cg_files_destroy(cg_files_t *f);

/* Closes every kept fd and forgets every entry; f stays usable. Call it before closing (or
 * reusing the number of) a directory fd that f has seen. */
void cg_files_close_all(cg_files_t *f);

/* Reads file name relative to directory fd dirfd into buf, NUL-terminated: same contract as
 * read_file_at() (util.h), the length or -errno, -EFBIG if longer than size - 1.
 * Entries are keyed by (dirfd number, name): the caller keeps each dirfd meaning the same
 * directory while f has entries for it. A failed read of a kept fd (-ENODEV: cgroup removed)
 * closes and forgets it; the next call opens the file again. A missing file (-ENOENT,
 * -EOPNOTSUPP) returns the same error for the next CG_FILES_NEG_READS calls without a syscall.
 * One thread at a time per f. f == NULL, or a budget of 0: plain read_file_at(). */
ssize_t cg_files_read(cg_files_t *f, int dirfd, const char *name, char *buf, size_t size);

/* The kept fd of name, for a caller that reads it itself (pread from offset 0; a file longer
 * than any buffer). Returns the fd (owned by f), -EMFILE when it cannot be kept (budget, f NULL:
 * open and close it yourself), or -errno of the open (a missing file answers from memory like
 * cg_files_read). After a failed read of the fd (ENODEV: cgroup removed), call
 * cg_files_forget(). */
int cg_files_fd(cg_files_t *f, int dirfd, const char *name);
void cg_files_forget(cg_files_t *f, int dirfd, const char *name);

/* For a caller that reads name itself with pread() from offset 0 (a list longer than any
 * buffer): the kept fd (*kept true), else a fresh fd for this read only (no budget, f NULL).
 * Returns the fd or -errno (a known-missing file answers from memory). */
int cg_files_open_for_read(cg_files_t *f, int dirfd, const char *name, bool *kept);
/* Ends that read: closes a fresh fd; a kept fd whose read failed (read_err, the pread's -errno,
 * else 0) is forgotten, to be opened again next time. Returns read_err, with -ENODEV of a kept
 * fd (its cgroup removed) as -ENOENT, what an open would have said. */
int cg_files_end_read(cg_files_t *f, int dirfd, const char *name, int fd, bool kept, int read_err);

/* Process-wide number of fds all caches may keep together (default 0: keep nothing). Lowering it
 * closes nothing: it only stops new fds from being kept. */
void cg_files_set_budget(long max_kept);

/* Fds currently kept, process-wide. */
long cg_files_kept(void);

/* For fds the caller keeps itself (a container's directories): takes n from the budget, or
 * nothing and false when they do not fit. cg_files_unreserve gives them back. */
bool cg_files_reserve(long n);
void cg_files_unreserve(long n);

/* Moves *fd to CG_FILES_MIN_FD or above (closing the old one) when the fd limit allows. */
void cg_files_move_high(int *fd);

#endif
