#!/bin/sh
# TEST_TIMEOUT: 1500
# HVM guests: the agent builds the domain (hvmloader, SeaBIOS) and runs the
# device model (Debian's qemu for Xen); the guest boots the test guest's
# kernel, directly (kernel = ...: the device model's -kernel) or from its
# disk (SYSLINUX on the bed's boot disk, lib.sh hvm_boot_disk).
#  - Bad input, each a failed task with a clear error and nothing left:
#    the device model binary missing, hvmloader missing, a device model that
#    exits at once (its last log line in the error), one that never reports
#    running (killed at dm_timeout, its process group with it).
#  - The agent SIGKILLed while a start waits for its device model, then
#    restarted: the start is rolled back and the device model (which
#    outlives the agent) killed; nothing left.
#  - A device model killed under a running guest: the guest crashes and
#    on_crash (destroy) applies; nothing left.  This start is the suite's
#    one direct kernel boot: the device model has -kernel, -initrd and
#    -append (killed seconds in, so its slow fw_cfg copy is not waited
#    for).  The same for a device model an earlier run of the agent
#    started (the agent SIGKILLed, restarted: it adopts the guest and
#    watches the device model), from here on with the VM booting from its
#    disk (no kernel; [vbd.0] the boot disk, boot = c, hdtype = ahci).
#  - A start by request reaches the guest's marker on its console; the
#    nodes xl writes for the same guest are there; the agent is SIGKILLed
#    and restarted (it adopts the running guest); a stop ends halted with
#    nothing left: no device model process (the earlier run's, found by
#    its pid node), no device-model nodes, no /local/domain/D, no /vm/UUID,
#    no loop device or vbd backend.
# One boot to the marker, from the disk: SeaBIOS reads the 17 MB of kernel
# and initrd through INT13 from the emulated AHCI disk, by DMA.  A direct
# kernel boot loads them through fw_cfg, which qemu 7.2 serves without DMA
# for Xen; an IDE disk is read by port I/O, a few exits per sector, and was
# slower still (docs/bench.md, "Why an HVM direct kernel boot is slow").
# The rest costs seconds.
. /usr/lib/xsagent/tests/lib.sh
# What to look at when a check fails: Xen's, the device model's and the
# guest's last words.
diag() {
	echo "--- xl dmesg (tail)"; xl dmesg | tail -n 25
	echo "--- $log (tail)"; tail -n 15 $log 2>/dev/null
	echo "--- guest console (tail)"; tail -n 15 /var/log/xen/console/guest-$vm.log 2>/dev/null
}
dir=/tmp/hvm
rm -rf $dir
mkdir -p $dir/vms
vm=hvm1
uuid=00000000-0000-4000-8000-000000000041
log=/var/log/xen/qemu-dm-$vm.log
cat >$dir/vms/$vm.ini <<EOF
[vm]
name = $vm
uuid = $uuid
type = hvm
memory = 256
kernel = /var/lib/xsagent/guest/vmlinuz
ramdisk = /var/lib/xsagent/guest/initrd
cmdline = console=hvc0 loglevel=4 xsa.marker=$vm
on_crash = destroy
EOF
# The same VM booting from its disk (the boot disk's first line is no
# marker: xsa.disk=none).
boot_img=$dir/boot.img
disk_vm_file() {
	hvm_boot_disk $boot_img "console=hvc0 loglevel=4 xsa.marker=$vm xsa.disk=none"
	printf '[vm]\nname = %s\nuuid = %s\ntype = hvm\nmemory = 256\nboot = c\nhdtype = ahci\non_crash = destroy\n[vbd.0]\ntarget = %s\nvdev = xvda\n' \
		$vm $uuid $boot_img >$dir/vms/$vm.ini
}
# Fake device models: one that fails at once, one that never says running
# (and has a child, which must go with it).
cat >$dir/dm-exit <<'EOF'
#!/bin/sh
echo "fake-dm: starting for domain $2"
echo "fake-dm: cannot initialise the machine"
exit 3
EOF
cat >$dir/dm-hang <<'EOF'
#!/bin/sh
echo $$ >/tmp/hvm/dm-hang.pid
echo "fake-dm-hang: up"
sleep 1000 &
echo $! >/tmp/hvm/dm-sleep.pid
wait
EOF
chmod +x $dir/dm-exit $dir/dm-hang
agent_conf() { printf '[agent]\nvm_dir = %s/vms\n%b' $dir "$1" >$dir/a.ini; }
# The fake device model that hangs and its child, by the pids they wrote
# (the bed has no pgrep); a zombie waiting for init counts as gone.
alive() { [ -e /proc/$1/stat ] && [ "$(sed 's/^.*) \(.\).*/\1/' /proc/$1/stat)" != Z ]; }
fakes_alive() {
	for f in $dir/dm-hang.pid $dir/dm-sleep.pid; do
		[ -s $f ] && alive "$(cat $f)" && return 0
	done
	return 1
}
no_fake() { ! fakes_alive; }
snapshot /tmp/snap.before

