/* The exit watcher (see exitwatch.h). */
#define _GNU_SOURCE /* pipe2 */
#include "plugin/exitwatch.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static int inotify_fd = -1;
static int stop_pipe[2] = {-1, -1};
static pthread_t thread;
static bool thread_running;
static char v2_path[PATH_MAX];
static int v2_root = -1;
/* Set when collectd begins to shut down (see exitwatch_quiesce): no event handled after it. */
static pthread_mutex_t event_lock = PTHREAD_MUTEX_INITIALIZER;
static bool quiesced;
static void (*on_event)(int wd);

void exitwatch_add(container_t *c) {
  if (inotify_fd < 0 || c->is_host || v2_root < 0)
    return;
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/%s/cgroup.events", v2_path, c->relpath) >= (int)sizeof(path))
    return;
  c->events_wd = inotify_add_watch(inotify_fd, path, IN_MODIFY);
}

void exitwatch_remove(container_t *c) {
  if (c->events_wd >= 0 && inotify_fd >= 0)
    inotify_rm_watch(inotify_fd, c->events_wd); /* EINVAL once the cgroup is gone: fine */
  c->events_wd = -1;
}

/* An event for watch wd, unless collectd is stopping: under event_lock, so quiesce waits for one
 * under way. */
static void event(int wd) {
  pthread_mutex_lock(&event_lock);
  if (!quiesced)
    on_event(wd);
  pthread_mutex_unlock(&event_lock);
}

static void *watch(void *arg) {
  (void)arg;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    struct pollfd fds[2] = {{.fd = inotify_fd, .events = POLLIN},
                            {.fd = stop_pipe[0], .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents)
      break;
    ssize_t len = read(inotify_fd, buf, sizeof(buf));
    if (len <= 0)
      continue;
    for (char *p = buf; p < buf + len;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->mask & IN_MODIFY)
        event(ev->wd);
      p += sizeof(*ev) + ev->len;
    }
  }
  return NULL;
}

static void close_all(void) {
  if (inotify_fd >= 0)
    close(inotify_fd);
  for (int i = 0; i < 2; i++)
    if (stop_pipe[i] >= 0)
      close(stop_pipe[i]);
  inotify_fd = stop_pipe[0] = stop_pipe[1] = -1;
}

void exitwatch_start(const char *path, int root_fd, void (*handler)(int wd)) {
  pthread_mutex_lock(&event_lock);
  quiesced = false;
  on_event = handler;
  pthread_mutex_unlock(&event_lock);
  if (root_fd < 0)
    return;
  v2_root = root_fd;
  snprintf(v2_path, sizeof(v2_path), "%s", path);
  inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0 || pipe2(stop_pipe, O_CLOEXEC) != 0 ||
      plugin_thread_create(&thread, watch, NULL, "container exit") != 0) {
    WARNING(PLUGIN_NAME " plugin: cannot watch cgroup.events (%s): a container's final values "
                        "are those of its last regular read.",
            strerror(errno));
    close_all();
    return;
  }
  thread_running = true;
}

void exitwatch_quiesce(void) {
  pthread_mutex_lock(&event_lock); /* waits for an event under way */
  quiesced = true;
  pthread_mutex_unlock(&event_lock);
}

void exitwatch_stop(void) {
  if (thread_running) {
    ssize_t w = write(stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(thread, NULL);
    thread_running = false;
  }
  close_all();
  v2_root = -1;
}
