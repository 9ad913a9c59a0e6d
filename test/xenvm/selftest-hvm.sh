#!/bin/sh
# A payload for test/xenvm/run that checks the bed can run an HVM guest with
# xl alone: the test guest as type "hvm", booted directly from its kernel and
# initramfs by Debian's device model (qemu-system-xen, xenfv machine) after
# hvmloader and SeaBIOS, no VGA, no VNC. The guest must print its marker on
# hvc0; the script prints what xl made (the device model's command line, its
# xenstore nodes, the domain's nodes) and the timings, then shuts the guest
# down and checks that neither the domain nor the device model is left. Not
# part of the system tests (about a minute under TCG); run it by hand after
# changing the bed's HVM packages:
#   XENVM_NO_PROJECT=1 test/xenvm/run test/xenvm/selftest-hvm.sh

name=hvmguest
log=/var/log/xen/console/guest-$name.log
cfg=/tmp/$name.cfg
UP_TIMEOUT=${UP_TIMEOUT:-150}
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }
fail() {
	echo "FAIL: $*"
	[ -f "$log" ] && sed 's/^/  console | /' "$log" | tail -n 30
	[ -f /var/log/xen/qemu-dm-$name.log ] && sed 's/^/  qemu-dm | /' /var/log/xen/qemu-dm-$name.log | tail -n 20
	xl destroy "$name" 2>/dev/null
	exit 1
}

for f in /usr/libexec/xen-qemu-system-i386 /usr/lib/xen-4.17/boot/hvmloader \
	/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin; do
	[ -e "$f" ] || fail "$f missing in dom0"
done
/usr/libexec/xen-qemu-system-i386 -version || fail "the device model does not run (libraries?)"

cat >"$cfg" <<CFG
name = "$name"
type = "hvm"
kernel = "/var/lib/xsagent/guest/vmlinuz"
ramdisk = "/var/lib/xsagent/guest/initrd"
extra = "console=hvc0 loglevel=4 xsa.marker=hvm"
memory = 256
vcpus = 1
vga = "none"
vnc = 0
on_poweroff = "destroy"
on_crash = "destroy"
CFG
rm -f "$log"
echo "free memory before: $(xl info | awk '$1 == "free_memory" { print $3 }') MiB"
timeout 120 xl create "$cfg" || fail "xl create exited with status $?"
domid=$(xl domid "$name") || fail "no domain after xl create"
echo "xl create returned after $(since), domain $domid"
pid=$(xenstore-read "/local/domain/$domid/image/device-model-pid") || fail "no image/device-model-pid"
echo "device model pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline)"
echo "device model state: $(xenstore-read /local/domain/0/device-model/"$domid"/state)"
echo "--- xenstore-ls /local/domain/$domid"
xenstore-ls -p "/local/domain/$domid"
echo "--- xenstore-ls /local/domain/0/device-model/$domid"
xenstore-ls -p "/local/domain/0/device-model/$domid"
echo "--- xenstore-ls /libxl/$domid"
xenstore-ls -p "/libxl/$domid" 2>/dev/null
echo "---"
i=0 seen=
until grep -qs XSAGENT-GUEST-UP "$log"; do
	i=$((i + 1))
	[ $i -gt $((UP_TIMEOUT * 2)) ] && fail "no XSAGENT-GUEST-UP in $log after $UP_TIMEOUT s"
	if [ -z "$seen" ] && [ -s "$log" ]; then
		seen=1
		echo "first console output after $(since)"
	fi
	sleep 0.5
done
echo "guest up after $(since): $(grep -m1 XSAGENT-GUEST-UP "$log")"
echo "device model RSS: $(awk '/VmRSS/ { print $2, $3 }' /proc/"$pid"/status)"
echo "--- qemu-dm log"
cat /var/log/xen/qemu-dm-$name.log
echo "---"
s0=$(date +%s)
timeout 120 xl shutdown -w "$name" || fail "xl shutdown -w exited with status $?"
echo "shut down in $(($(date +%s) - s0)) s"
# xl's own daemon destroys the domain and its device model just after.
i=0
while xl domid "$name" >/dev/null 2>&1 || [ -d /proc/"$pid" ]; do
	i=$((i + 1))
	[ $i -gt 20 ] && break
	sleep 0.5
done
xl domid "$name" >/dev/null 2>&1 && fail "$name still exists 10 s after the shutdown"
[ -d /proc/"$pid" ] && fail "the device model (pid $pid) is still running"
xenstore-exists "/local/domain/0/device-model/$domid" && fail "device-model/$domid left in xenstore"
echo "PASS: HVM guest up and down with xl in $(since)"
