#!/bin/sh
# TEST_TIMEOUT: 600
# Four starts of four VMs requested at once all finish, each with its own
# domain; the wall time against the same four started one after another is
# printed (not asserted: the bed is emulated and shared).
. /usr/lib/xsagent/tests/lib.sh
P=/tmp/par
rm -rf $P; mkdir -p $P/vms
# p4 has a scheduler weight and cap of its own (VM keys cpu_weight, cap).
for i in 1 2 3; do vm_file $P/vms p$i 40$i; done
vm_file $P/vms p4 404 "cpu_weight = 128\ncap = 50\n"

printf '[agent]\nvm_dir = %s/vms\n' $P >$P/agent.ini
snapshot /tmp/snap.before
# A started guest boots at once and, at Xen's default weights, takes a CPU
# from dom0 (2 vCPUs on the bed's 2): the builders of the starts still
# running would measure the guests' boot, not the agent.  Favour dom0, as a
# host that builds many guests would.
xl sched-credit2 -d 0 -w 8192 || say "NOTE: could not raise dom0's scheduler weight"
xsa_start_agent $P/agent.ini
cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }	# centiseconds
destroy_all() { # ROUND
	for i in 1 2 3 4; do xsa_request "$1-x$i" "destroy p$i"; done
	for i in 1 2 3 4; do check_eq "destroy p$i" "$(xsa_wait_task "$1-x$i" 60)" done; done
}
# Warm-up: the first start of a kernel decompresses it once (kernel cache).
xsa_request warm "start p1"
check_eq "warm-up start" "$(xsa_wait_task warm 180)" done
xsa_request warm-x "destroy p1"
xsa_wait_task warm-x 60 >/dev/null

# One after another, each destroyed once started: no booting guest slows
# the next start down (the parallel round has none either).
t0=$(cs)
for i in 1 2 3 4; do
	xsa_request "seq$i" "start p$i"
	check_eq "sequential start p$i" "$(xsa_wait_task "seq$i" 180)" done
	xsa_request "seq-x$i" "destroy p$i"
	check_eq "destroy p$i" "$(xsa_wait_task "seq-x$i" 60)" done
done
seq_cs=$(($(cs) - t0))

# Written and awaited by one C client that watches the tasks (as another
# dom0 agent would): this shell polling four tasks with xenstore-read would
# take CPU from the four builders it measures.
# xenstored's trace shows each task's states as the agent wrote them.
xenstore-control logfile /tmp/par.trace >/dev/null
t0=$(cs)
out=$(/usr/lib/xsagent/bench/xsa-request $XSA_ROOT par1 "start p1" par2 "start p2" \
	par3 "start p3" par4 "start p4") || say "xsa-request: $out"
par_cs=$(($(cs) - t0))
xenstore-control logfile "" >/dev/null
for i in 1 2 3 4; do check_eq "parallel start p$i" "$(xsa_wait_task "par$i" 180)" done; done
domids=$(for i in 1 2 3 4; do xs $XSA_ROOT/vm/p$i/domid; done | sort -u | wc -l)
check_eq "four distinct domains" "$domids" 4
for i in 1 2 3 4; do check_eq "p$i state" "$(xs $XSA_ROOT/vm/p$i/state)" running; done
# What Xen's scheduler holds for each domain (xl reads it back from Xen).
sched() { xl sched-credit2 -d "$1" | awk -v n="$1" '$1 == n { print $3, $4 }'; }
check_eq "p4's weight and cap in credit2" "$(sched p4)" "128 50"
check_eq "p1's weight and cap (Xen's defaults)" "$(sched p1)" "256 0"
# Accepted at once: each task's first state is running, none was queued.
first=$(for i in 1 2 3 4; do
	sed -n "s|^IN .* WRITE (/xsagent/task/par$i/state \(.*\))$|\1|p" /tmp/par.trace | head -n 1
done | tr '\n' ' ')
check_eq "first state of each parallel task (none queued)" "$first" "running running running running "
for i in 1 2 3 4; do say "seq$i: $(xs $XSA_ROOT/task/seq$i/time)"; done
for i in 1 2 3 4; do say "par$i: $(xs $XSA_ROOT/task/par$i/time)"; done
# The agent's own clock: the booting guests slow this shell's polling
# down far more than the agent.  One after another = the sum of the four
# starts; at once = first accepted to last done, from the agent's log.
seq_ms=$(for i in 1 2 3 4; do xs $XSA_ROOT/task/seq$i/time; done |
	sed 's/.*total=//' | awk '{ s += $1 } END { print s }')
