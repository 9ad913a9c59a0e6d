#!/bin/sh
# Tasks on one VM run one at a time: a second start of the same VM waits
# and is refused once the first has run; the loop stays responsive while a
# start runs.
. /usr/lib/xsagent/tests/lib.sh
# Hold every start for 10 s before store-vm, so the tests act mid-start.
printf '[agent]\nstage_hook = store-vm\nstage_hook_delay = 10\n' >/tmp/hold.ini
snapshot /tmp/snap.before
xsa_start_agent /tmp/hold.ini
xsa_request a "start demo"
xsa_request b "start demo"
running() { [ "$(xs $XSA_ROOT/task/a/state)" = running ]; }
wait_until 30 running || fail "task a not running"
# b's request is taken in its own turn of the agent's loop, which may come
# after a's start has begun (under ASan it came 180 ms after a was running,
# and the check read b's record before it existed): wait for b's record.
b_taken() { [ -n "$(xs $XSA_ROOT/task/b/state)" ]; }
wait_until 30 b_taken || fail "request b not taken"
check_eq "second start of the same VM waits" "$(xs $XSA_ROOT/task/b/state)" queued
check_eq "VM record while starting" "$(xs $XSA_ROOT/vm/demo/state)" starting
# The loop answers other requests while a start is held mid-way: a
# malformed one fails at intake (a valid one would queue behind a).
xsa_request c "explode nosuchvm"
t0=$(date +%s)
check_eq "unrelated request still handled" "$(xsa_wait_task c 10)" failed
check_eq "task a is still running" "$(xs $XSA_ROOT/task/a/state)" running
check_eq "task a" "$(xsa_wait_task a 120)" done
check_eq "task b" "$(xsa_wait_task b 120)" failed
d=$(xs $XSA_ROOT/task/a/domid)
check_eq "task b error" "$(xs $XSA_ROOT/task/b/error)" "lookup: demo is running as domid $d"
check_eq "exactly one demo domain" "$(xl list | awk '$1 == "demo"' | wc -l)" 1
# Start by domid of a running VM: found, and refused as not halted.
xsa_request bydomid "start $d"
check_eq "start by domid" "$(xsa_wait_task bydomid 10)" failed
check_eq "its error" "$(xs $XSA_ROOT/task/bydomid/error)" "lookup: demo is running as domid $d"
xenstore-write /local/domain/$d/control/shutdown poweroff
halted() { [ "$(xs $XSA_ROOT/vm/demo/state)" = halted ]; }
wait_until 60 halted || fail "demo did not halt"
# SIGTERM during a held start rolls it back.
xsa_request d "start demo"
wait_until 30 sh -c "grep -q 'holding before store-vm' $XSA_LOG" || fail "start d not held"
xsa_stop_agent
check_eq "task d after SIGTERM" "$(xs $XSA_ROOT/task/d/state)" failed
check_match "its error" "$(xs $XSA_ROOT/task/d/error)" "*interrupted: the agent is stopping"
no_leak /tmp/snap.before "queued starts and a SIGTERM mid-start"
