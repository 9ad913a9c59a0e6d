#!/bin/sh
# TEST_TIMEOUT: 2400
# kill -9 of the agent at random instants, not only at stage holds: while
# it starts, stops, reboots and destroys a VM with a vif and a vbd -- in
# the middle of a build, of a hotplug script, of a teardown.  After each
# kill the agent is started again, and once its work has settled:
# - the VM is in the state the hypervisor says (running with the domid
#   its record names, or halted with no domain at all);
# - nothing is left that the VM's state does not explain: no other domain,
#   no /local/domain or /vm of a gone domain, no backend, loop device or vif
#   but the running domain's, no script or builder process;
# and at the end, with the VM destroyed, nothing at all.
# XSA_KILLS (default 30) kills; the delays come from a fixed seed, so a
# failure can be run again as it was (XSA_KILL_SEED).
. /usr/lib/xsagent/tests/lib.sh
. /usr/lib/xsagent/tests/lib-devices.sh
devvm_file kv 501 "$VIF0" "$VBD0"
UUID=00000000-0000-4000-8000-000000000501
KILLS=${XSA_KILLS:-30}
# The sanitized agent's pass runs the whole suite again: fewer kills there.
[ -f /usr/lib/xsagent/tests/sanitized ] && KILLS=${XSA_KILLS:-5}
SEED=${XSA_KILL_SEED:-4242}
snapshot /tmp/snap.before

# rnd N K: a number in 0..K-1, the N-th of the seeded sequence.
rnd() { awk -v n="$1" -v k="$2" -v s="$SEED" 'BEGIN { srand(s + n * 7919); print int(rand() * k) }'; }
# One xenstore-ls, not a xenstore-read per task: by this test the suite's
# earlier tests have left up to task_max (200) records, and a process per
# record took 6 s a call under emulation (twice per settled(): most of a
# kill's 40 s).
active_tasks() {
	xenstore-ls $XSA_ROOT/task 2>/dev/null |
		awk '/^[^ ]/ { t = $1 } /^ state = "(queued|running)"$/ { print t }'
}
scripts_running() {
	awk '{ c = $2; gsub(/[()]/, "", c); comm[$1] = c; pp[$1] = $4 }
	     END { for (p in comm) {
		if (comm[p] == "xsagent" && comm[pp[p]] == "xsagent") print "builder"
		if (comm[p] ~ /^(block|vif-bridge)$/) print "script" } }' /proc/[0-9]*/stat 2>/dev/null
}
guests() { xl list 2>/dev/null | awk 'NR > 2 { print $2 }'; }
view() { echo "$(xs $XSA_ROOT/vm/kv/state) $(xs $XSA_ROOT/vm/kv/domid) $(guests | tr '\n' ' ')"; }
# settled: no task in flight, no script or builder, and the same view of
# the VM and the domains for 3 s -- a guest that took a stop or reboot
# just before the kill shuts down a little later, and the agent acts then
# (its stop or reboot task is in flight until then: the window is for what
# no task covers, and 3 s is most of a stop's time in this bed).
settled() {
	[ -z "$(active_tasks)" ] && [ -z "$(scripts_running)" ] || return 1
	v1=$(view)
	sleep 3
	[ -z "$(active_tasks)" ] && [ -z "$(scripts_running)" ] && [ "$(view)" = "$v1" ]
}