expect_fail() { # ID ERROR-GLOB
	rm -f $dir/*.pid
	xsa_request "$1" "start $vm"
	check_eq "task $1" "$(xsa_wait_task "$1" 120)" failed
	check_match "error of $1" "$(xs $XSA_ROOT/task/$1/error)" "$2"
	check_eq "VM state after $1" "$(xs $XSA_ROOT/vm/$vm/state)" halted
	wait_until 10 no_fake || fail "a fake device model or its child is left after $1 (pids $(cat $dir/*.pid | tr '\n' ' '))"
	no_leak /tmp/snap.before "$1"
}

agent_conf 'device_model = /nonexistent/qemu\n'
xsa_start_agent $dir/a.ini
check_eq "VM record type" "$(xs $XSA_ROOT/vm/$vm/type)" hvm
expect_fail hvm-nobin "device-model: device model /nonexistent/qemu: No such file or directory"
xsa_stop_agent

agent_conf 'hvmloader = /nonexistent/hvmloader\n'
xsa_start_agent $dir/a.ini
expect_fail hvm-noloader "init: hvmloader /nonexistent/hvmloader: No such file or directory"
xsa_stop_agent

agent_conf "device_model = $dir/dm-exit\n"
xsa_start_agent $dir/a.ini
expect_fail hvm-exit "device-model: device model (pid [0-9]*) exited with status 3 before it was running: fake-dm: cannot initialise the machine"
grep -q "fake-dm: starting for domain [1-9]" $log || fail "the fake device model's output is not in $log"
pass "the device model's output went to $log"
xsa_stop_agent

agent_conf "device_model = $dir/dm-hang\ndm_timeout = 3\n"
xsa_start_agent $dir/a.ini
expect_fail hvm-hang "device-model: device model (pid [0-9]*) did not report running within 3 s (log $log)"
xsa_stop_agent

kill_agent() {
	kill -KILL $XSA_PID
	wait $XSA_PID 2>/dev/null
	XSA_PID=
}
agent_conf "device_model = $dir/dm-hang\ndm_timeout = 120\n"
xsa_start_agent $dir/a.ini
rm -f $dir/*.pid
xsa_request hvm-kill "start $vm"
in_dm() { [ "$(xs $XSA_ROOT/task/hvm-kill/stage)" = device-model ]; }
wait_until 30 in_dm || fail "start hvm-kill never waited in device-model (stage '$(xs $XSA_ROOT/task/hvm-kill/stage)')"
hang_up() { [ -s $dir/dm-sleep.pid ]; }
wait_until 10 hang_up || fail "no fake device model running during hvm-kill"
fakes_alive || fail "the fake device model is not running during hvm-kill"
kill_agent
fakes_alive || fail "the fake device model did not outlive the agent (nothing to test)"
pass "the device model outlived the SIGKILLed agent"
xsa_start_agent $dir/a.ini
check_eq "task hvm-kill" "$(xs $XSA_ROOT/task/hvm-kill/state)" failed
check_eq "its error" "$(xs $XSA_ROOT/task/hvm-kill/error)" "interrupted by agent restart; rolled back"
check_eq "VM state after the rollback" "$(xs $XSA_ROOT/vm/$vm/state)" halted
wait_until 10 no_fake || fail "the earlier run's device model is left after the rollback"
pass "the rollback killed the earlier run's device model"
no_leak /tmp/snap.before "SIGKILL of the agent during device-model"
xsa_stop_agent

agent_conf ''
xsa_start_agent $dir/a.ini

run_start() { # ID
	: >/var/log/xen/console/guest-$vm.log 2>/dev/null
	xsa_request "$1" "start $vm"
	check_eq "task $1" "$(xsa_wait_task "$1" 120)" done
	check_eq "task $1 error" "$(xs $XSA_ROOT/task/$1/error)" ""
	domid=$(xs $XSA_ROOT/task/$1/domid)
	check_match "task $1 domid" "$domid" "[1-9]*"
	check_match "task $1 time" "$(xs $XSA_ROOT/task/$1/time)" "*device-model=[0-9]* *"
	dmpid=$(xs /local/domain/$domid/image/device-model-pid)
	[ -n "$dmpid" ] || {
		diag
		fail "no image/device-model-pid for domain $domid (VM state '$(xs $XSA_ROOT/vm/$vm/state)', last shutdown reason '$(xs $XSA_ROOT/vm/$vm/last_shutdown_reason)')"
	}
	check_match "image/device-model-pid" "$dmpid" "[1-9]*"
	[ -d /proc/$dmpid ] || fail "device model pid $dmpid is not running"
	cmd=$(tr '\0' ' ' </proc/$dmpid/cmdline)
	check_match "device model command line" "$cmd" "/usr/libexec/xen-qemu-system-i386 -xen-domid $domid *-machine xenfv*"
	check_eq "device-model/$domid/state" "$(xs /local/domain/0/device-model/$domid/state)" running
}
dm_gone() { [ ! -d /proc/$dmpid ] || [ "$(sed 's/^.*) \(.\).*/\1/' /proc/$dmpid/stat 2>/dev/null)" = Z ]; }
vm_halted() { [ "$(xs $XSA_ROOT/vm/$vm/state)" = halted ]; }
# The boot disk's loop device and vbd backend (its block script runs after
# the domain is gone).
no_disk_left() {
	[ -z "$(losetup -a 2>/dev/null)" ] && [ -z "$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null)" ]
}
after_end() { # WHAT REASON
	wait_until 60 vm_halted || fail "$vm not halted 60 s after $1"
	check_eq "last shutdown reason after $1" "$(xs $XSA_ROOT/vm/$vm/last_shutdown_reason)" "$2"
	wait_until 10 dm_gone || fail "device model pid $dmpid still running after $1"
	pass "no device model process after $1"
	wait_until 60 no_disk_left || fail "loop device or vbd backend left after $1: $(losetup -a) $(xenstore-list /local/domain/0/backend/vbd 2>/dev/null)"
	xenstore-exists /local/domain/0/device-model/$domid && fail "device-model/$domid left after $1"
	xenstore-exists /local/domain/$domid && fail "/local/domain/$domid left after $1"
	xenstore-exists /vm/$uuid && fail "/vm/$uuid left after $1"
	no_leak /tmp/snap.before "$1"
}

# The device model dies under the running guest (killed early in its boot:
# the guest need not reach its marker for this).  The suite's one direct
# kernel boot: -kernel, -initrd and -append, killed long before its fw_cfg
# copy of the kernel (tens of seconds to minutes) could end.
run_start hvm-crash
check_match "device model command line (direct kernel boot)" "$cmd" \
	"* -kernel /var/lib/xsagent/guest/vmlinuz -initrd /var/lib/xsagent/guest/initrd -append console=hvc0 loglevel=4 xsa.marker=$vm *"
kill -KILL $dmpid
after_end "SIGKILL of the device model" crash
grep -q "device model ended (status 9) under domain $domid: the guest crashes" $XSA_LOG || {
	diag
	fail "the agent did not say why the guest crashed"
}
pass "the agent said the device model died and the guest crashed"

# From here on the VM boots from its disk (the agent reads the new file
# when it starts).
xsa_stop_agent
disk_vm_file
xsa_start_agent $dir/a.ini
check_eq "VM record type (boot from disk)" "$(xs $XSA_ROOT/vm/$vm/type)" hvm

# The same under an agent that did not start it: the agent is SIGKILLed
# (the device model lives on), the next one adopts the guest and watches
# its device model (a pidfd: not its child); its death crashes the guest.
run_start hvm-adopt
check_eq "vbd xvda in the task" "$(xs $XSA_ROOT/task/hvm-adopt/devices/vbd-xvda)" connected
case $cmd in
*" -kernel "*) fail "device model of a VM booting from its disk has -kernel: $cmd" ;;
*" -boot order=c "*" -device ahci,id=ahci0 -drive file=$boot_img,if=none,id=ahcidisk-0,format=raw,cache=writeback -device ide-hd,bus=ahci0.0,unit=0,drive=ahcidisk-0"*)
	pass "device model: no -kernel, boot order c, the boot disk on AHCI port 0" ;;
