#!/bin/sh
# TEST_TIMEOUT: 900
# Load: 20 clients write 100 requests each, all at once, on three VMs --
# starts, destroys, pauses, unpauses, refreshes, stops, cancels, requests
# for a VM that does not exist, bad operations, junk bytes, and IDs that
# several clients reuse.  Every request must be taken exactly once (one
# task record, created once) or reported (the log says why it was not
# taken); none may stay under request/; every task ends; a refresh written
# in the middle of the storm is answered; the VMs end as the hypervisor
# says; nothing leaks.
. /usr/lib/xsagent/tests/lib.sh
L=/tmp/load
rm -rf $L; mkdir -p $L/vms
for v in 1 2 3; do vm_file $L/vms l$v 60$v; done
# Every task record is kept for the accounting (the default keeps 200);
# a stop gives the guest 2 s, then destroys (a booting guest ignores it).
printf '[agent]\nvm_dir = %s/vms\ntask_max = 5000\nshutdown_timeout = 2\n' $L >$L/agent.ini
snapshot /tmp/snap.before
xl sched-credit2 -d 0 -w 8192 || say "NOTE: could not raise dom0's scheduler weight"
xsa_start_agent $L/agent.ini

# client K: its 100 requests, written 10 per xenstore-write (one process
# per 10 requests: 200 processes in all, not 2000).  Request J of client K:
#   J = 0, 50: start;  20, 70: destroy;  30, 80: stop (the VM's tasks run one
#   at a time: each start boots a guest, so 40 of them, not 200);
#   other J % 10 = 0 or 5: unpause; else by J % 10:
#   1 pause, 2 unpause, 3 refresh, 4 start of a VM that does not exist,
#   6 a bad operation, 7 a cancel of the client's previous request,
#   8 junk (control bytes), 9 an ID shared by every client ("dup-J").
client() {
	k=$1 j=0
	shift
	while [ $j -lt 100 ]; do
		v=l$(((j + k) % 3 + 1)) id=c$k-$j
		case $((j % 50)),$((j % 10)) in
		0,*) op="start $v" ;;
		20,*) op="destroy $v" ;;
		30,*) op="stop $v" ;;
		*,0 | *,5) op="unpause $v" ;;
		*) case $((j % 10)) in
			1) op="pause $v" ;;
			2) op="unpause $v" ;;
			3) op="refresh" ;;
			4) op="start nosuchvm" ;;
			6) op="frobnicate $v" ;;
			7) op="cancel c$k-$((j - 1))" ;;
			8) op=$(printf 'start \033[2J\001%s' "$v") ;;
			9) op="pause $v" id=dup-$j ;;
		   esac ;;
		esac
		echo "$id" >>$L/ids.$k
		set -- "$@" "$XSA_ROOT/request/$id" "$op"
		j=$((j + 1))
		if [ $((j % 10)) = 0 ]; then
			xenstore-write "$@" || echo "client $k: xenstore-write failed" >>$L/errors
			set --
		fi
	done
}
rm -f $L/ids.* $L/errors
t0=$(date +%s)
pids=
for k in $(seq 1 20); do client $k & pids="$pids $!"; done
# The agent must answer while the storm is on.
sleep 2
xsa_request live-refresh refresh
check_eq "a refresh written during the storm" "$(xsa_wait_task live-refresh 300)" done
wait $pids	# not the agent's pid: it is this shell's child too
check_eq "clients' write errors" "$(cat $L/errors 2>/dev/null)" ""

# Settled: no request left, no task queued or running.
busy() {
	[ -n "$(xenstore-list $XSA_ROOT/request 2>/dev/null)" ] && return 0
	xenstore-ls $XSA_ROOT/task 2>/dev/null | grep -q '^ *state = "\(queued\|running\)"'
}
not_busy() { ! busy; }
wait_until 600 not_busy || fail "still busy 600 s after the storm: $(xenstore-list $XSA_ROOT/request | wc -l) request(s) left"
say "storm settled in $(($(date +%s) - t0)) s"
check_eq "requests left under request/" "$(xenstore-list $XSA_ROOT/request 2>/dev/null | wc -l)" 0

# The accounting, in one awk over the IDs written, the task records and
# the agent's log: an ID is taken once (one creation line, "task ID: ...
# queued|accepted" or "task ID: request: <why not>", and its record) or
# reported ("request 'ID': <why not>").
sort -u $L/ids.* >$L/ids
xenstore-list $XSA_ROOT/task >$L/tasks
awk -v ids=$L/ids -v tasks=$L/tasks '
	BEGIN {
		while ((getline l < ids) > 0) want[l] = 1
		while ((getline l < tasks) > 0) rec[l] = 1
	}
	/ info: task [^ ]*: .* (queued|accepted)$/ || / error: task [^ ]*: request: / {
		id = $0; sub(/.* (info|error): task /, "", id); sub(/: .*/, "", id); made[id]++
	}
	/ request .[^ ]*.: / {
		id = $0; sub(/.* request ./, "", id); sub(/.: .*/, "", id); told[id]++
	}
	END {
		bad = 0
		for (id in want) {
			if (made[id] > 1) { print "taken twice: " id; bad++ }
			else if (made[id] == 1 && !rec[id]) { print "taken, no record: " id; bad++ }
			else if (!made[id] && !told[id]) { print "neither taken nor reported: " id; bad++ }
		}
		n = 0; for (id in want) n++
		printf "accounted: %d IDs, %d problems\n", n, bad
	}' "$XSA_LOG" >$L/accounting
cat $L/accounting
check_eq "IDs neither taken once nor reported" "$(grep -vc '^accounted:' $L/accounting)" 0
# 20 x 90 of their own, and the 10 shared ones.
check_eq "IDs written" "$(wc -l <$L/ids)" 1810
# The reused IDs: one task each, however many clients wrote them.
check_eq "tasks for the shared IDs" "$(grep -c '^dup-' $L/tasks)" 10
check_eq "escape bytes in the agent's log" "$(grep -c "$(printf '\033')" $XSA_LOG)" 0

# The records agree with the hypervisor.
for v in 1 2 3; do
	st=$(xs $XSA_ROOT/vm/l$v/state) d=$(xs $XSA_ROOT/vm/l$v/domid)
	case $st in
	running | paused)
		check_match "l$v ($st) has its domain" "$(xl list 2>/dev/null | awk 'NR > 1 { print $2 }' | tr '\n' ' ')" "* $d *" ;;
	halted) check_eq "l$v halted: domid" "$d" "" ;;
	*) fail "l$v in state '$st' after the storm" ;;
	esac
done
xsa_request load-refresh refresh
check_eq "the agent still answers" "$(xsa_wait_task load-refresh 60)" done
for v in 1 2 3; do xsa_request "end-$v" "destroy l$v"; done
for v in 1 2 3; do xsa_wait_task "end-$v" 120 >/dev/null; done
xsa_stop_agent
no_leak /tmp/snap.before "2000 requests from 20 clients"
