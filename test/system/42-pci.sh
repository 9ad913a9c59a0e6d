#!/bin/sh
# TEST_TIMEOUT: 1500
# PCI passthrough of the bed's edu device (1234:11e8 at 0000:00:01.0, the
# q35 machine with an emulated Intel IOMMU; test/xenvm/run) to PV and HVM
# guests:
# - refusals, each a failed task with a clear error, nothing left behind
#   and the device as it was: not assignable (bound to no driver, no
#   seize), an unknown BDF, a device another VM of the agent holds, one a
#   domain the agent does not know holds (xl create with pci=);
# - seize = yes binds it to pciback; the guest sees 1234:11e8; after a stop
#   it is assignable again and a second VM gets it;
# - an HVM guest gets it through its device model and sees it on its bus;
#   the agent is SIGKILLed and restarted, adopts it and reads its device
#   back from its record; after its stop it is assignable again;
# - kill -9 of the agent while a start holds the device (held before the
#   devices stage, after pci): the restarted agent rolls the start back
#   and the device is free, nothing leaked.
# Without an IOMMU (XENVM_NO_IOMMU=1 test/xenvm/check 42-pci) only the
# refusal of that case is checked.
. /usr/lib/xsagent/tests/lib.sh
. /usr/lib/xsagent/tests/lib-devices.sh
BDF=0000:00:01.0
SYS=/sys/bus/pci/devices/$BDF
drv() { d=$(readlink $SYS/driver 2>/dev/null) && basename "$d"; }
assignable() { [ "$(drv)" = pciback ] && xl pci-assignable-list 2>/dev/null | grep -q "^$BDF"; }
err() { xs $XSA_ROOT/task/$1/error; }
PCI0="[pci.0]\nbdf = $BDF\n"

if ! xl info | grep -q pv_directio; then
	vm_file $DEV_DIR/vms pcia 4101 "$PCI0" "xsa.pci=1"
	snapshot /tmp/snap.before
	xsa_start_agent $DEV_DIR/xsagent.ini
	xsa_request n1 "start pcia"
	check_eq "start without an IOMMU" "$(xsa_wait_task n1 120)" failed
	check_match "its error" "$(err n1)" "pci: PCI passthrough needs an IOMMU*"
	xsa_stop_agent
	no_leak /tmp/snap.before "a start refused for want of an IOMMU"
	exit 0
fi
[ "$(cat $SYS/vendor 2>/dev/null):$(cat $SYS/device 2>/dev/null)" = 0x1234:0x11e8 ] ||
	fail "no edu device at $BDF"
[ -d /sys/bus/pci/drivers/pciback ] || fail "xen-pciback is not loaded"
# The device as dom0 booted: no driver (an earlier run may have left it
# with pciback: take it away).
[ "$(drv)" = pciback ] && echo $BDF >/sys/bus/pci/drivers/pciback/unbind
check_eq "driver at the start" "$(drv)" ""

vm_file $DEV_DIR/vms pcia 4101 "$PCI0" "xsa.pci=1"
vm_file $DEV_DIR/vms pcib 4102 "[pci.0]\nbdf = 00:01.0\nseize = yes\n" "xsa.pci=1"
vm_file $DEV_DIR/vms pcix 4103 "[pci.0]\nbdf = 0000:00:1f.7\n"
devvm_file pcik 4104 "$VIF0$PCI0"
snapshot /tmp/snap.before
xsa_start_agent $DEV_DIR/xsagent.ini

xsa_request r1 "start pcia"
check_eq "start of a device bound to no driver" "$(xsa_wait_task r1 120)" failed
check_match "its error" "$(err r1)" "pci: \[pci.0\] $BDF is not assignable: bound to no driver (xl pci-assignable-add it, or set seize = yes)"
check_eq "still bound to no driver" "$(drv)" ""
no_leak /tmp/snap.before "a device that is not assignable"

xsa_request r2 "start pcix"
check_eq "start of an unknown device" "$(xsa_wait_task r2 120)" failed
check_match "its error" "$(err r2)" "pci: \[pci.0\] no PCI device 0000:00:1f.7 on this host"
no_leak /tmp/snap.before "an unknown device"

