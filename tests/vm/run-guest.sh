#!/bin/bash
# run-guest.sh LAYOUT SCRIPT [ARGS...]: boots Debian's packaged kernel (linux-image-amd64) in QEMU
# with the host's own root file system read-only over 9p (a tmpfs overlay makes it writable), sets
# up the cgroup LAYOUT, runs SCRIPT as root inside and prints its output; exits with its status.
#   LAYOUT v2: cgroup2 at /sys/fs/cgroup, every controller enabled in the root's subtree_control
#              (cgroup_no_v1=all: no v1 hierarchy can take a controller away)
#   LAYOUT v1: v1 hierarchies under /sys/fs/cgroup as systemd mounts them (cpu,cpuacct and
#              net_cls,net_prio joined, with cpu/cpuacct/... symlinks), no cgroup2 mount
# The guest has two sparse virtio disks: /dev/vda (64 MiB, block I/O tests) and /dev/vdb (64 MiB,
# swap). Exit 77 when the host cannot run a guest (no qemu, no guest kernel).
# Environment: VM_TIMEOUT (s, default 300): hard limit, qemu is killed after it;
#   VM_ACCEL (tcg | kvm, default tcg: KVM does not boot this kernel in a nested VM);
#   VM_MEM (MiB, 1536); VM_KEEP=1 keeps the temporary directory.
set -u
LAYOUT=${1:-}
SCRIPT=${2:-}
case "$LAYOUT" in v1 | v2) ;; *) echo "usage: $0 v1|v2 SCRIPT [ARGS...]" >&2; exit 2 ;; esac
[ -n "$SCRIPT" ] || { echo "usage: $0 v1|v2 SCRIPT [ARGS...]" >&2; exit 2; }
shift 2
SCRIPT=$(readlink -f "$SCRIPT")
[ -r "$SCRIPT" ] || { echo "no such script: $SCRIPT" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)

QEMU=$(command -v qemu-system-x86_64) || { echo "SKIP: qemu-system-x86_64 missing (apt-get install qemu-system-x86)"; exit 77; }
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || { echo "SKIP: $BUSYBOX missing (apt-get install busybox-static)"; exit 77; }
# Debian 12's packaged kernel (6.1) if there, else the last of /boot in name order; VM_KERNEL
# names another. Its modules come from /lib/modules/VERSION.
KERNEL=""
for k in ${VM_KERNEL:-} /boot/vmlinuz-6.1.* /boot/vmlinuz-*; do
  [ -r "$k" ] || continue
  v=${k#*/vmlinuz-}
  [ -d "/lib/modules/$v/kernel" ] && { KERNEL=$k KVER=$v; [ -n "${VM_KERNEL:-}" ] || [[ $v == 6.1.* ]] && break; }
done
[ -n "$KERNEL" ] || { echo "SKIP: no guest kernel under /boot with modules (apt-get install linux-image-amd64)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (reads the packaged kernel, exports / to the guest)"; exit 77; }

TMP=$(mktemp -d /tmp/vm-guest.XXXXXX)
QEMU_PID=""
cleanup() {
  if [ -n "$QEMU_PID" ]; then
    kill -9 "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
  fi
  [ -n "${VM_KEEP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The initramfs: busybox, the modules that reach the 9p root, and an /init that mounts it.
mkdir -p "$TMP/initramfs"/{bin,mod,dev,proc,sys,newroot,lower,rw}
cp "$BUSYBOX" "$TMP/initramfs/bin/busybox"
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay"
for m in $MODS; do
  f=$(find "/lib/modules/$KVER/kernel" -name "$m.ko*" | head -n 1)
  # Built into this kernel when there is no module file.
  [ -n "$f" ] || continue
  case "$f" in
  *.xz) xz -dc "$f" >"$TMP/initramfs/mod/$m.ko" ;;
  *.zst) zstd -qdc "$f" >"$TMP/initramfs/mod/$m.ko" ;;
  *) cp "$f" "$TMP/initramfs/mod/$m.ko" ;;
  esac
done
cat >"$TMP/initramfs/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $MODS; do [ -f /mod/\$m.ko ] && insmod /mod/\$m.ko; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower || { echo "vm: no 9p root"; poweroff -f; }
mount -t tmpfs -o size=512m tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || { echo "vm: no overlay"; poweroff -f; }
umount /proc /sys /dev
exec switch_root /newroot /bin/bash "$HERE/guest-init.sh"
EOF
chmod +x "$TMP/initramfs/init"
(cd "$TMP/initramfs" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1 >"$TMP/initramfs.cpio.gz") ||
  { echo "FAIL: cannot build the initramfs"; exit 1; }
rm -rf "$TMP/initramfs"

mkdir -p "$TMP/out"
truncate -s 64M "$TMP/disk.img" "$TMP/swap.img"
printf '%q ' "$SCRIPT" "$@" >"$TMP/out/cmd"

CMDLINE="console=ttyS0 panic=-1 loglevel=3 rdinit=/init vm_layout=$LAYOUT vm_out=/vmout"
[ "$LAYOUT" = v2 ] && CMDLINE="$CMDLINE cgroup_no_v1=all"
ACCEL="-accel tcg -cpu max"
[ "${VM_ACCEL:-tcg}" = kvm ] && ACCEL="-accel kvm -cpu host,-arch-capabilities"
# shellcheck disable=SC2086
"$QEMU" $ACCEL -smp 2 -m "${VM_MEM:-1536}" -nodefaults -display none -no-reboot \
  -kernel "$KERNEL" -initrd "$TMP/initramfs.cpio.gz" -append "$CMDLINE" \
  -serial "file:$TMP/console.log" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$TMP/out",mount_tag=vmout,security_model=none \
  -drive file="$TMP/disk.img",if=virtio,format=raw \
  -drive file="$TMP/swap.img",if=virtio,format=raw \
  -nic none </dev/null >"$TMP/qemu.out" 2>&1 &
QEMU_PID=$!
START=$(date +%s)
LIMIT=${VM_TIMEOUT:-300}
while kill -0 "$QEMU_PID" 2>/dev/null; do
  if [ $(($(date +%s) - START)) -ge "$LIMIT" ]; then
    echo "vm: time limit of $LIMIT s reached: qemu killed"
    kill -9 "$QEMU_PID" 2>/dev/null
    break
  fi
  sleep 0.5
done
wait "$QEMU_PID" 2>/dev/null
QEMU_PID=""
echo "vm: $LAYOUT guest ran $(($(date +%s) - START)) s"
[ -f "$TMP/out/output" ] && cat "$TMP/out/output"
if [ -f "$TMP/out/rc" ]; then
  rc=$(cat "$TMP/out/rc")
  exit "$rc"
fi
echo "vm: the guest did not report an exit status; qemu said:"
tail -n 20 "$TMP/qemu.out"
echo "vm: console (last 40 lines):"
tail -n 40 "$TMP/console.log"
exit 1