*) fail "device model command line (boot from disk): $cmd" ;;
esac
kill_agent
xsa_start_agent $dir/a.ini
check_eq "VM state after the restart (adopted)" "$(xs $XSA_ROOT/vm/$vm/state)" running
check_eq "VM domid after the restart" "$(xs $XSA_ROOT/vm/$vm/domid)" "$domid"
[ -d /proc/$dmpid ] || fail "the device model died with the agent"
kill -KILL $dmpid
after_end "SIGKILL of an adopted device model" crash

# The boot to the marker, then a stop.
run_start hvm-up
d=/local/domain/$domid
check_eq "$d/hvmloader/bios" "$(xs $d/hvmloader/bios)" seabios
check_eq "$d/platform/device-model" "$(xs $d/platform/device-model)" qemu_xen
check_eq "$d/platform/acpi" "$(xs $d/platform/acpi)" 1
check_match "/vm/$uuid/image" "$(xs /vm/$uuid/image)" "(hvm *"
check_eq "xl list shows it" "$(xl list | awk -v d="$domid" '$2 == d { print $1 }')" $vm
# The boot to the marker; a bed fault (lib.sh, follow_bed_fault) on the
# way is followed to the domain the agent restarts, whose device model is
# then the one to watch.  Up to 360 s: the bound of the direct kernel boot
# this used to be (its fw_cfg copy alone took 40-200 s), kept for a
# loaded host.
# Markers are counted: a boot after a fault writes to the same console log.
markers() { grep -c "XSAGENT-GUEST-UP $vm" /var/log/xen/console/guest-$vm.log 2>/dev/null; }
seen=0
up() { [ "$(markers)" -gt $seen ]; }
faulted() { bed_faulted "$domid" || [ "$(xs $XSA_ROOT/vm/$vm/domid)" != "$domid" ]; }
up_or_fault() { up || faulted; }
boot_to_marker() {
	FOLLOWS=0
	while :; do
		wait_until 360 up_or_fault || true
		up && break
		faulted || break
		follow_bed_fault $vm
		dmpid=$(xs /local/domain/$domid/image/device-model-pid)
		check_match "device model of domain $domid" "$dmpid" "[1-9]*"
	done
	up || {
		diag
		fail "no marker on the console within 360 s (VM state '$(xs $XSA_ROOT/vm/$vm/state)', last shutdown reason '$(xs $XSA_ROOT/vm/$vm/last_shutdown_reason)')"
	}
	seen=$(markers)
	pass "HVM guest printed its marker on its console (domain $domid, $(($(date +%s) - T0)) s into the test)"
}
boot_to_marker
kill_agent
[ -d /proc/$dmpid ] || fail "the device model died with the agent"
xsa_start_agent $dir/a.ini
# A fault while the agent was down: the new agent finds the domain shut
# down with reason reboot and restarts the VM (on_reboot).
if bed_faulted "$domid"; then
	follow_bed_fault $vm
	dmpid=$(xs /local/domain/$domid/image/device-model-pid)
	boot_to_marker