# consistent WHAT: the VM's record agrees with the hypervisor and nothing
# is left over beyond what a running VM explains.
consistent() {
	st=$(xs $XSA_ROOT/vm/kv/state)
	d=$(xs $XSA_ROOT/vm/kv/domid)
	g=$(guests | tr '\n' ' ')
	case $st in
	running | paused)
		check_eq "$1: the only domain is the VM's" "$g" "$d "
		want_loops=1
		want_vifs="vif$d.0"
		want_ld="0 $d"
		want_be="$d"
		want_vm="$UUID" ;;
	halted)
		check_eq "$1: no domain" "$g" ""
		want_loops=0
		want_vifs=""
		want_ld="0"
		want_be=""
		want_vm="" ;;
	*) fail "$1: VM state '$st' after settling" ;;
	esac
	check_eq "$1: /local/domain" "$(xenstore-list /local/domain | sort -n | tr '\n' ' ' | sed 's/ $//')" "$want_ld"
	check_eq "$1: /vm" "$(xenstore-list /vm 2>/dev/null | tr -d '\n')" "$want_vm"
	check_eq "$1: vbd backends" "$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null | tr -d '\n')" "$want_be"
	check_eq "$1: vif backends" "$(xenstore-list /local/domain/0/backend/vif 2>/dev/null | tr -d '\n')" "$want_be"
	check_eq "$1: loop devices" "$(losetup -a 2>/dev/null | grep -c .)" "$want_loops"
	check_eq "$1: vifs" "$(ls /sys/class/net | grep '^vif' | tr -d '\n')" "$want_vifs"
}

# active_tasks reads xenstore-ls's layout: check it sees a running record.
xenstore-write $XSA_ROOT/task/probe35/state running $XSA_ROOT/task/probe35/op start
check_eq "active_tasks sees a running record" "$(active_tasks | grep -c '^probe35$')" 1
xenstore-rm $XSA_ROOT/task/probe35
xsa_start_agent $DEV_DIR/xsagent.ini
kills=0
i=0
ops=
while [ $kills -lt $KILLS ]; do
	i=$((i + 1))
	st=$(xs $XSA_ROOT/vm/kv/state)
	# A killed start leaves the VM halted: every other time a halted VM is
	# started without a kill, so that stops, reboots and destroys get
	# their share of the kills.
	if [ "$st" = halted ] && [ $(rnd $((i + 500)) 2) = 0 ]; then
		xsa_request up$i "start kv"
		check_eq "start up$i (no kill)" "$(xsa_wait_task up$i 240)" done
		continue
	fi
	case $st in
	halted) op=start ;;
	*) case $(rnd $i 4) in 0) op=stop ;; 1) op=reboot ;; *) op=destroy ;; esac ;;
	esac
	# Starts take longest (build, then the scripts): spread their kills
	# wider; a destroy's teardown is over in a few seconds.
	case $op in start | reboot) span=12000 ;; *) span=5000 ;; esac
	ms=$(rnd $((i + 1000)) $span)
	xsa_request kill$i "$op kv"
	usleep $((ms * 1000))
	stage=$(xs $XSA_ROOT/task/kill$i/stage)
	kill -KILL $XSA_PID
	wait $XSA_PID 2>/dev/null
	XSA_PID=
	kills=$((kills + 1))
	ops="$ops $op@${stage:-intake}"
	say "--- kill $kills: $op, after $ms ms (task at '${stage:-intake}', $(xs $XSA_ROOT/task/kill$i/state))"
	xsa_start_agent $DEV_DIR/xsagent.ini
	wait_until 240 settled || fail "kill $kills: not settled (tasks: $(active_tasks); $(scripts_running | tr '\n' ' '))"
	consistent "kill $kills"
done
say "--- $kills kills: destroy what runs, then nothing may be left"
case $(xs $XSA_ROOT/vm/kv/state) in
halted) ;;
*) xsa_request kill-end "destroy kv"
   check_eq "destroy" "$(xsa_wait_task kill-end 60)" done ;;
esac
wait_until 120 settled || true
xsa_request kill-start "start kv"
check_eq "the next start works" "$(xsa_wait_task kill-start 240)" done
xsa_request kill-end2 "destroy kv"
check_eq "destroy" "$(xsa_wait_task kill-end2 60)" done
xsa_stop_agent
wait_until 120 no_devices_left || true
no_leak /tmp/snap.before "$kills kills"
echo "kills by operation and stage:"
echo $ops | tr ' ' '\n' | sort | uniq -c
echo "kills: $kills, leaks: 0"
