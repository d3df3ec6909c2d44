/* What the tests of netns.c reach besides its API: failures on demand and a job counter. Not for
 * the plugin. */
#ifndef CONTAINER_NETNS_TESTING_H
#define CONTAINER_NETNS_TESTING_H

/* make the next n returns to the host namespace fail as if setns() had failed. */
void netns_test_fail_returns(unsigned n);

/* how many jobs workers have taken up since the process started (a job resumed by a
 * replacement worker counts again). */
unsigned long netns_test_jobs_taken_up(void);

#endif
