/* What the tests of genl.c reach besides its API: its sockets, to check for leaks and leftovers.
 * Not for the plugin. */
#ifndef CONTAINER_GENL_TESTING_H
#define CONTAINER_GENL_TESTING_H

/* Number of sockets currently open (all threads): lets tests check for leaks. */
int genl_open_sockets(void);

/* The calling thread's socket descriptor, -1 when it has none: lets tests check that a request
 * leaves nothing unread behind it. */
int genl_thread_socket_fd(void);

#include <stddef.h>

/* The calling thread's socket: its receive buffer (as getsockopt reports it), its batch size now,
 * and since it was opened, the overflows (ENOBUFS) seen and the requests sent again for them. */
typedef struct {
  int rcvbuf;
  size_t batch;
  unsigned long overruns, resent;
} genl_socket_stats_t;

/* Fills *out for the calling thread's socket: 0, or -ENOENT when the thread has none. */
int genl_thread_socket_stats(genl_socket_stats_t *out);

#endif
