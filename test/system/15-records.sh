#!/bin/sh
# The records around the starts: SIGHUP reloads VM files, finished tasks
# are pruned by age and by count, the control tree is dom0's alone, and
# xsagent-start's exit status and messages.
. /usr/lib/xsagent/tests/lib.sh
dir=/tmp/rec-vms
rm -rf $dir; mkdir -p $dir
cp /etc/xsagent/vms/demo.ini $dir/
printf '[agent]\nvm_dir = %s\ntask_retention = 3\ntask_max = 4\n' $dir >/tmp/rec.ini
snapshot /tmp/snap.before
xsa_start_agent /tmp/rec.ini
check_eq "perms of $XSA_ROOT" "$(xenstore-ls -p / | sed -n "s|^${XSA_ROOT#/} = .*(\(.*\))$|\1|p")" n0

# SIGHUP: a new file appears, a removed one goes, a broken one is listed.
sed -e 's/^name = demo/name = second/' \
    -e 's/^uuid = .*/uuid = 00000000-0000-4000-8000-00000000a002/' $dir/demo.ini >$dir/second.ini
printf '[vm]\nname = broken\n' >$dir/broken.ini
kill -HUP "$XSA_PID"
has_second() { [ "$(xs $XSA_ROOT/vm/second/state)" = halted ]; }
wait_until 10 has_second || fail "second.ini not picked up by SIGHUP"
pass "SIGHUP added VM second"
check_eq "broken VM" "$(xs $XSA_ROOT/vm/broken/state)" invalid
check_match "its error" "$(xs $XSA_ROOT/vm/broken/error)" "*broken.ini: missing key 'uuid'*"
rm $dir/second.ini
kill -HUP "$XSA_PID"
gone() { ! xenstore-exists $XSA_ROOT/vm/second; }
wait_until 10 gone || fail "removed VM file still listed"
pass "SIGHUP removed VM second"

# Retention: a finished task goes after task_retention (3 s) ...
xsa_request old "start nosuchvm"
check_eq "task old" "$(xsa_wait_task old 10)" failed
pruned() { ! xenstore-exists $XSA_ROOT/task/old; }
wait_until 15 pruned || fail "task old not pruned after its retention"
pass "finished task pruned after task_retention"
# ... and beyond task_max (4) the oldest go first.  A restarted agent (with
# a long retention, so that only the count prunes) adopts the records it
# finds; one left "running" by the earlier run is marked interrupted.
xsa_request keep "start nosuchvm"
check_eq "task keep" "$(xsa_wait_task keep 10)" failed
xsa_stop_agent
xenstore-write $XSA_ROOT/task/ghost/state running
printf '[agent]\nvm_dir = %s\ntask_retention = 600\ntask_max = 4\n' $dir >/tmp/rec.ini
xsa_start_agent /tmp/rec.ini
check_eq "ghost task after restart" "$(xs $XSA_ROOT/task/ghost/state)" failed
check_eq "its error" "$(xs $XSA_ROOT/task/ghost/error)" "interrupted by agent restart"
for i in 1 2 3 4 5 6; do xsa_request "m$i" "start nosuchvm"; done
check_eq "task m6" "$(xsa_wait_task m6 10)" failed
check_eq "tasks kept" "$(xenstore-list $XSA_ROOT/task | tr '\n' ' ')" "m3 m4 m5 m6 "

# xsagent-start: 0 and the domid when done, 1 and the error when not.
t0=$(date +%s)
out=$(XSAGENT_TIMEOUT=120 xsagent-start -i cli1 demo 2>&1); rc=$?
# Not a timing assertion: 120 s is the script's own timeout, which it must
# not wait for once the task is done.
[ $(($(date +%s) - t0)) -lt 100 ] || fail "xsagent-start waited for its own timer"
check_eq "xsagent-start demo exit" $rc 0
check_match "its message" "$out" "*demo: running as domid [0-9]*"
out=$(xsagent-start -i cli2 nosuchvm 2>&1); rc=$?
check_eq "xsagent-start nosuchvm exit" $rc 1
check_match "its message" "$out" "*xsagentctl: nosuchvm: lookup: no VM named 'nosuchvm'*"
out=$(xsagent-start 2>&1); rc=$?
check_eq "xsagent-start without VM exit" $rc 2
# Its timers ran `sleep 120` and `sleep 300`; run-all's sampler (sanitized
# pass) sleeps too, for 2 s, and is no leftover.
sleepers=$(for p in /proc/[0-9]*; do
	c=$(tr '\0' ' ' <$p/cmdline 2>/dev/null)
	case $c in "sleep 120 " | "sleep 300 ") echo x ;; esac
done | wc -l)
check_eq "sleep processes left by xsagent-start" "$sleepers" 0
d=$(xs $XSA_ROOT/vm/demo/domid)
xl destroy "$d"
halted() { [ "$(xs $XSA_ROOT/vm/demo/state)" = halted ]; }
wait_until 30 halted || fail "demo not halted after xl destroy"
check_eq "reason after xl destroy" "$(xs $XSA_ROOT/vm/demo/last_shutdown_reason)" destroyed
xsa_stop_agent
no_leak /tmp/snap.before "reload, pruning and xsagent-start"
