#!/bin/bash
# PID 1 of the guest (see run-guest.sh): mounts what a host has, sets up the cgroup layout named by
# the kernel parameter vm_layout, runs the command in /vmout/cmd, writes its output and exit status
# to /vmout and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /vmout
mount -t 9p -o trans=virtio,version=9p2000.L vmout /vmout
hostname vmguest
ip link set lo up

out() { echo "$*" >>/vmout/output; }
die() { out "vm-init: $*"; echo 1 >/vmout/rc; sync; poweroff -f; }

modprobe -q virtio_blk
modprobe -q veth
for d in vda vdb; do
  for i in $(seq 1 50); do [ -b /dev/$d ] && break; sleep 0.1; done
  [ -b /dev/$d ] || die "no /dev/$d"
done

case "$vm_layout" in
v2)
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || die "cannot enable $c"
  done
  ;;
v1)
  mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
  # As systemd mounts them on a pure v1 host (its own name=systemd hierarchy included).
  for h in cpu,cpuacct blkio memory pids cpuset devices freezer net_cls,net_prio perf_event hugetlb; do
    mkdir "/sys/fs/cgroup/$h"
    mount -t cgroup -o "$h" cgroup "/sys/fs/cgroup/$h" || die "cannot mount v1 $h"
    case "$h" in *,*)
      for c in ${h//,/ }; do ln -s "$h" "/sys/fs/cgroup/$c"; done ;;
    esac
  done
  mkdir /sys/fs/cgroup/systemd
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  # Hierarchical accounting as systemd sets it (the kernel's v1 default is off).
  echo 1 >/sys/fs/cgroup/memory/memory.use_hierarchy 2>/dev/null
  ;;
*) die "unknown vm_layout '$vm_layout'" ;;
esac

cd /
out "vm-init: kernel $(uname -r), layout $vm_layout, $(nproc) CPUs, $(awk '/MemTotal/{print $2 " kB"}' /proc/meminfo)"
eval "set -- $(cat /vmout/cmd)"
VM_LAYOUT=$vm_layout bash "$@" >>/vmout/output 2>&1 </dev/null
echo $? >/vmout/rc
sync
poweroff -f
