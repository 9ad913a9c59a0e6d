#!/bin/sh
# A VM start requested in xenstore: by name, then by UUID after the guest
# powered itself off.  Checks the published stages in order (from
# xenstored's own trace), every node the start writes, the guest's console
# marker, xl's view, and that a shutdown leaves the VM halted with nothing
# behind.
. /usr/lib/xsagent/tests/lib.sh
vm=demo
uuid=6b1f3c52-8d0e-4a7b-9e21-3f5c7a9d0b14
snapshot /tmp/snap.before
kc=/var/cache/xsagent/kernels
rm -rf $kc
xsa_start_agent
check_eq "VM record state" "$(xs $XSA_ROOT/vm/$vm/state)" halted
check_eq "VM record uuid" "$(xs $XSA_ROOT/vm/$vm/uuid)" $uuid

run_start() { # ID KEY
	: >/var/log/xen/console/guest-$vm.log 2>/dev/null
	xenstore-control logfile /tmp/xs.trace >/dev/null
	xsa_request "$1" "start $2"
	check_eq "task $1" "$(xsa_wait_task "$1" 120)" done
	xenstore-control logfile "" >/dev/null
	# The stages as the agent published them, in the order xenstored saw.
	seq=$(sed -n "s|^IN .* WRITE (/xsagent/task/$1/\(stage\|progress\) \(.*\))$|\2|p" /tmp/xs.trace | tr '\n' ' ')
	check_eq "published stage/progress sequence" "$seq" \
		"construct 0 init 31 store-vm 61 store-domain 71 watches 81 refresh 91 100 "
	check_eq "task op" "$(xs $XSA_ROOT/task/$1/op)" start
	check_eq "task vm" "$(xs $XSA_ROOT/task/$1/vm)" "$2"
	check_match "task time" "$(xs $XSA_ROOT/task/$1/time)" \
		"construct=* init=* store-vm=* store-domain=* watches=* refresh=* build=* total=*"
	domid=$(xs $XSA_ROOT/task/$1/domid)
	check_match "task domid" "$domid" "[1-9]*"
}

check_domain() {
	d=/local/domain/$domid
	check_eq "VM state" "$(xs $XSA_ROOT/vm/$vm/state)" running
	check_eq "VM domid" "$(xs $XSA_ROOT/vm/$vm/domid)" "$domid"
	check_eq "$d/name" "$(xs $d/name)" $vm
	check_eq "$d/domid" "$(xs $d/domid)" "$domid"
	check_eq "$d/vm" "$(xs $d/vm)" /vm/$uuid
	check_eq "$d/memory/static-max" "$(xs $d/memory/static-max)" 131072
	check_eq "$d/memory/target" "$(xs $d/memory/target)" 131072
	check_eq "$d/cpu/0/availability" "$(xs $d/cpu/0/availability)" online
	check_match "$d/console/port" "$(xs $d/console/port)" "[0-9]*"
	check_match "$d/console/ring-ref" "$(xs $d/console/ring-ref)" "[0-9]*"
	check_eq "$d/console/type" "$(xs $d/console/type)" xenconsoled
	check_match "$d/store/port" "$(xs $d/store/port)" "[0-9]*"
	check_match "$d/store/ring-ref" "$(xs $d/store/ring-ref)" "[0-9]*"
	check_eq "perms of $d" "$(xenstore-ls -p $d | sed -n 's/^name = .*(\(.*\))$/\1/p')" "n0,r$domid"
	check_eq "perms of $d/control" "$(xenstore-ls -p $d | sed -n 's/^control = .*(\(.*\))$/\1/p')" "n0,b$domid"
	check_eq "/vm/$uuid/name" "$(xs /vm/$uuid/name)" $vm
	check_eq "/vm/$uuid/uuid" "$(xs /vm/$uuid/uuid)" $uuid
	check_match "/vm/$uuid/image" "$(xs /vm/$uuid/image)" "(pv (kernel /var/lib/xsagent/guest/vmlinuz)*"
	check_match "/vm/$uuid/start_time" "$(xs /vm/$uuid/start_time)" "[0-9]*"
	check_eq "/vm/$uuid/on_reboot" "$(xs /vm/$uuid/on_reboot)" restart
	check_eq "xl list shows it" "$(xl list | awk -v d="$domid" '$2 == d { print $1 }')" $vm
	wait_until 60 console_has $vm "XSAGENT-GUEST-UP $vm" || fail "no marker on the console"
	pass "guest printed its marker on its console"
}


run_start byname $vm
cached() { ls $kc/*.elf >/dev/null 2>&1; }
wait_until 30 cached || fail "no decompressed kernel in $kc after the first start"
entry=$(ls $kc/*.elf)
check_match "cached kernel" "${entry##*/}" "*.elf"
check_domain
poweroff_and_check $vm $uuid $domid
# The second start must read the cached copy, not decompress again: date
# the entry back (its name, not its times, ties it to the kernel), then
# its access time says it was read and its modification time that it was
# not written again.
touch -d '2001-01-01 00:00:00' "$entry"
t1=$(date +%s)
run_start byuuid $uuid
[ "$(stat -c %X "$entry")" -ge "$t1" ] || fail "second start did not read the cached kernel (atime $(stat -c %x "$entry"))"
check_eq "cached kernel rewritten" "$(date -d "@$(stat -c %Y "$entry")" +%Y)" 2001
pass "second start loaded the cached kernel"
check_domain
poweroff_and_check $vm $uuid $domid
check_eq "cache entries" "$(ls $kc | wc -l)" 1
xsa_stop_agent
no_leak /tmp/snap.before "two starts and two poweroffs"
