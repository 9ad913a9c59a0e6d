#!/bin/sh
# test/xenvm/selftest-hvm-diskboot.sh: the test guest as an HVM guest by xl
# alone, three ways to load its kernel and initrd: from the bed's boot disk
# (hvm-boot.img, SYSLINUX) on AHCI, the same on IDE, and a direct kernel
# boot (fw_cfg).  Prints the seconds from xl create to the first console
# line and to XSAGENT-GUEST-IDLE, and the console's tail (xsa.pci=1: its
# /init runs a few busybox applets).  A manual check, not a system test:
#   test/xenvm/run -t 1500 test/xenvm/selftest-hvm-diskboot.sh
# Seen 2026-12-02 (docs/bench.md): AHCI 25 s, IDE no console line in
# 684 s, fw_cfg 34 s.
G=/var/lib/xsagent/guest
mkdir -p /tmp/p
read off len <$G/hvm-boot.slot
now() { cut -d' ' -f1 /proc/uptime; }
d() { awk "BEGIN { printf \"%.1f\", $1 - $2 }"; }
one() { # NAME KIND
	n=$1
	log=/var/log/xen/console/guest-$n.log
	rm -f $log
	{
		printf 'type = "hvm"\nname = "%s"\nmemory = 256\nvcpus = 1\nvga = "none"\nvnc = 0\non_poweroff = "destroy"\non_reboot = "destroy"\n' $n
		case $2 in
		fwcfg) printf 'kernel = "%s/vmlinuz"\nramdisk = "%s/initrd"\nextra = "console=hvc0 loglevel=4 xsa.marker=%s xsa.pci=1"\n' $G $G $n ;;
		ide|ahci)
			cp $G/hvm-boot.img /tmp/p/$n.img
			printf '%-*s' $len "console=hvc0 loglevel=4 xsa.marker=$n xsa.pci=1" |
				dd of=/tmp/p/$n.img bs=1 seek=$off conv=notrunc 2>/dev/null
			printf 'boot = "c"\nhdtype = "%s"\ndisk = [ "format=raw,vdev=hda,access=rw,target=/tmp/p/%s.img" ]\n' $2 $n ;;
		esac
	} >/tmp/p/$n.cfg
	t0=$(now)
	xl create /tmp/p/$n.cfg >/tmp/p/$n.xl 2>&1 || { echo "PROBE $n: xl create failed"; cat /tmp/p/$n.xl; return; }
	t1=$(now)
	first=
	i=0
	while [ $i -lt 1200 ]; do
		[ -z "$first" ] && [ -s $log ] && first=$(now)
		grep -q "XSAGENT-GUEST-IDLE" $log 2>/dev/null && break
		sleep 0.5
		i=$((i + 1))
	done
	t2=$(now)
	dm=$(xenstore-read /local/domain/$(xl domid $n 2>/dev/null)/image/device-model-pid 2>/dev/null)
	cmd=
	[ -n "$dm" ] && cmd=$(tr '\0' ' ' </proc/$dm/cmdline 2>/dev/null)
	echo "PROBE $n: xl create $(d $t1 $t0) s, first console line $([ -n "$first" ] && d $first $t0 || echo none) s, IDLE (or the wait's end) $(d $t2 $t0) s"
	echo "PROBE $n: dm: ${cmd:-(no device model: the domain is gone)}"
	head -n 3 $log | sed "s/^/PROBE $n log: /"
	tail -n 25 $log | sed "s/^/PROBE $n log: /"
	xl destroy $n
	rm -f /tmp/p/$n.img
	sleep 2
}
one probe-ahci ahci
one probe-ide ide
one probe-fwcfg fwcfg
