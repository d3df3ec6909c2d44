#include "proccgroup.h"

#include "testutil.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char *load(const char *sample) {
  static char buf[16384];
  char path[1024];
  snprintf(path, sizeof(path), "%s/proc-pid-cgroup/%s/cgroup", real_fixture_dir(), sample);
  ssize_t n = read_file_at(AT_FDCWD, path, buf, sizeof(buf));
  if (n < 0) {
    fprintf(stderr, "missing fixture %s\n", path);
    test_checks++;
    test_failures++;
    buf[0] = '\0';
  }
  return buf;
}

#define HAS(sample, rel) proc_cgroup_text_has(load(sample), rel)

static void test_fixtures(void) {
  /* Colons inside the path, last line without a newline. */
  const char *sshd = "/system.slice/system-sshd.slice/sshd@126-10.240.0.15:22-xxx.yyy.zzz.aaa:33678"
                     ".service";
  CHECK(HAS("runc-coreos-v1-colons-17", sshd));
  CHECK(HAS("runc-coreos-v1-colons-17", "/system.slice/system-sshd.slice"));
  CHECK(!HAS("runc-coreos-v1-colons-17", "/system.slice/system-sshd"));
  CHECK(!HAS("runc-coreos-v1-colons-17", "/system.slice/system-sshd.slice/sshd@126-10.240.0.15"));
  CHECK(!HAS("runc-coreos-v1-colons-17", "/22-xxx.yyy.zzz.aaa"));

  /* containerd's systemd driver: "slice:cri-containerd:<id>" on the memory line. */
  CHECK(HAS("jdk-colons-SPLICED-25",
            "/system.slice/containerd.service/kubepods-burstable-podf65e797d_d5f9_4604_9773_"
            "94f4bb9946a0.slice:cri-containerd:"
            "86ac6260f9f8a9c1276748250f330ae9c2fcefe5ae809364ad1e45f3edf7e08a"));
  CHECK(!HAS("jdk-colons-SPLICED-25", "/cri-containerd"));

  /* Joined controllers and name=systemd. */
  CHECK(HAS("jdk-joined-controllers-23", "/user.slice/user-1000.slice/session-3.scope"));
  CHECK(HAS("jdk-joined-controllers-23", "user.slice"));
  CHECK(!HAS("jdk-joined-controllers-23", "/user.slice/user-1000.slice/session-4.scope"));

  /* Pure v1, no 0:: line, no trailing newline: pod and container level. */
  const char *pod = "/kubepods/burstable/pod6a4ce4a0-ba47-11ea-b2a7-0cc47ac5979e";
  char ctr[256];
  snprintf(ctr, sizeof(ctr), "%s/%s", pod,
           "17db96a24ae1e9dd57143e62b1cb0d2d35e693c65c774c7470e87b0572e07c1a");
  CHECK(HAS("coroot-pid300-8", ctr));
  CHECK(HAS("coroot-pid300-8", pod));
  CHECK(HAS("coroot-pid300-8", "/kubepods/"));
  CHECK(!HAS("coroot-pid300-8", "/kubepods/besteffort"));
  CHECK(!HAS("coroot-pid300-8", "/docker"));

  /* Docker cgroupfs driver on v1, each controller its own hierarchy. */
  CHECK(HAS("elastic-docker-v1-4",
            "/docker/b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242"));
  CHECK(!HAS("elastic-docker-v1-4",
             "/docker/b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba424"));

  /* v2 only, no trailing newline; leading slash optional in the argument. */
  const char *scope =
      "system.slice/docker-1c8fa019edd4b9d4b2856f4932c55929c5c118c808ed5faee9a135ca6e84b039.scope";
  CHECK(HAS("elastic-docker-v2-5", scope));
  CHECK(HAS("elastic-docker-v2-5", "/system.slice/"));
  CHECK(!HAS("elastic-docker-v2-5", "/system.slice/docker"));

  /* Rootless podman: the process sits in the "/container" sub-cgroup of the scope. */
  CHECK(HAS("kepler-pid3538317-20",
            "/user.slice/user-1000.slice/user@1000.service/user.slice/"
            "libpod-f992ec4ed807f76e5e54c9c67d78f0a4105bf945420271c2558ba905e38d2108.scope"));

  /* Hybrid: the v1 and v2 lines disagree; any line may match. */
  CHECK(HAS("coroot-pid2000-7", "/reserved.slice/containerd.service"));
  CHECK(HAS("coroot-pid2000-7", "/kubepods/burstable/pod8833712d-6e69-4f5c-95f3-aebd020ce2e7"));
  CHECK(HAS("coroot-pid600-16", "/system.slice/springboot.service"));
  CHECK(HAS("coroot-pid600-16", "/init.scope"));

  /* Everything at the root: only the root matches. */
  CHECK(HAS("elastic-amzn2-v1-init-1", "/"));
  CHECK(HAS("elastic-amzn2-v1-init-1", ""));
  CHECK(!HAS("elastic-amzn2-v1-init-1", "/kubepods"));

  /* Seen through a cgroup namespace ("/../../x"): relative paths never match a host path, so
   * collectd has to run in the host's cgroup namespace. */
  CHECK(!HAS("elastic-docker2-cgroupns-6", "/user-1000.slice/session-520.scope"));
  CHECK(!HAS("coroot-pid500-11", "/system.slice"));
}