else
	check_eq "VM state after the restart (adopted)" "$(xs $XSA_ROOT/vm/$vm/state)" running
	check_eq "VM domid after the restart" "$(xs $XSA_ROOT/vm/$vm/domid)" "$domid"
fi
xsa_request hvm-stop "stop $vm"
check_eq "task hvm-stop" "$(xsa_wait_task hvm-stop 90)" done
# A bed fault during the guest's poweroff (seen once: the triple fault at
# Xen's own RIP of docs/reliability.md, after the guest took the request)
# ends the domain with reason reboot while the stop waits for it: the stop
# then ends it, halted, and the reason is the fault's.  Anything else that
# is not poweroff fails after_end.
why=poweroff
wait_until 60 vm_halted || true
if [ "$(xs $XSA_ROOT/vm/$vm/last_shutdown_reason)" != poweroff ] && bed_faulted "$domid"; then
	xl dmesg | grep -A 12 "d${domid}v[0-9]* Triple fault" | head -n 13
	why=$(xs $XSA_ROOT/vm/$vm/last_shutdown_reason)
	say "NOTE: bed fault: domain $domid of $vm triple-faulted during its poweroff (emulated SVM, see docs/reliability.md); the stop ended it with reason '$why'"
fi
after_end "the stop" $why
xsa_stop_agent
rm -f $boot_img
