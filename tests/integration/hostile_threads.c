/* hostile_threads N: starts N threads that block for ever (small stacks), prints "ready N" once
 * they all exist, then waits to be killed. For test_hostile.sh's container with 20,000 threads. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *block(void *arg) {
  (void)arg;
  for (;;)
    pause();
  return NULL;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN > 65536 ? PTHREAD_STACK_MIN : 65536);
  long made = 0;
  for (; made < n; made++) {
    pthread_t t;
    int rc = pthread_create(&t, &a, block, NULL);
    if (rc != 0) {
      fprintf(stderr, "pthread_create #%ld: %s\n", made + 1, strerror(rc));
      break;
    }
  }
  printf("ready %ld\n", made);
  fflush(stdout);
  for (;;)
    pause();
}
