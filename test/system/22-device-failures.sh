#!/bin/sh
# TEST_TIMEOUT: 900
# Every device failure ends in a failed task with its reason and leaves
# nothing behind: a missing bridge, a script that fails with fatal, one
# that writes error but exits 0 (xl would call that success), one that
# hangs (stopped with its children at the timeout: SIGTERM first, so its
# trap runs, SIGKILL only after a grace), a disk already in use
# read-write by another running guest (busy), a missing disk file, a
# backend its driver closed although the script said connected.
. /usr/lib/xsagent/tests/lib.sh
. /usr/lib/xsagent/tests/lib-devices.sh
devvm_file nobr 11 '[vif.0]\nbridge = br9\n' ""
devvm_file fatal 12 "" "$VBD0"'script = failfatal\n'
devvm_file err0 13 "" "$VBD0"'script = errexit0\n'
# hang with a TERM trap: it must get to run (the agent stopped a script
# with SIGKILL alone once, so a half-done add could not undo itself).
cat >$DEV_SCRIPTS/hangtrap <<'S'
#!/bin/sh
case $1 in remove | offline) exit 0 ;; esac
trap 'echo "TERM during $0 $1" >/tmp/dev/hang-term; exit 1' TERM
sleep 1000 &
wait
S
chmod +x $DEV_SCRIPTS/hangtrap
rm -f /tmp/dev/hang-term
devvm_file hangs 14 '[vif.0]\nbridge = xenbr0\nscript = hangtrap\n' ""
devvm_file owner 15 "" "$VBD0"
devvm_file thief 16 "" "$VBD0"
devvm_file nodisk 17 "" "[vbd.0]\ntarget = /nonexistent/disk.img\nvdev = xvda\n"
# A script that does what block does on success -- physical-device and
# hotplug-status "connected" in one write, exit 0 -- but names a device
# blkback cannot open (ff:ff).  blkback opens it afterwards, in a thread of
# its own, fails, and closes the backend (Closing, 5; its reason under
# /local/domain/0/error/backend/...).  The start must fail with that
# reason, not unpause a guest whose disk is dead: the agent once counted
# the disk connected on the script's word, and a blkback slower than the
# agent's look went unseen (as it does with xl).
cat >$DEV_SCRIPTS/badpdev <<'S'
#!/bin/sh
case $1 in remove | offline) exit 0 ;; esac
xenstore-write "$XENBUS_PATH/physical-device" ff:ff "$XENBUS_PATH/hotplug-status" connected
S
chmod +x $DEV_SCRIPTS/badpdev
devvm_file badpd 18 "" "$VBD0"'script = badpdev\n'
snapshot /tmp/snap.before
xsa_start_agent $DEV_DIR/xsagent.ini

expect_fail() { # ID VM ERROR-GLOB
	xsa_request "$1" "start $2"
	check_eq "task $1" "$(xsa_wait_task "$1" 180)" failed
	check_match "error of $1" "$(xs $XSA_ROOT/task/$1/error)" "$3"
	grep -qF "task $1" "$XSA_LOG" || fail "task $1 not in the log"
	wait_until 60 no_devices_left || fail "devices left after $1: $(losetup -a)"
	no_leak /tmp/snap.before "$1"
}
expect_fail f1 nobr "devices: vif 0 of nobr: *Could not find bridge device br9*"
expect_fail f2 fatal "devices: vbd xvda of fatal: boom from failfatal"
expect_fail f3 err0 "devices: vbd xvda of err0: errexit0 says error but exits 0"
expect_fail f4 hangs "devices: vif 0 of hangs: hotplug script timed out after 40 s"
check_match "the timed-out script's TERM trap ran" "$(cat /tmp/dev/hang-term 2>/dev/null)" \
	"TERM during */hangtrap online"
expect_fail f5 nodisk "lookup: VM file of nodisk is invalid: *target /nonexistent/disk.img: No such file or directory"
expect_fail f7 badpd "devices: vbd xvda of badpd: the backend driver closed it (state 5): creating vbd structure: *"
d=$(xs $XSA_ROOT/task/f7/domid)
[ -n "$d" ] || fail "task f7 has no domid"
if xenstore-exists /local/domain/0/error/backend/vbd/$d 2>/dev/null; then
	fail "blkback's error nodes of f7 left: $(xenstore-ls /local/domain/0/error/backend/vbd/$d 2>&1)"
else
	pass "blkback's error nodes of f7 removed with the backend"
fi

# Busy: the image is attached read-write to a running guest.
xsa_request own "start owner"
check_eq "task own" "$(xsa_wait_task own 180)" done
xsa_request f6 "start thief"
check_eq "task f6" "$(xsa_wait_task f6 180)" failed
check_match "error of f6" "$(xs $XSA_ROOT/task/f6/error)" "devices: vbd xvda of thief: busy: *"
d=$(xs $XSA_ROOT/task/own/domid)
check_eq "the owner's disk still attached" "$(xs /local/domain/0/backend/vbd/$d/51712/hotplug-status)" connected
xl destroy $d
halted() { [ "$(xs $XSA_ROOT/vm/owner/state)" = halted ]; }
wait_until 60 halted || fail "owner not halted"
wait_until 60 no_devices_left || fail "devices left after the busy case"
xsa_stop_agent
no_leak /tmp/snap.before "device failures"