par_ms=$(sed -n -e 's/^xsagent\[\([0-9.]*\)\] info: task par[1-4]: start p[1-4] accepted.*/\1/p' \
	-e 's/^xsagent\[\([0-9.]*\)\] info: task par[1-4] (start p[1-4]): done.*/\1/p' "$XSA_LOG" |
	awk 'NR == 1 || $1 < lo { lo = $1 } $1 > hi { hi = $1 } END { printf "%d\n", (hi - lo) * 1000 }')
say "four starts, agent time: one after another $seq_ms ms, at once $par_ms ms (ratio $(awk "BEGIN { printf \"%.2f\", $par_ms / $seq_ms }"))"
say "four starts, as this shell saw them: one after another $((seq_cs * 10)) ms (with the destroys), at once $((par_cs * 10)) ms"
say "--- four clients at once, 25 requests each, while the four guests boot"
# Each client pauses and unpauses its own VM five times without waiting
# (tasks on one VM run in request order, so every one must succeed) and
# writes refresh requests and bad ones between them.  The intake runs each
# request through a transaction that the others' writes can conflict with.
client() { # K
	j=1
	while [ $j -le 5 ]; do
		xsa_request "cc$1-$j-p" "pause p$1"
		xsa_request "cc$1-$j-r" "refresh"
		xsa_request "cc$1-$j-u" "unpause p$1"
		xsa_request "cc$1-$j-e" "explode p$1"
		xsa_request "cc$1-$j-s" "stop nosuch"
		j=$((j + 1))
	done
}
pids=
for k in 1 2 3 4; do client $k & pids="$pids $!"; done
wait $pids	# not a bare wait: the agent is a child of this shell too
all_ended() {
	for k in 1 2 3 4; do for j in 1 2 3 4 5; do for x in p r u e s; do
		task_ended "cc$k-$j-$x" || return 1
	done; done; done
}
wait_until 120 all_ended || fail "not every client request ended"
bad=$(for k in 1 2 3 4; do for j in 1 2 3 4 5; do
	for x in p r u; do [ "$(xs $XSA_ROOT/task/cc$k-$j-$x/state)" = done ] ||
		echo "cc$k-$j-$x: $(xs $XSA_ROOT/task/cc$k-$j-$x/state) $(xs $XSA_ROOT/task/cc$k-$j-$x/error)"; done
	for x in e s; do [ "$(xs $XSA_ROOT/task/cc$k-$j-$x/state)" = failed ] ||
		echo "cc$k-$j-$x: $(xs $XSA_ROOT/task/cc$k-$j-$x/state)"; done
done; done)
check_eq "100 requests from 4 clients: pause/unpause/refresh done, bad ones failed" "$bad" ""
check_eq "no request left unconsumed" "$(xenstore-list $XSA_ROOT/request 2>/dev/null)" ""
check_eq "error of a bad one" "$(xs $XSA_ROOT/task/cc3-4-e/error)" "request: unknown operation 'explode'"
for i in 1 2 3 4; do check_eq "p$i state after its 5 pauses and unpauses" "$(xs $XSA_ROOT/vm/p$i/state)" running; done
check_eq "xl sees none paused" "$(xl list | awk 'NR > 1 && $1 ~ /^p[1-4]$/ && $5 ~ /p/' | wc -l)" 0

destroy_all par
xl sched-credit2 -d 0 -w 256
xsa_stop_agent
no_leak /tmp/snap.before "four parallel starts"
