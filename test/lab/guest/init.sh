#!/bin/busybox sh
# /init of the lab initramfs (busybox). Turns the host's root filesystem,
# shared read-only over virtio-9p, into the guest's root with writable
# scratch space, then runs the one command of this boot and powers off.
#
# Shares (mount tags): hostroot = host /, read-only; project = the checkout,
# read-only, mounted at its host path; labrun = this run's directory,
# read-write, mounted at /mnt/lab-run (cmd in, out/rc/results back).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m || echo "lab-init: insmod $m failed"; done

PROJECT=; ABI=$(uname -r)
for a in $(cat /proc/cmdline); do
  case $a in lab.project=*) PROJECT=${a#lab.project=};; esac
done

die() { echo "lab-init: FATAL: $*"; sync; poweroff -f; sleep 5; }
R=/newroot
MSIZE=262144
# cache=loose: the host root does not change during a run; reads get page-cached.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=$MSIZE hostroot $R || die "mount hostroot"
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=755 tmpfs $R/run
mount -t tmpfs -o mode=755 tmpfs $R/mnt || die "no /mnt on the host root"
mkdir -p $R/mnt/lab-run
# No cache on the run share: results must reach the host as they are written.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE labrun $R/mnt/lab-run || die "mount labrun"
[ -n "$PROJECT" ] || die "lab.project= missing on the kernel command line"
mkdir -p $R$PROJECT 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=$MSIZE project $R$PROJECT || die "mount project at $PROJECT"
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
# Writable /etc /var /root: overlayfs, lower = host (read-only), upper = tmpfs.
mkdir -p /ovl && mount -t tmpfs tmpfs /ovl
for d in etc var root; do
  mkdir -p /ovl/$d/u /ovl/$d/w
  mount -t overlay overlay -o lowerdir=$R/$d,upperdir=/ovl/$d/u,workdir=/ovl/$d/w $R/$d \
    || { echo "lab-init: overlay on /$d failed, using an empty tmpfs"; mount -t tmpfs tmpfs $R/$d; }
done
# The guest's modules: Debian's tree plus our netdevsim.ko, depmod'ed on the host.
MT=$PROJECT/.lab/$ABI/modules/lib/modules/$ABI
[ -d $R$MT ] || die "module tree $MT missing (run: npm run lab:setup)"
mount -t tmpfs tmpfs $R/usr/lib/modules || die "cannot mount over /usr/lib/modules"
mkdir -p $R/usr/lib/modules/$ABI
mount --bind $R$MT $R/usr/lib/modules/$ABI || die "cannot bind the module tree"
hostname labvm
# A static busybox inside the new root for a synchronous poweroff at the end.
mkdir -p $R/run/labinit && cp /bin/busybox $R/run/labinit/busybox
[ -f $R/mnt/lab-run/cmd ] || die "no command file in the run share"
echo "lab-init: running (uptime $(cut -d' ' -f1 /proc/uptime)s)"
# PID 1 itself chroots (exec): kernel threads share PID 1's root, so
# request_module() finds /sbin/modprobe and crypto/net-pf modules autoload.
# A child chroot would leave them at the initramfs root ("AEAD not found").
exec chroot $R /bin/sh -c '
  /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb LANG=C.UTF-8 LAB_PROJECT="$1" LAB_RUN=/mnt/lab-run \
    /bin/bash /mnt/lab-run/cmd > /mnt/lab-run/out 2>&1 < /dev/null
  echo $? > /mnt/lab-run/rc
  echo "lab-init: done rc=$(cat /mnt/lab-run/rc) (uptime $(cut -d" " -f1 /proc/uptime)s)" > /dev/console
  sync
  /run/labinit/busybox poweroff -f
' sh "$PROJECT"
