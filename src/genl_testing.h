/* What the tests of genl.c reach besides its API: its sockets, to check for leaks and leftovers.
 * Not for the plugin. */
#ifndef CONTAINER_GENL_TESTING_H
#define CONTAINER_GENL_TESTING_H

/* Number of sockets currently open (all threads): lets tests check for leaks. */
int genl_open_sockets(void);

/* The calling thread's socket descriptor, -1 when it has none: lets tests check that a request
 * leaves nothing unread behind it. */
int genl_thread_socket_fd(void);

#endif