xenstore-control logfile /tmp/xs.trace >/dev/null
xsa_request s1 "start pcib"
check_eq "start with seize = yes" "$(xsa_wait_task s1 180)" done
xenstore-control logfile "" >/dev/null
seq=$(sed -n "s|^IN .* WRITE (/xsagent/task/s1/stage \(.*\))$|\1|p" /tmp/xs.trace | tr '\n' ' ')
check_eq "stages" "$seq" "construct init store-vm store-domain watches refresh pci "
check_eq "pci.0 in the task" "$(xs $XSA_ROOT/task/s1/devices/pci-0)" connected
check_eq "seized: bound to pciback" "$(drv)" pciback
d=$(xs $XSA_ROOT/task/s1/domid)
be=/local/domain/0/backend/pci/$d/0
check_eq "backend dev-0" "$(xs $be/dev-0)" $BDF
check_eq "backend opts-0" "$(xs $be/opts-0)" "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict"
check_eq "backend num_devs" "$(xs $be/num_devs)" 1
check_eq "frontend backend" "$(xs /local/domain/$d/device/pci/0/backend)" $be
wait_until 120 console_has pcib "XSAGENT-GUEST-IDLE" || fail "pcib not idle: $(tail -n 5 /var/log/xen/console/guest-pcib.log)"
check_match "the guest sees the device" "$(grep XSAGENT-GUEST-PCI /var/log/xen/console/guest-pcib.log)" "*XSAGENT-GUEST-PCI 0000:00:00.0 1234:11e8*"
bs() { [ "$(xs $be/state)" = 4 ]; }
wait_until 30 bs || fail "pci backend not connected: state $(xs $be/state)"
pass "pci backend Connected once pcifront came up"

xsa_request r3 "start pcia"
check_eq "start of a device another VM holds" "$(xsa_wait_task r3 120)" failed
check_match "its error" "$(err r3)" "pci: \[pci.0\] $BDF is held by VM pcib"

xsa_request t1 "stop pcib"
check_eq "stop pcib" "$(xsa_wait_task t1 120)" done
assignable || fail "not assignable after the stop: driver '$(drv)', $(xl pci-assignable-list 2>&1)"
pass "assignable again after the stop"
xenstore-exists /local/domain/0/backend/pci/$d && fail "pci backend of domain $d left"

xsa_request s2 "start pcia"
check_eq "a second VM gets the device" "$(xsa_wait_task s2 180)" done
wait_until 120 console_has pcia "XSAGENT-GUEST-PCI .* 1234:11e8" ||
	fail "pcia did not see the device: $(tail -n 5 /var/log/xen/console/guest-pcia.log)"
pass "the second VM sees 1234:11e8"
xsa_request t2 "destroy pcia"
check_eq "destroy pcia" "$(xsa_wait_task t2 120)" done
assignable || fail "not assignable after a destroy"
pass "assignable again after a destroy"

# A domain the agent does not know holds it.
sed -e 's/"testguest"/"pcixl"/' /etc/xen/testguest.cfg >/tmp/pcixl.cfg
echo "pci = ['$BDF']" >>/tmp/pcixl.cfg
xl create /tmp/pcixl.cfg >/tmp/pcixl.log 2>&1 || fail "xl create with pci=: $(cat /tmp/pcixl.log)"
xsa_request r4 "start pcia"
check_eq "start of a device an xl domain holds" "$(xsa_wait_task r4 120)" failed
check_match "its error" "$(err r4)" "pci: \[pci.0\] $BDF is held by another domain: *"
xl destroy pcixl
assignable || fail "not assignable after xl destroy"
no_leak /tmp/snap.before "the refusals and two runs with the device"
xsa_stop_agent

# An HVM guest: the device goes to its device model (qemu's
# xen-pci-passthrough), no pciback backend, the agent's record instead;
# the guest finds 1234:11e8 on its emulated PCI bus.  The stop gives it
# back, assignable.
# It boots from the bed's boot disk on AHCI (lib.sh hvm_boot_disk), which
# also gives it a PV disk.
hvm_boot_disk /tmp/pcih-boot.img "console=hvc0 loglevel=4 xsa.marker=pcih xsa.disk=none xsa.pci=1"
cat >$DEV_DIR/vms/pcih.ini <<EOF
[vm]
name = pcih
uuid = 00000000-0000-4000-8000-000000004105
type = hvm
memory = 256
boot = c
hdtype = ahci
[vbd.0]
target = /tmp/pcih-boot.img
vdev = xvda
[pci.0]
bdf = $BDF
permissive = yes
EOF
: >/var/log/xen/console/guest-pcih.log 2>/dev/null
xsa_start_agent $DEV_DIR/xsagent.ini
xsa_request h1 "start pcih"
check_eq "HVM start with the device" "$(xsa_wait_task h1 180)" done
d=$(xs $XSA_ROOT/task/h1/domid)
check_eq "pci.0 in the HVM task" "$(xs $XSA_ROOT/task/h1/devices/pci-0)" assigned
check_eq "the agent's record of it" "$(xs /local/domain/0/xsagent-pci/$d/dev-0)" $BDF
check_eq "no pciback backend for an HVM guest" \
	"$(xenstore-exists /local/domain/0/backend/pci/$d && echo there)" ""
