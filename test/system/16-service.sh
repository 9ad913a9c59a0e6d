#!/bin/sh
# As a service: the commands the systemd units run (the bed has no
# systemd), read from the installed units themselves.  xsagent.service's
# ExecStart with $NOTIFY_SOCKET pointing at sd-listen (systemd's end of
# sd_notify): READY=1 once ready, RELOADING=1/READY=1 around SIGHUP,
# STOPPING=1 on SIGTERM; the lock file holds its pid and a second agent
# exits 1 naming it (journald priorities when its stderr is the journal);
# a missing config exits 3 before daemonizing.  xsagent-guests.service's
# ExecStart starts the two autostart VMs (not the third), an agent restart
# leaves them running with the same domids, ExecStop stops them all, and
# without an agent the script says so.  Nothing leaks.
. /usr/lib/xsagent/tests/lib.sh
S=/tmp/svc
units=/lib/systemd/system
snapshot /tmp/snap.before
rm -rf $S; mkdir -p $S/vms
vm_file $S/vms sv1 161 'autostart = yes\n'
vm_file $S/vms sv2 162 'autostart = yes\n'
vm_file $S/vms sv3 163
printf '[agent]\nvm_dir = %s/vms\nlock_file = %s/run/xsagent.lock\nshutdown_timeout = 30\n' $S $S >$S/agent.ini

unit_cmd() { # UNIT KEY: the command line the unit runs
	sed -n "s/^$2=//p" "$units/$1"
}
exec_start=$(unit_cmd xsagent.service ExecStart)
guests_start=$(unit_cmd xsagent-guests.service ExecStart)
guests_stop=$(unit_cmd xsagent-guests.service ExecStop)
check_eq "xsagent.service ExecStart" "$exec_start" "/usr/sbin/xsagent -d"
check_eq "xsagent-guests.service ExecStart" "$guests_start" "/usr/lib/xsagent/xsagent-guests start"
check_eq "xsagent-guests.service ExecStop" "$guests_stop" "/usr/lib/xsagent/xsagent-guests stop"

say "--- files checked before daemonizing"
out=$(xsagent -c /nonexistent/xsagent.ini 2>&1); rc=$?
check_eq "xsagent -c /nonexistent: exit status" "$rc" 3
check_match "its message" "$out" "*/nonexistent/xsagent.ini: No such file or directory*"
check_match "xsagent --version" "$(xsagent --version)" "xsagent [0-9]*"

say "--- ExecStart under a notify socket"
/usr/lib/xsagent/tests/sd-listen $S/notify >$S/notes 2>&1 &
listener=$!
wait_until 10 grep -q listening $S/notes || fail "sd-listen did not start: $(cat $S/notes)"
notes() { grep -c "^$1\$" $S/notes; }
notes_are() { [ "$(grep -v listening $S/notes | tr '\n' ' ')" = "$1" ]; }
start_agent() { # the notes expected once it is ready
	xsa_san_keep
	: >"$XSA_LOG"
	NOTIFY_SOCKET=$S/notify $exec_start -c $S/agent.ini >>"$XSA_LOG" 2>&1 &
	XSA_PID=$!
	wait_until 60 notes_are "$1" || fail "notes: got '$(grep -v listening $S/notes | tr '\n' ' ')', want '$1'"
	pass "READY=1 from the agent (pid $XSA_PID): notes '$1'"
	grep -q "ready:" "$XSA_LOG" || fail "READY=1 before the agent logged ready"
}
start_agent "READY=1 "
check_eq "lock file holds the agent's pid" "$(cat $S/run/xsagent.lock)" "$XSA_PID"
check_eq "VM record sv1 autostart" "$(xs $XSA_ROOT/vm/sv1/autostart)" yes
check_eq "VM record sv3 autostart" "$(xs $XSA_ROOT/vm/sv3/autostart)" no

