/* container_identify() against real /proc/PID/cgroup lines, kepler's path forms and near misses. */
#include "identify.h"
#include "testutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#define ID_B29F "b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242"
#define ID_1C8F "1c8fa019edd4b9d4b2856f4932c55929c5c118c808ed5faee9a135ca6e84b039"
#define ID_CF87 "cf87ba651579c9231db817909e7865e5747bd7abcac0c57ce23cf4abbaee046b"
#define ID_B176 "b176419186d75a44628851daf7841d3374a2ec56d0b038ee3bd1e0c6d331e5b1"
#define ID_BA7B "ba7b10d15d16e10e3de7a2dcd408a3d971169ae303f46cfad4c5453c6326fee2"
#define ID_95CB "95cbe853416f52d927dec41f1406dd75015ea131244a1ca875a7cd4ebe927ac8"
#define ID_17DB "17db96a24ae1e9dd57143e62b1cb0d2d35e693c65c774c7470e87b0572e07c1a"
#define ID_7305 "73051af271105c07e1f493b34856a77e665e3b0b4fc72f76c807dfbffeb881bd"
#define ID_1D3D "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496"
#define ID_86AC "86ac6260f9f8a9c1276748250f330ae9c2fcefe5ae809364ad1e45f3edf7e08a"
#define ID_F992 "f992ec4ed807f76e5e54c9c67d78f0a4105bf945420271c2558ba905e38d2108"
#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* The path of the line whose "N:controllers:" part starts with prefix, split on the first two
 * colons only (paths may contain colons). */
static const char *cgroup_line(const char *dir, const char *prefix) {
  static char path[16384];
  static char text[16384];
  char file[4096];
  snprintf(file, sizeof(file), "%s/proc-pid-cgroup/%s/cgroup", real_fixture_dir(), dir);
  if (read_file_at(AT_FDCWD, file, text, sizeof(text)) < 0) {
    fprintf(stderr, "cannot read %s\n", file);
    test_failures++;
    return "";
  }
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, prefix, strlen(prefix)) != 0)
      continue;
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      break;
    snprintf(path, sizeof(path), "%s", c2 + 1);
    return path;
  }
  fprintf(stderr, "%s: no line %s\n", file, prefix);
  test_failures++;
  return "";
}

static void expect(const char *path, container_runtime_t rt, const char *id, const char *pod,
                   bool k8s, bool top, const char *top_path) {
  container_ident_t c;
  bool ok = container_identify(path, &c);
  test_checks++;
  if (!ok) {
    test_failures++;
    fprintf(stderr, "not recognised: %s\n", path);
    return;
  }
  CHECK_INT(c.runtime, rt);
  CHECK_STR(c.id, id);
  CHECK_STR(c.pod_uid, pod);
  CHECK_INT(c.kubernetes, k8s);
  CHECK_INT(c.is_top, top);
  CHECK_INT(c.top_len, strlen(top_path));
  CHECK(strncmp(path, top_path, strlen(top_path)) == 0);
}

static void reject(const char *path) {
  container_ident_t c;
  bool ok = container_identify(path, &c);
  test_checks++;
  if (ok) {
    test_failures++;
    fprintf(stderr, "recognised but should not be: %s (id %s)\n", path, c.id);
  }
  CHECK_INT(c.runtime, CT_RUNTIME_NONE);
}

