#!/bin/sh
# TEST_TIMEOUT: 900
# A start interrupted at each stage in turn, by SIGKILL of the agent and by
# a cancel request, leaves nothing behind: no domain, no xenstore node, no
# loop device, no vif.  After a SIGKILL the agent, started again, finds the
# start in flight (its task record), rolls it back and says so in the task;
# a request written while it was down is processed.  Each time the VM can
# then be started again.  The VM has a vif and a disk, so every stage from
# init on has devices to undo.
. /usr/lib/xsagent/tests/lib.sh
. /usr/lib/xsagent/tests/lib-devices.sh
devvm_file cv 301 "$VIF0" "$VBD0"
hold() { { cat $DEV_DIR/xsagent.ini; printf 'stage_hook = %s\nstage_hook_delay = 600\n' "$1"; } >/tmp/hold.ini; }
snapshot /tmp/snap.before

# held STAGE ID: the start of task ID waits before STAGE.
held() { wait_until 60 grep -q "task $2: holding before $1" "$XSA_LOG" || fail "task $2 not held before $1"; }
# clean WHAT: the scripts run in the background: wait for them, then compare.
clean() {
	wait_until 60 no_devices_left || true
	no_leak /tmp/snap.before "$1"
}
# start_again ID: the VM starts, then goes (destroy).
start_again() {
	xsa_request "$1" "start cv"
	check_eq "start again ($1)" "$(xsa_wait_task "$1" 180)" done
	xsa_request "$1-x" "destroy cv"
	check_eq "destroy ($1-x)" "$(xsa_wait_task "$1-x" 60)" done
}

for stage in construct init store-vm store-domain watches refresh devices; do
	say "--- SIGKILL before $stage"
	hold $stage
	xsa_start_agent /tmp/hold.ini
	xsa_request k-$stage "start cv"
	held $stage k-$stage
	kill -KILL $XSA_PID
	wait $XSA_PID 2>/dev/null
	XSA_PID=
	# Written while the agent is down: processed when it is back.
	xsa_request w-$stage "refresh"
	xsa_start_agent $DEV_DIR/xsagent.ini
	check_eq "task k-$stage" "$(xs $XSA_ROOT/task/k-$stage/state)" failed
	# Held before construct, the start had made nothing: there is
	# nothing to roll back (and a running VM must never be touched).
	want="interrupted by agent restart; rolled back"
	[ $stage = construct ] && want="interrupted by agent restart"
	check_eq "its error" "$(xs $XSA_ROOT/task/k-$stage/error)" "$want"
	check_eq "request written while down" "$(xsa_wait_task w-$stage 30)" done
	check_eq "VM state" "$(xs $XSA_ROOT/vm/cv/state)" halted
	clean "SIGKILL before $stage"
	start_again a-$stage
	xsa_stop_agent
	# What this start leaves is checked with the cancel below.

	say "--- cancel before $stage"
	xsa_start_agent /tmp/hold.ini
	xsa_request c-$stage "start cv"
	held $stage c-$stage
	xsa_request x-$stage "cancel c-$stage"
	check_eq "cancel task" "$(xsa_wait_task x-$stage 60)" done
	check_eq "its result" "$(xs $XSA_ROOT/task/x-$stage/result)" "cancelled task c-$stage"
	check_eq "cancelled start" "$(xsa_wait_task c-$stage 60)" failed
	check_eq "its error" "$(xs $XSA_ROOT/task/c-$stage/error)" "$stage: cancelled by task x-$stage"
	check_eq "VM state" "$(xs $XSA_ROOT/vm/cv/state)" halted
	xsa_stop_agent
	clean "cancel before $stage (and the start before it)"
	# The next round's start, held at the next stage, starts the VM again
	# after this cancel; the last cancel gets a full start below.
done
xsa_start_agent $DEV_DIR/xsagent.ini
start_again b-last
xsa_stop_agent
clean "the start after the last cancel"
