/* bench/holder.c: a container's workload for bench/run.sh. "holder T" runs T threads (itself
 * included), all blocked in a futex wait, as a JVM's or a Go server's idle threads are; small
 * stacks, so thousands of them cost little memory. Killed by run.sh. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *wait_forever(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;)
    pthread_cond_wait(&never, &lock);
  return NULL;
}

int main(int argc, char **argv) {
  long threads = argc > 1 ? atol(argv[1]) : 1;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (long i = 1; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, &attr, wait_forever, NULL) != 0) {
      perror("holder: pthread_create");
      return 1;
    }
  }
  wait_forever(NULL);
  return 0;
}