static void test_text(void) {
  CHECK(!proc_cgroup_text_has("", "/"));
  CHECK(!proc_cgroup_text_has("garbage\n", "/"));
  CHECK(!proc_cgroup_text_has("0:/a\n", "/a"));      /* one colon only */
  CHECK(!proc_cgroup_text_has("0::\n", "/"));        /* empty path */
  CHECK(proc_cgroup_text_has("0::/a/b/\n", "/a/b")); /* trailing slash */
  CHECK(proc_cgroup_text_has("0::/a/b\n", "/a/b/")); /* trailing slash in the argument */
  CHECK(proc_cgroup_text_has("\n\n0::/a\n\n", "a"));
  CHECK(proc_cgroup_text_has("0::/a:b:c", "/a:b:c"));
  CHECK(!proc_cgroup_text_has("0::/a:b:c", "/a"));
  /* A zombie left in a removed cgroup is no member. */
  CHECK(!proc_cgroup_text_has("0::/docker/abc (deleted)\n", "/docker/abc"));
  CHECK(proc_cgroup_text_has("0::/docker/abc (deleted)\n", "/docker"));
}

static void test_files(void) {
  char root[] = "/tmp/test_proccgroup.XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  char dir[256], file[300];
  snprintf(dir, sizeof(dir), "%s/4242", root);
  CHECK(mkdir(dir, 0755) == 0);
  snprintf(file, sizeof(file), "%s/cgroup", dir);
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(load("coroot-pid400-10"), f);
    fclose(f);
  }
  CHECK(proc_pid_in_cgroup(root, 4242, "/kubepods.slice/kubepods-besteffort.slice"));
  CHECK(!proc_pid_in_cgroup(root, 4242, "/kubepods.slice/kubepods-burstable.slice"));
  CHECK(!proc_pid_in_cgroup(root, 4243, "/")); /* no such process */
  unlink(file);
  rmdir(dir);
  rmdir(root);

  /* The real /proc: this process is below the root, and in its own cgroup. */
  CHECK(proc_pid_in_cgroup("/proc", getpid(), "/"));
  char self[4096];
  if (read_file_at(AT_FDCWD, "/proc/self/cgroup", self, sizeof(self)) > 0) {
    char *p = strstr(self, "0::");
    if (p != NULL) {
      p += 3;
      p[strcspn(p, "\n")] = '\0';
      CHECK(proc_pid_in_cgroup("/proc", getpid(), p));
    }
  }
}

int main(void) {
  test_fixtures();
  test_text();
  test_files();
  return test_result("test_proccgroup");
}
