#!/bin/sh
# A payload for test/xenvm/run that checks the bed's device path with xl
# alone: the test guest with a file-backed vbd (loop, via /etc/xen/scripts/block)
# and a vif on a dom0 bridge (vif-bridge). The guest must print its disk's
# first line, append a line to the disk, bring up eth0 and answer a ping;
# then xl shuts it down. Not part of the system tests (it takes about a
# minute under TCG); run it by hand after changing the bed or the guest:
#   XENVM_NO_PROJECT=1 test/xenvm/run test/xenvm/selftest-devices.sh
# The bridge and its addresses exist only inside the emulated machine.

name=devguest
log=/var/log/xen/console/guest-$name.log
img=/tmp/$name.img
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }
fail() {
	echo "FAIL: $*"
	[ -f "$log" ] && sed 's/^/  console | /' "$log"
	xl destroy "$name" 2>/dev/null
	exit 1
}

ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.1/24 dev br0 ||
	fail "cannot set up br0"
dd if=/dev/zero of="$img" bs=1M count=4 2>/dev/null
printf 'hello-disk\n' | dd of="$img" conv=notrunc 2>/dev/null
sed -e "s/\"testguest\"/\"$name\"/" \
	-e 's|xsa.marker=anchor|xsa.marker=dev xsa.diskwrite=1 xsa.ip=192.0.2.2/24|' \
	/etc/xen/testguest.cfg >/tmp/$name.cfg
echo "disk = ['format=raw,vdev=xvda,access=rw,target=$img']" >>/tmp/$name.cfg
echo "vif = ['bridge=br0']" >>/tmp/$name.cfg

echo "xl create (with a vbd and a vif)"
xl create /tmp/$name.cfg || fail "xl create failed: $(tail -n 5 /var/log/xen/xl-$name.log 2>/dev/null)"
echo "created after $(since)"
i=0
until grep -q XSAGENT-GUEST-IDLE "$log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 180 ] || fail "guest not idle after 180 s"
	sleep 1
done
echo "guest idle after $(since)"
sed 's/^/  console | /' "$log"
grep -q 'XSAGENT-GUEST-DISK hello-disk' "$log" || fail "guest did not read its disk"
grep -q 'XSAGENT-GUEST-DISKWRITE' "$log" || fail "guest did not write its disk"
grep -q 'XSAGENT-GUEST-NET 192.0.2.2/24' "$log" || fail "guest did not bring up eth0"
ping -c 2 -W 10 192.0.2.2 || fail "no ping answer from the guest"

echo "xl shutdown -w"
timeout 120 xl shutdown -w "$name" || fail "xl shutdown -w failed"
echo "shut down after $(since)"
grep -a -q "XSAGENT-GUEST-WROTE dev" "$img" || fail "the guest's line is not in $img"
echo "$img holds: $(tr -d '\000' <"$img" | tr '\n' '|')"
echo "device self-test passed in $(since)"