dmpid=$(xs /local/domain/$d/image/device-model-pid)
check_match "device model command line" "$(tr '\0' ' ' </proc/$dmpid/cmdline)" \
	"* -device xen-pci-passthrough,id=pci-pt-00_01.0,hostaddr=$BDF,permissive=on *"
wait_until 300 console_has pcih "XSAGENT-GUEST-IDLE" ||
	fail "pcih not idle: $(tail -n 5 /var/log/xen/console/guest-pcih.log; tail -n 5 /var/log/xen/qemu-dm-pcih.log)"
check_match "the HVM guest sees the device" \
	"$(grep XSAGENT-GUEST-PCI /var/log/xen/console/guest-pcih.log | grep 1234:11e8)" \
	"XSAGENT-GUEST-PCI 0000:00:*.0 1234:11e8*"
# The agent SIGKILLed and restarted: it adopts the guest and reads its
# devices back from the record, so that the stop releases them.
kill -9 $XSA_PID
wait "$XSA_PID" 2>/dev/null
XSA_PID=
xsa_start_agent $DEV_DIR/xsagent.ini
check_eq "pcih adopted by the restarted agent" "$(xs $XSA_ROOT/vm/pcih/state)" running
check_eq "its record after the restart" "$(xs /local/domain/0/xsagent-pci/$d/dev-0)" $BDF
xsa_request h2 "stop pcih"
check_eq "stop of the HVM guest" "$(xsa_wait_task h2 180)" done
grep -q "pcih: $BDF released by domain $d" $XSA_LOG ||
	fail "the restarted agent's stop did not release $BDF: $(grep -a pcih $XSA_LOG | tail -n 5)"
pass "the restarted agent's stop released $BDF (read back from the record)"
assignable || fail "not assignable after the HVM guest's stop: driver '$(drv)', $(xl pci-assignable-list 2>&1)"
pass "assignable again after the HVM guest's stop"
check_eq "its record" "$(xenstore-exists /local/domain/0/xsagent-pci/$d && echo there)" ""
xsa_stop_agent
no_leak /tmp/snap.before "an HVM guest with the device"

# kill -9 while a start holds the device (before its devices stage).
{ cat $DEV_DIR/xsagent.ini; printf 'stage_hook = devices\nstage_hook_delay = 600\n'; } >/tmp/hold.ini
xsa_start_agent /tmp/hold.ini
xsa_request k1 "start pcik"
held() { grep -q "task k1: holding before devices" "$XSA_LOG"; }
wait_until 120 held || fail "the start did not reach the devices stage: $(err k1)"
d=$(xs $XSA_ROOT/task/k1/domid)
xenstore-exists /local/domain/0/backend/pci/$d/0 || fail "no pci backend while held"
check_eq "pci.0 in the task while held" "$(xs $XSA_ROOT/task/k1/devices/pci-0)" connected
kill -9 $XSA_PID
wait "$XSA_PID" 2>/dev/null
XSA_PID=
pass "agent killed while the start held the device"
xsa_start_agent $DEV_DIR/xsagent.ini
gone() { ! xl list | awk '{ print $2 }' | grep -qx "$d" && ! xenstore-exists /local/domain/0/backend/pci/$d; }
wait_until 60 gone || fail "domain $d or its pci backend left after the restart"
wait_until 60 no_devices_left || fail "devices left after the restart"
assignable || fail "not assignable after the restart"
pass "restarted agent freed the device"
xsa_request s3 "start pcia"
check_eq "the device works after the kill" "$(xsa_wait_task s3 180)" done
xsa_request t3 "destroy pcia"
check_eq "destroy pcia" "$(xsa_wait_task t3 120)" done
xsa_stop_agent
assignable || fail "not assignable at the end"
no_leak /tmp/snap.before "kill -9 during a PCI start"
