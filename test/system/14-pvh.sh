#!/bin/sh
# A PVH VM (demo-pvh: the test guest in an HVM container without a device
# model) started through xenstore by name, then by UUID after it powered off.
# The first start loads the bzImage, the second the decompressed ELF the
# first one cached: both must boot.  Checks the task, the nodes, the ring
# references (guest frame numbers in Xen's special pages for a translated
# guest, not machine frames), xl's view, the guest's marker and that it saw
# our ACPI tables, then that a poweroff leaves the VM halted and nothing
# behind.
. /usr/lib/xsagent/tests/lib.sh
vm=demo-pvh
uuid=2a3640e3-7581-4c29-af66-91a476a9e742
# Xen's HVM special pages: X86_HVM_END_SPECIAL_REGION (0xff000) minus 8.
special_lo=$((0xfeff8))
special_hi=$((0xfefff))
snapshot /tmp/snap.before
kc=/var/cache/xsagent/kernels
rm -rf $kc
xsa_start_agent
check_eq "VM record state" "$(xs $XSA_ROOT/vm/$vm/state)" halted
check_eq "VM record type" "$(xs $XSA_ROOT/vm/$vm/type)" pvh
check_eq "VM record uuid" "$(xs $XSA_ROOT/vm/$vm/uuid)" $uuid

# Task IDs of their own: the agent keeps task records across restarts, so
# other tests' IDs (byname, ...) may still be taken.
run_start() { # ID KEY
	: >/var/log/xen/console/guest-$vm.log 2>/dev/null
	xsa_request "$1" "start $2"
	check_eq "task $1" "$(xsa_wait_task "$1" 120)" done
	check_eq "task $1 progress" "$(xs $XSA_ROOT/task/$1/progress)" 100
	check_eq "task $1 error" "$(xs $XSA_ROOT/task/$1/error)" ""
	domid=$(xs $XSA_ROOT/task/$1/domid)
	check_match "task domid" "$domid" "[1-9]*"
}

in_special() { # WHAT VALUE
	case $2 in '' | *[!0-9]*) fail "$1: '$2' is not a number" ;; esac
	if [ "$2" -ge $special_lo ] && [ "$2" -le $special_hi ]; then
		pass "$1 = $2, a guest frame in Xen's special pages"
	else
		fail "$1 = $2, not a guest frame in $special_lo-$special_hi"
	fi
}

# The domain triple-faulted (Xen says so), or the VM was restarted (a
# restart without a fault fails in follow_bed_fault, lib.sh).
faulted() {
	bed_faulted "$domid" || [ "$(xs $XSA_ROOT/vm/$vm/domid)" != "$domid" ]
}
marker_or_fault() { console_has $vm "XSAGENT-GUEST-UP $vm" || faulted; }

check_domain() {
	# First the boot (the marker, or a fault to follow), then the nodes of
	# the domain that booted: a fault in the middle of the node checks
	# would take the nodes away under them.
	FOLLOWS=0
	while :; do
		wait_until 120 marker_or_fault || true
		faulted || break
		follow_bed_fault $vm
	done
	console_has $vm "XSAGENT-GUEST-UP $vm" || {
		tail -n 20 /var/log/xen/console/guest-$vm.log
		xl dmesg | tail -n 20
		fail "no marker on the console"
	}
	pass "guest printed its marker on its console (domain $domid)"
	d=/local/domain/$domid
	check_eq "VM state" "$(xs $XSA_ROOT/vm/$vm/state)" running
	check_eq "VM domid" "$(xs $XSA_ROOT/vm/$vm/domid)" "$domid"
	check_eq "$d/name" "$(xs $d/name)" $vm
	check_eq "$d/vm" "$(xs $d/vm)" /vm/$uuid
	check_eq "$d/memory/target" "$(xs $d/memory/target)" 131072
	check_match "$d/console/port" "$(xs $d/console/port)" "[0-9]*"
	in_special "$d/console/ring-ref" "$(xs $d/console/ring-ref)"
	check_match "$d/store/port" "$(xs $d/store/port)" "[0-9]*"
	in_special "$d/store/ring-ref" "$(xs $d/store/ring-ref)"
	check_eq "/vm/$uuid/name" "$(xs /vm/$uuid/name)" $vm
	check_match "/vm/$uuid/image" "$(xs /vm/$uuid/image)" "(pvh (kernel /var/lib/xsagent/guest/vmlinuz)*"
	check_eq "xl list shows it" "$(xl list | awk -v d="$domid" '$2 == d { print $1 }')" $vm
	console_has $vm "Booting kernel on Xen PVH" || fail "the guest did not boot as PVH"
	pass "the guest booted as PVH"
	console_has $vm "ACPI: APIC 0x00000000FC00" || fail "the guest did not find the MADT"
	pass "the guest read the agent's ACPI tables (MADT)"
}


run_start pvh-byname $vm
grep -q "task pvh-byname: kernel /var/lib/xsagent/guest/vmlinuz (decompressed copy will be cached)" $XSA_LOG ||
	fail "first start did not load the bzImage"
pass "first start loaded the bzImage"
check_domain
poweroff_and_check $vm $uuid $domid
cached() { ls $kc/*.elf >/dev/null 2>&1; }
wait_until 30 cached || fail "no decompressed kernel in $kc"
run_start pvh-byuuid $uuid
grep -q "task pvh-byuuid: kernel $kc/.*\.elf$" $XSA_LOG || fail "second start did not load the cached ELF"
pass "second start loaded the cached ELF"
check_domain
poweroff_and_check $vm $uuid $domid
xsa_stop_agent
no_leak /tmp/snap.before "two PVH starts and two poweroffs"
