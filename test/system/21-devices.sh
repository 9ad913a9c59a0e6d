#!/bin/sh
# TEST_TIMEOUT: 900
# A guest with a vif on a bridge and a file-backed disk: it starts through
# a request, reads the marker written into its disk on the host side,
# answers a ping over the bridge; the task shows the device wait; after a
# poweroff, and after an abrupt xl destroy, nothing is left: no loop
# device, no vif, no backend or frontend node.
. /usr/lib/xsagent/tests/lib.sh
. /usr/lib/xsagent/tests/lib-devices.sh
devvm_file devvm 1 "$VIF0" "$VBD0"
snapshot /tmp/snap.before
xsa_start_agent $DEV_DIR/xsagent.ini
check_eq "devvm record" "$(xs $XSA_ROOT/vm/devvm/state)" halted
: >/var/log/xen/console/guest-devvm.log 2>/dev/null

xenstore-control logfile /tmp/xs.trace >/dev/null
xsa_request d1 "start devvm"
check_eq "task d1" "$(xsa_wait_task d1 180)" done
xenstore-control logfile "" >/dev/null
seq=$(sed -n "s|^IN .* WRITE (/xsagent/task/d1/stage \(.*\))$|\1|p" /tmp/xs.trace | tr '\n' ' ')
check_eq "stages" "$seq" "construct init store-vm store-domain watches refresh devices "
check_eq "vif 0 status in the task" "$(xs $XSA_ROOT/task/d1/devices/vif-0)" connected
check_eq "vbd xvda status in the task" "$(xs $XSA_ROOT/task/d1/devices/vbd-xvda)" connected
d=$(xs $XSA_ROOT/task/d1/domid)
be=/local/domain/0/backend
check_eq "vif backend hotplug-status" "$(xs $be/vif/$d/0/hotplug-status)" connected
check_eq "vbd backend hotplug-status" "$(xs $be/vbd/$d/51712/hotplug-status)" connected
check_match "vbd physical-device" "$(xs $be/vbd/$d/51712/physical-device)" "7:*"
check_eq "vif$d.0 is on xenbr0" "$(basename "$(readlink /sys/class/net/vif$d.0/master)")" xenbr0
check_match "loop device for the image" "$(losetup -a)" "*$DEV_IMG*"
check_match "frontend vif mac" "$(xs /local/domain/$d/device/vif/0/mac)" "00:16:3e:*"
wait_until 90 console_has devvm "XSAGENT-GUEST-DISK DISK-MARKER-1" ||
	fail "the guest did not read the disk marker"
pass "the guest read the marker from its disk"
wait_until 60 console_has devvm "XSAGENT-GUEST-NET 192.0.2.2/24" || fail "guest network not up"
ping -c 3 -W 10 192.0.2.2 >/dev/null || fail "no ping answer from the guest"
pass "the guest answers ping over xenbr0"
wait_until 60 console_has devvm "XSAGENT-GUEST-DISKWRITE" ||
	fail "guest did not write its disk: $(tail -n 5 /var/log/xen/console/guest-devvm.log)"

xenstore-write /local/domain/$d/control/shutdown poweroff
halted() { [ "$(xs $XSA_ROOT/vm/devvm/state)" = halted ]; }
wait_until 60 halted || fail "devvm not halted after poweroff"
wait_until 60 no_devices_left || fail "devices left after poweroff: $(losetup -a) $(ls /sys/class/net)"
grep -q "XSAGENT-GUEST-WROTE devvm" $DEV_IMG || fail "the guest's write is not in the image"
pass "the guest's write reached the image"
no_leak /tmp/snap.before "a device guest's poweroff"

# Abrupt destroy: blkback never answers a Closing state for a dead
# frontend; the agent must free the loop device and the nodes itself.
xsa_request d2 "start devvm"
check_eq "task d2" "$(xsa_wait_task d2 180)" done
d=$(xs $XSA_ROOT/task/d2/domid)
xl destroy $d
wait_until 60 halted || fail "devvm not halted after xl destroy"
wait_until 60 no_devices_left || fail "devices left after xl destroy: $(losetup -a)"
check_eq "reason" "$(xs $XSA_ROOT/vm/devvm/last_shutdown_reason)" destroyed
xsa_stop_agent
no_leak /tmp/snap.before "an abrupt destroy of a device guest"
