#!/bin/sh
# xsagentctl, the client: a start's exit status and domid, list, status,
# pause/unpause, stop; a bad VM name and a reused ID fail with the reason;
# with the agent stopped it says "not running" within 2 s and leaves no
# request behind; SIGINT during a start cancels it and nothing leaks.
. /usr/lib/xsagent/tests/lib.sh
dir=/tmp/ctl-vms
rm -rf $dir; mkdir -p $dir
cp /etc/xsagent/vms/demo.ini $dir/
snapshot /tmp/snap.before

say "--- SIGINT during a start cancels it (the start held before store-vm)"
printf '[agent]\nvm_dir = %s\nstage_hook = store-vm\nstage_hook_delay = 60\n' $dir >/tmp/ctl.ini
xsa_start_agent /tmp/ctl.ini
xsagentctl -i ctl-int start demo >/tmp/ctl-int.out 2>&1 &
cpid=$!
held() { grep -q 'task ctl-int: holding before store-vm' "$XSA_LOG"; }
wait_until 60 held || fail "the start did not reach the hook"
kill -INT $cpid
wait $cpid; rc=$?
out=$(cat /tmp/ctl-int.out)
check_eq "exit after SIGINT" $rc 130
check_match "its message" "$out" "*interrupted; task ctl-int failed: *cancelled by task *"
check_eq "task state" "$(xs $XSA_ROOT/task/ctl-int/state)" failed
check_match "task error" "$(xs $XSA_ROOT/task/ctl-int/error)" "*cancelled by task *"
check_eq "VM state" "$(xs $XSA_ROOT/vm/demo/state)" halted
xsa_stop_agent

say "--- the agent stopped: 'not running' within 2 s, no request left"
# /proc/uptime: dom0's date may be busybox's, without %N.
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(xsagentctl -i ctl-dead start demo 2>&1); rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
el=$(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }')
check_eq "exit with the agent stopped" $rc 3
check_match "its message" "$out" "*the agent is not running*withdrawn*"
awk "BEGIN { exit !($el <= 2.0) }" || fail "took $el s, want <= 2 s"
pass "said so in $el s"
xenstore-exists $XSA_ROOT/request/ctl-dead && fail "request ctl-dead left behind"
check_eq "requests left" "$(xenstore-list $XSA_ROOT/request | tr '\n' ' ')" ""

say "--- start, list, status, pause, unpause, stop"
printf '[agent]\nvm_dir = %s\n' $dir >/tmp/ctl.ini
xsa_start_agent /tmp/ctl.ini
out=$(xsagentctl -t 120 -i ctl-s1 start demo 2>&1); rc=$?
check_eq "start exit" $rc 0
check_match "its result" "$out" "*demo: running as domid [0-9]*"
check_match "its progress lines (not a terminal)" "$out" "*running *% *"
d=$(xs $XSA_ROOT/vm/demo/domid)
check_match "last line names the domid" "$(echo "$out" | tail -n 1)" "demo: running as domid $d *"
out=$(xsagentctl list); rc=$?
check_eq "list exit" $rc 0
check_match "list header" "$(echo "$out" | head -n 1)" "Name*ID*State*Mem(MiB)*VCPUs*Uptime"
check_match "list row" "$(echo "$out" | grep '^demo ')" "demo * $d running * 128 * 1 * 0:0*"
out=$(xsagentctl status demo); rc=$?
check_eq "status exit" $rc 0
check_match "status state" "$out" "*state: running*"
check_match "status domid" "$out" "*domid: $d*"
check_match "status by domid" "$(xsagentctl status $d)" "name: demo*"
out=$(xsagentctl status nosuchvm 2>&1); rc=$?
check_eq "status of no VM exit" $rc 1
check_match "its message" "$out" "*no VM named 'nosuchvm'*"
out=$(xsagentctl pause demo); rc=$?
check_eq "pause exit" $rc 0
check_eq "pause result" "$(echo "$out" | tail -n 1)" "demo: paused"
check_eq "its last progress line" "$(echo "$out" | tail -n 2 | head -n 1)" "done 100%"
check_eq "VM state" "$(xs $XSA_ROOT/vm/demo/state)" paused
check_match "list row" "$(xsagentctl list | grep '^demo ')" "demo * $d paused *"
out=$(xsagentctl -q unpause demo); rc=$?
check_eq "unpause exit (-q)" "$rc $out" "0 demo: running"
check_eq "VM state" "$(xs $XSA_ROOT/vm/demo/state)" running
out=$(xsagentctl -q -t 120 stop demo); rc=$?
check_eq "stop exit" $rc 0
check_match "stop result" "$out" "demo: halted: *"
check_eq "VM state" "$(xs $XSA_ROOT/vm/demo/state)" halted
check_match "list row" "$(xsagentctl list | grep '^demo ')" "demo * - halted * -"
check_match "status of a halted VM" "$(xsagentctl status demo)" "*domid: *state: halted*"
id=$(xsagentctl -n refresh); rc=$?
check_eq "refresh -n exit" $rc 0
out=$(xsagentctl -q wait "$id"); rc=$?
check_eq "wait for $id" "$rc $out" "0 refreshed"

say "--- bad input"
out=$(xsagentctl -q start nosuchvm 2>&1); rc=$?
check_eq "bad VM exit" $rc 1
check_eq "its message" "$out" "xsagentctl: nosuchvm: lookup: no VM named 'nosuchvm' (by name, domid or UUID)"
out=$(xsagentctl -q -i ctl-s1 start demo 2>&1); rc=$?
check_eq "reused ID exit" $rc 5
check_match "its message" "$out" "*refused: task ctl-s1 exists already*"
check_eq "VM not started by it" "$(xs $XSA_ROOT/vm/demo/state)" halted
# The record removed by hand: the client's check passes, the agent (which
# still holds the task) refuses it.
xenstore-rm $XSA_ROOT/task/ctl-s1
out=$(xsagentctl -q -i ctl-s1 start demo 2>&1); rc=$?
check_eq "ID the agent still holds: exit" $rc 5
check_match "its message" "$out" "*refused: request 'ctl-s1': a task with this ID exists*"
check_eq "VM not started by it" "$(xs $XSA_ROOT/vm/demo/state)" halted
out=$(xsagentctl -i 'a.b' start demo 2>&1); rc=$?
check_eq "ID with '.' exit" $rc 2
out=$(xsagentctl -q wait no-such-task 2>&1); rc=$?
check_eq "wait for no task exit" $rc 1
check_match "its message" "$out" "*no task no-such-task*"
out=$(xsagentctl -q wait ctl-s1 2>&1); rc=$?
check_eq "wait for a removed task exit" $rc 1
check_match "its message (not the older refusal of that ID)" "$out" "*no task ctl-s1*"
check_eq "requests left" "$(xenstore-list $XSA_ROOT/request | tr '\n' ' ')" ""
xsa_stop_agent
no_leak /tmp/snap.before "xsagentctl"