say "--- a second agent"
out=$(xsagent -d -c $S/agent.ini 2>&1); rc=$?
check_eq "second agent (-d): exit status" "$rc" 1
check_match "its message" "$out" "*another xsagent is running: $S/run/xsagent.lock is locked by pid $XSA_PID*"
out=$(xsagent -c $S/agent.ini 2>&1); rc=$?
check_eq "second agent (daemon): exit status" "$rc" 1
check_match "its message on stderr" "$out" "*is locked by pid $XSA_PID*"
# stderr as the journal: systemd's JOURNAL_STREAM names that stream.
: >$S/journal
JOURNAL_STREAM=$(stat -c %d:%i $S/journal) xsagent -d -c $S/agent.ini 2>>$S/journal
check_match "journald priority prefix" "$(head -n 1 $S/journal)" "<3>another xsagent is running: *"
kill -0 "$XSA_PID" 2>/dev/null || fail "the first agent died"
pass "the first agent still runs"

say "--- ExecStart of xsagent-guests: the autostart VMs"
out=$($guests_start 2>&1); rc=$?
echo "$out"
check_eq "xsagent-guests start: exit status" "$rc" 0
for v in sv1 sv2; do
	check_eq "$v state" "$(xs $XSA_ROOT/vm/$v/state)" running
	wait_until 60 console_has $v "XSAGENT-GUEST-UP $v" || fail "$v: no marker on its console"
done
check_eq "sv3 (no autostart) state" "$(xs $XSA_ROOT/vm/sv3/state)" halted
d1=$(xs $XSA_ROOT/vm/sv1/domid) d2=$(xs $XSA_ROOT/vm/sv2/domid)
out=$($guests_start 2>&1); rc=$?
check_eq "start again: exit status" "$rc" 0
check_match "start again: nothing to do" "$out" "*no halted VM with autostart = yes*"

say "--- reload (SIGHUP) and restart of the agent: the guests stay"
kill -HUP "$XSA_PID"
wait_until 30 notes_are "READY=1 RELOADING=1 READY=1 " || fail "notes after SIGHUP: $(grep -v listening $S/notes | tr '\n' ' ')"
pass "SIGHUP: RELOADING=1 then READY=1"
xsa_stop_agent
check_eq "notes after SIGTERM" "$(grep -v listening $S/notes | tail -n 1)" STOPPING=1
start_agent "READY=1 RELOADING=1 READY=1 STOPPING=1 READY=1 "
check_eq "sv1 after the agent's restart" "$(xs $XSA_ROOT/vm/sv1/state) $(xs $XSA_ROOT/vm/sv1/domid)" "running $d1"
check_eq "sv2 after the agent's restart" "$(xs $XSA_ROOT/vm/sv2/state) $(xs $XSA_ROOT/vm/sv2/domid)" "running $d2"

say "--- ExecStop of xsagent-guests: every VM stopped"
# sv3 too, by hand: the stop takes every VM that has a domain.
xsa_request sv-s3 "start sv3"
check_eq "task sv-s3" "$(xsa_wait_task sv-s3 120)" done
out=$($guests_stop 2>&1); rc=$?
echo "$out"
check_eq "xsagent-guests stop: exit status" "$rc" 0
for v in sv1 sv2 sv3; do
	check_eq "$v state" "$(xs $XSA_ROOT/vm/$v/state)" halted
	check_eq "$v last shutdown reason" "$(xs $XSA_ROOT/vm/$v/last_shutdown_reason)" poweroff
done
check_match "stop report" "$out" "*every managed VM is halted*"
out=$($guests_stop 2>&1); rc=$?
check_eq "stop again: exit status" "$rc" 0

say "--- without an agent"
xsa_stop_agent
out=$(XSAGENT_TAKE_TIMEOUT=2 $guests_start 2>&1); rc=$?
echo "$out"
check_eq "xsagent-guests start, no agent: exit status" "$rc" 1
check_match "its message" "$out" "*requests not taken in 2 s*is xsagent running?*"
check_eq "requests withdrawn" "$(xenstore-list $XSA_ROOT/request 2>/dev/null | wc -l)" 0

kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
no_leak /tmp/snap.before "autostart, an agent restart and stop-all"