static void real_lines(void) {
  const char *p;
  p = cgroup_line("elastic-docker-v1-4", "5:memory:");
  expect(p, CT_RUNTIME_DOCKER, ID_B29F, "", false, true, p);
  p = cgroup_line("elastic-docker-v2-5", "0::");
  expect(p, CT_RUNTIME_DOCKER, ID_1C8F, "", false, true, p);
  p = cgroup_line("coroot-pid800-13", "0::");
  expect(p, CT_RUNTIME_DOCKER, ID_CF87, "", false, true, p);
  p = cgroup_line("kepler-pid3456208-21", "0::");
  expect(p, CT_RUNTIME_DOCKER, ID_B176, "", false, true, p);
  /* Seen through a cgroup namespace: "/../../../../system.slice/docker-<id>.scope". */
  p = cgroup_line("coroot-pid500-11", "0::");
  expect(p, CT_RUNTIME_DOCKER, ID_BA7B, "", false, true, p);

  p = cgroup_line("coroot-pid2000-7", "12:memory:");
  expect(p, CT_RUNTIME_KUBERNETES, ID_95CB, "8833712d-6e69-4f5c-95f3-aebd020ce2e7", true, true, p);
  reject(cgroup_line("coroot-pid2000-7", "0::")); /* reserved.slice/containerd.service */
  p = cgroup_line("coroot-pid300-8", "10:memory:");
  expect(p, CT_RUNTIME_KUBERNETES, ID_17DB, "6a4ce4a0-ba47-11ea-b2a7-0cc47ac5979e", true, true, p);
  p = cgroup_line("coroot-pid400-10", "0::");
  expect(p, CT_RUNTIME_DOCKER, ID_7305, "8712f785-1a3e-41ec-a00b-e2dcc77431cb", true, true, p);
  p = cgroup_line("elastic-amzn2-v1-k8s-2", "11:memory:");
  expect(p, CT_RUNTIME_CONTAINERD, ID_1D3D, "7a96c459-d529-44ae-9f99-90d3798d6426", true, true, p);
  reject(cgroup_line("elastic-amzn2-v1-k8s-2", "0::"));
  p = cgroup_line("jdk-colons-SPLICED-25", "11:memory:");
  expect(p, CT_RUNTIME_CONTAINERD, ID_86AC, "f65e797d-d5f9-4604-9773-94f4bb9946a0", true, true, p);

  /* Rootless podman: the processes sit in ".../libpod-<id>.scope/container". */
  p = cgroup_line("kepler-pid3538317-20", "0::");
  expect(p, CT_RUNTIME_PODMAN, ID_F992, "", false, false,
         "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_F992 ".scope");
  p = cgroup_line("coroot-pid3000-9", "0::");
  expect(p, CT_RUNTIME_LXC, "first", "", false, false, "/lxc.payload.first");

  reject(cgroup_line("coroot-pid100-14", "7:cpu,cpuacct:"));    /* docker.service */
  reject(cgroup_line("coroot-pid550-12", "0::"));               /* ssh.service */
  reject(cgroup_line("kepler-pid43251-22", "0::"));             /* tmux-spawn-<uuid>.scope */
  reject(cgroup_line("runc-coreos-v1-colons-17", "2:memory:")); /* sshd@...:22-...:33678 */
  reject(cgroup_line("elastic-docker2-cgroupns-6", "0::"));
  reject(cgroup_line("jdk-desktop-hybrid-24", "0::")); /* vte-spawn-<uuid>.scope */
  reject(cgroup_line("containerd-systemd240-hybrid-19", "0::"));
  reject(cgroup_line("elastic-amzn2-v1-init-1", "0::"));
  reject(cgroup_line("coroot-pid600-16", "1:name=systemd:"));
}

/* Forms from kepler's internal/resource/container_test.go (not copied as fixture files). */
static void kepler_forms(void) {
  const char *p;
  /* kind node: a Kubernetes node inside a Docker container. The outer container wins. */
  p = "/system.slice/docker-fd9d0ea06257a9780827cbc7fd92e3812a54fca26d63e191b73610d5d48b9cbd."
      "scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
      "kubelet-kubepods-besteffort-podeab5a334_93fe_48a8_b139_9e8079c1f163.slice/"
      "cri-containerd-99f3a16ea25b7724cb56a4f0c0df1113ad9474fbf5545bead97fd5c7f61c13f4.scope";
  expect(p, CT_RUNTIME_DOCKER, "fd9d0ea06257a9780827cbc7fd92e3812a54fca26d63e191b73610d5d48b9cbd",
         "", false, false,
         "/system.slice/docker-fd9d0ea06257a9780827cbc7fd92e3812a54fca26d63e191b73610d5d48b9cbd."
         "scope");
  p = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podd0511cd2_29d2_4215_be0f_"
      "f77bc0609d99.slice/crio-f93ee491b8ed2680d5a909eb098b14a9430173b57ca1c4efedd8768566d67e8e."
      "scope";
  expect(p, CT_RUNTIME_CRIO, "f93ee491b8ed2680d5a909eb098b14a9430173b57ca1c4efedd8768566d67e8e",
         "d0511cd2-29d2-4215-be0f-f77bc0609d99", true, true, p);
  p = "/system.slice/docker-2fa3e04b676df750842faf017052dd37ea0cc5bc7259a3487a1718c7fe100c94.scope";
  expect(p, CT_RUNTIME_DOCKER, "2fa3e04b676df750842faf017052dd37ea0cc5bc7259a3487a1718c7fe100c94",
         "", false, true, p);
  p = "kubelet/kubepods/besteffort/podbdd4097d-6795-404e-9bd8-6a1383386198/"
      "c79788e0da15a6597263eb2b9c51d05dd1a9a1d08c53c1161dc8c45d2dac6b38";
  expect(p, CT_RUNTIME_KUBERNETES,
         "c79788e0da15a6597263eb2b9c51d05dd1a9a1d08c53c1161dc8c45d2dac6b38",
         "bdd4097d-6795-404e-9bd8-6a1383386198", true, true, p);
  p = "/system.slice/containerd.service/kubepods-burstable-poda3b200c9_db51_40b4_9d2d_53f8fdf80d7f"
      ".slice:cri-containerd:286b15051ec43375190802e1f40562536980a8fd97e75bb89c7f2eec6f995f17";
  expect(p, CT_RUNTIME_CONTAINERD,
         "286b15051ec43375190802e1f40562536980a8fd97e75bb89c7f2eec6f995f17",
         "a3b200c9-db51-40b4-9d2d-53f8fdf80d7f", true, true, p);
  p = "/kubepods/burstable/podf6adb0af-0855-4bab-b25b-c853f18d0ce2/"
      "35b97177dada20362ab90d90ac63cd54e8a41cf87bea34f270631b6da17f4a93";
  expect(p, CT_RUNTIME_KUBERNETES,
         "35b97177dada20362ab90d90ac63cd54e8a41cf87bea34f270631b6da17f4a93",
         "f6adb0af-0855-4bab-b25b-c853f18d0ce2", true, true, p);
  p = "/machine.slice/libpod-06dc5f321aad8726aa26559f16ec203bc099245bc44894b14a89fc02b022d1d5."
      "scope/container";
  expect(p, CT_RUNTIME_PODMAN, "06dc5f321aad8726aa26559f16ec203bc099245bc44894b14a89fc02b022d1d5",
         "", false, false,
         "/machine.slice/libpod-06dc5f321aad8726aa26559f16ec203bc099245bc44894b14a89fc02b022d1d5."
         "scope");
  p = "/machine.slice/"
      "libpod-8e363eb2287da4ccc9f52ffc5de11252ac5fe707e3ddb917a3c0bdf9bb64165b.scope";
  expect(p, CT_RUNTIME_PODMAN, "8e363eb2287da4ccc9f52ffc5de11252ac5fe707e3ddb917a3c0bdf9bb64165b",
         "", false, true, p);
  p = "/system.slice/kepler.service/libpod-payload-"
      "8e363eb2287da4ccc9f52ffc5de11252ac5fe707e3ddb917a3c0bdf9bb64165b";
  expect(p, CT_RUNTIME_PODMAN, "8e363eb2287da4ccc9f52ffc5de11252ac5fe707e3ddb917a3c0bdf9bb64165b",
         "", false, true, p);
  p = "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
      "kubelet-kubepods-burstable-pod3cae2e45_052c_4b11_80d3_4d7b2d2d3464.slice/cri-containerd-"
      "2b180104511194aab36fd295d3e217439f3ddb5bc88277f37b4952abee85c40e.scope";
  expect(p, CT_RUNTIME_CONTAINERD,
         "2b180104511194aab36fd295d3e217439f3ddb5bc88277f37b4952abee85c40e",
         "3cae2e45-052c-4b11-80d3-4d7b2d2d3464", true, true, p);
  p = "/docker/ce82d94d69e1fbbc7feeb66930c69e9b96d9f151f594773e5d0e342741d15437";
  expect(p, CT_RUNTIME_DOCKER, "ce82d94d69e1fbbc7feeb66930c69e9b96d9f151f594773e5d0e342741d15437",
         "", false, true, p);
  p = "/libpod-1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";
  expect(p, CT_RUNTIME_PODMAN, "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
         "", false, true, p);
  /* No runtime is known to create a bare "docker-<id>" (without .scope): not recognised. */
  reject("/docker-ce82d94d69e1fbbc7feeb66930c69e9b96d9f151f594773e5d0e342741d15437");
  reject("/system.slice/ssh.service");
}

static void more_forms(void) {
  expect("docker/" ID_A, CT_RUNTIME_DOCKER, ID_A, "", false, true, "docker/" ID_A);
  expect("/docker/" ID_A "/", CT_RUNTIME_DOCKER, ID_A, "", false, true, "/docker/" ID_A);
  expect("/docker/" ID_A "/init", CT_RUNTIME_DOCKER, ID_A, "", false, false, "/docker/" ID_A);
  /* Docker cgroupfs below a prefix, and Docker-in-Docker (outer wins). */
  expect("/some/parent/docker/" ID_A, CT_RUNTIME_DOCKER, ID_A, "", false, true,
         "/some/parent/docker/" ID_A);
  expect("/kubepods/docker/" ID_A, CT_RUNTIME_DOCKER, ID_A, "", true, true,
         "/kubepods/docker/" ID_A);
  expect("/docker/" ID_A "/docker/" ID_B, CT_RUNTIME_DOCKER, ID_A, "", false, false,
         "/docker/" ID_A);
  expect("/system.slice/docker-" ID_A ".scope (deleted)", CT_RUNTIME_DOCKER, ID_A, "", false, true,
         "/system.slice/docker-" ID_A ".scope");
  expect("/system.slice/nerdctl-" ID_A ".scope", CT_RUNTIME_CONTAINERD, ID_A, "", false, true,
         "/system.slice/nerdctl-" ID_A ".scope");
  /* Guaranteed QoS pods sit directly under kubepods. */
  expect(
      "/kubepods.slice/kubepods-pod0ad2a1b4_1c1d_4e3f_9a8b_7c6d5e4f3a2b.slice/cri-containerd-" ID_A
      ".scope",
      CT_RUNTIME_CONTAINERD, ID_A, "0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b", true, true,
      "/kubepods.slice/kubepods-pod0ad2a1b4_1c1d_4e3f_9a8b_7c6d5e4f3a2b.slice/cri-containerd-" ID_A
      ".scope");
  expect("/kubepods/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/" ID_A, CT_RUNTIME_KUBERNETES, ID_A,
         "0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b", true, true,
         "/kubepods/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/" ID_A);
  expect("/kubepods/besteffort/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/crio-" ID_A, CT_RUNTIME_CRIO,
         ID_A, "0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b", true, true,
         "/kubepods/besteffort/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/crio-" ID_A);
  /* Pod UID written with systemd escapes instead of '_'. */
  expect("/kubepods.slice/kubepods-besteffort.slice/"
         "kubepods-besteffort-pod0ad2a1b4\\x2d1c1d\\x2d4e3f\\x2d9a8b\\x2d7c6d5e4f3a2b.slice/"
         "crio-" ID_A ".scope/container",
         CT_RUNTIME_CRIO, ID_A, "0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b", true, false,
         "/kubepods.slice/kubepods-besteffort.slice/"
         "kubepods-besteffort-pod0ad2a1b4\\x2d1c1d\\x2d4e3f\\x2d9a8b\\x2d7c6d5e4f3a2b.slice/"
         "crio-" ID_A ".scope");
  expect("/machine.slice/machine-libpod_pod_" ID_B ".slice/libpod-" ID_A ".scope",
         CT_RUNTIME_PODMAN, ID_A, "", false, true,
         "/machine.slice/machine-libpod_pod_" ID_B ".slice/libpod-" ID_A ".scope");
  expect("/libpod_parent/libpod-" ID_A, CT_RUNTIME_PODMAN, ID_A, "", false, true,
         "/libpod_parent/libpod-" ID_A);
  expect("lxc/web1", CT_RUNTIME_LXC, "web1", "", false, true, "lxc/web1");
  expect("/lxc/web1/ns", CT_RUNTIME_LXC, "web1", "", false, false, "/lxc/web1");
  expect("/lxc.payload.web1", CT_RUNTIME_LXC, "web1", "", false, true, "/lxc.payload.web1");
  expect("/lxc.payload.web1/system.slice/foo.service", CT_RUNTIME_LXC, "web1", "", false, false,
         "/lxc.payload.web1");
  expect("/lxc.payload/web2", CT_RUNTIME_LXC, "web2", "", false, true, "/lxc.payload/web2");
  /* Docker inside LXC: the LXC container is the one reported. */
  expect("/lxc.payload.web1/system.slice/docker-" ID_A ".scope", CT_RUNTIME_LXC, "web1", "", false,
         false, "/lxc.payload.web1");
  expect("/machine.slice/systemd-nspawn@my\\x2dbox.service/payload/system.slice", CT_RUNTIME_NSPAWN,
         "my-box", "", false, false, "/machine.slice/systemd-nspawn@my\\x2dbox.service");
  expect("/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope", CT_RUNTIME_MACHINE, "qemu-1-ubuntu",
         "", false, true, "/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope");

  container_ident_t c;
  CHECK(container_identify("/system.slice/docker-" ID_A ".scope", &c));
  CHECK(c.hex_id);
  CHECK_STR(c.name, "docker-" ID_A ".scope");
  CHECK(container_identify("/lxc.payload.web1", &c));
  CHECK(!c.hex_id);
  CHECK_STR(c.name, "web1");
  CHECK(container_identify("/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope", &c));
  CHECK_STR(c.name, "qemu-1-ubuntu");
}

static void near_misses(void) {
  reject(NULL);
  reject("");
  reject("/");
  reject("docker");
  reject("/docker");
  reject("/docker/buildkit");
  reject("/docker/" ID_A "0"); /* 65 hex */
  reject("/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
  reject("/system.slice/docker.service");
  reject("/system.slice/docker-" ID_A ".scope.bak");
  reject("/system.slice/docker-" ID_A ".scopex");
  reject("/system.slice/docker-0123456789abcdef.scope");
  reject("/system.slice/docker-" ID_A "-.scope");
  reject("/machine.slice/libpod-conmon-" ID_A ".scope");
  reject("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" ID_A ".scope");
  reject("/kubepods.slice/kubepods-burstable.slice/"
         "kubepods-burstable-pod0ad2a1b4_1c1d_4e3f_9a8b_7c6d5e4f3a2b.slice/crio-conmon-" ID_A
         ".scope");
  /* Pod cgroups themselves are not containers. */
  reject("/kubepods.slice/kubepods-burstable.slice/"
         "kubepods-burstable-pod0ad2a1b4_1c1d_4e3f_9a8b_7c6d5e4f3a2b.slice");
  reject("/kubepods/burstable/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b");
  reject("/kubepods.slice");
  /* A bare id after "pod<uid>" only counts below kubepods. */
  reject("/user.slice/pod0ad2a1b4-1c1d-4e3f-9a8b-7c6d5e4f3a2b/" ID_A);
  reject("/kubepods/burstable/podnot-a-uid!/" ID_A);
  reject("/foo.slice:runc:" ID_A);
  reject("/foo:cri-containerd:" ID_A); /* the parent must be a slice */
  reject("/lxc");
  reject("/lxc.payload");
  reject("/lxc.payload.");
  reject("/lxc.monitor.web1");
  reject("/lxc.pivot");
  reject("/machine.slice");
  reject("/system.slice/machine-foo.scope"); /* machine scopes live in machine.slice */
  reject("/machine.slice/machine-libpod_pod_" ID_B ".slice");
  reject("/system.slice/systemd-nspawn@.service");
  reject("/init.scope");
}

static void runtime_names(void) {
  CHECK_STR(container_runtime_name(CT_RUNTIME_NONE), "");
  CHECK_STR(container_runtime_name(CT_RUNTIME_DOCKER), "docker");
  CHECK_STR(container_runtime_name(CT_RUNTIME_CONTAINERD), "containerd");
  CHECK_STR(container_runtime_name(CT_RUNTIME_CRIO), "crio");
  CHECK_STR(container_runtime_name(CT_RUNTIME_KUBERNETES), "kubernetes");
  CHECK_STR(container_runtime_name(CT_RUNTIME_PODMAN), "podman");
  CHECK_STR(container_runtime_name(CT_RUNTIME_LXC), "lxc");
  CHECK_STR(container_runtime_name(CT_RUNTIME_NSPAWN), "systemd-nspawn");
  CHECK_STR(container_runtime_name(CT_RUNTIME_MACHINE), "machine");
}

/* containerd's own "<ns>/<id>" layout (`ctr run` on a hybrid host), from tests/fixtures/containerd:
 * the cgroups and task bundles of two real tasks in namespace rt-ns (one with nerdctl's name
 * annotation and a 64-hex id). A two-level path is a container only with a bundle. */
#define ID_NERD "58862739fb5446bc8b5d9f7a1dfa4a44a121cdf65d5a1f5a21a01d9cde147d0f"
static void containerd_tasks(void) {
  char state[4096], file[4096], text[4096];
  snprintf(state, sizeof(state), "%s/containerd/run/containerd", fixture_dir());
  CHECK_INT(container_identify_set_containerd_state(state), 0);
  CHECK_STR(container_identify_containerd_state(), state);

  /* The real /proc/PID/cgroup of the ctr task: every hierarchy gives the same container. */
  snprintf(file, sizeof(file), "%s/containerd/proc/18637/cgroup", fixture_dir());
  CHECK(read_file_at(AT_FDCWD, file, text, sizeof(text)) > 0);
  int lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *path = strchr(strchr(line, ':') + 1, ':') + 1;
    expect(path, CT_RUNTIME_CONTAINERD, "rt-ns/rt_ctr_busy", "", false, true, path);
    lines++;
  }
  CHECK_INT(lines, 10);
  container_ident_t c;
  CHECK(container_identify("rt-ns/rt_ctr_busy", &c));
  CHECK_STR(c.name, "rt_ctr_busy");
  CHECK(!c.hex_id);
  expect("/rt-ns/" ID_NERD, CT_RUNTIME_CONTAINERD, "rt-ns/" ID_NERD, "", false, true,
         "/rt-ns/" ID_NERD);
  CHECK(container_identify("/rt-ns/" ID_NERD, &c));
  CHECK_STR(c.name, ID_NERD);
  /* Below a task: part of it. */
  expect("/rt-ns/rt_ctr_busy/sub/x", CT_RUNTIME_CONTAINERD, "rt-ns/rt_ctr_busy", "", false, false,
         "/rt-ns/rt_ctr_busy");

  /* Every cgroup directory of the fixture tree: the two tasks are, the namespace is not. */
  static const char *const hier[] = {"cpu", "cpuacct", "memory", "pids", "unified"};
  int found = 0;
  for (size_t h = 0; h < sizeof(hier) / sizeof(hier[0]); h++) {
    snprintf(file, sizeof(file), "%s/containerd/sys/fs/cgroup/%s/rt-ns", fixture_dir(), hier[h]);
    DIR *d = opendir(file);
    CHECK(d != NULL);
    for (struct dirent *de; d && (de = readdir(d));) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      char rel[600];
      snprintf(rel, sizeof(rel), "/rt-ns/%s", de->d_name);
      CHECK(container_identify(rel, &c) && c.runtime == CT_RUNTIME_CONTAINERD && c.is_top);
      found++;
    }
    if (d)
      closedir(d);
  }
  CHECK_INT(found, 10);
  reject("/rt-ns");
  reject("/rt-ns/");
  reject("/rt-ns/no_such_task");  /* no bundle */
  reject("/other/rt_ctr_busy");   /* a bundle in another namespace only */
  reject("/x/rt-ns/rt_ctr_busy"); /* not at the root */
  reject("/system.slice/cron.service");
  reject("/kubepods/rt-ns/rt_ctr_busy");

  /* "" turns the rule off; NULL restores the default. */
  CHECK_INT(container_identify_set_containerd_state(""), 0);
  reject("/rt-ns/rt_ctr_busy");
  char big[PATH_MAX + 10];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_INT(container_identify_set_containerd_state(big), -ENAMETOOLONG);
  CHECK_INT(container_identify_set_containerd_state(NULL), 0);
  CHECK_STR(container_identify_containerd_state(), "/run/containerd");
}

int main(void) {
  containerd_tasks();
  real_lines();
  kepler_forms();
  more_forms();
  near_misses();
  runtime_names();
  return test_result("test_identify");
}
