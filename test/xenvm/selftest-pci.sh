#!/bin/sh
# A payload for test/xenvm/run that checks the bed's PCI passthrough with xl
# alone: Xen sees the emulated IOMMU, dom0's pciback takes the edu device
# (1234:11e8 at 0000:00:01.0 on the q35 machine), and the test guest with
# pci=['0000:00:01.0'] sees it through pcifront (xsa.pci=1). Not part of the
# system tests; run it by hand after changing the bed or the guest:
#   XENVM_NO_PROJECT=1 test/xenvm/run test/xenvm/selftest-pci.sh

name=pciguest
bdf=0000:00:01.0
log=/var/log/xen/console/guest-$name.log
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }
fail() {
	echo "FAIL: $*"
	[ -f "$log" ] && sed 's/^/  console | /' "$log"
	xl destroy "$name" 2>/dev/null
	exit 1
}

xl info | grep -E '^virt_caps' || fail "no xl info"
xl info | grep -q 'pv_directio' || fail "Xen has no IOMMU (virt_caps lack pv_directio)"
[ "$(cat /sys/bus/pci/devices/$bdf/vendor):$(cat /sys/bus/pci/devices/$bdf/device)" = 0x1234:0x11e8 ] ||
	fail "no edu device at $bdf"
[ -d /sys/bus/pci/drivers/pciback ] || fail "xen-pciback not loaded"
xl pci-assignable-add "$bdf" || fail "xl pci-assignable-add"
xl pci-assignable-list
sed -e "s/\"testguest\"/\"$name\"/" -e 's|xsa.marker=anchor|xsa.marker=pci xsa.pci=1|' \
	/etc/xen/testguest.cfg >/tmp/$name.cfg
echo "pci = ['$bdf']" >>/tmp/$name.cfg
xl create /tmp/$name.cfg || fail "xl create failed: $(tail -n 5 /var/log/xen/xl-$name.log 2>/dev/null)"
echo "created after $(since)"
domid=$(xl domid "$name")
xenstore-ls -f /local/domain/0/backend/pci/$domid
i=0
until grep -q XSAGENT-GUEST-IDLE "$log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 180 ] || fail "guest not idle after 180 s"
	sleep 1
done
echo "guest idle after $(since)"
sed 's/^/  console | /' "$log"
grep -q 'XSAGENT-GUEST-PCI .* 1234:11e8' "$log" || fail "guest did not see 1234:11e8"
xl destroy "$name" || fail "xl destroy"
xl pci-assignable-list | grep -q "$bdf" || fail "$bdf not assignable after destroy"
echo "pci self-test passed in $(since)"
