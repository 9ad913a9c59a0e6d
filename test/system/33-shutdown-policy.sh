#!/bin/sh
# TEST_TIMEOUT: 600
# Guests that do not cooperate: one ignores control/shutdown, so a stop
# destroys it after shutdown_timeout and says so in the task, and a reboot
# destroys it and starts it again; one reboots itself in a loop, so
# on_reboot=restart restarts it until the guard (restart_limit restarts in
# restart_window seconds) stops it with the reason; one crashes, and
# on_crash=preserve keeps its domain until a destroy.
. /usr/lib/xsagent/tests/lib.sh
snapshot /tmp/snap.before
S=/tmp/sdp
rm -rf $S; mkdir -p $S/vms
vm_file $S/vms ig 501 "" "xsa.ignoreshutdown=1"
vm_file $S/vms rl 502 "" "xsa.reboot=1"
vm_file $S/vms cr 503 "on_crash = preserve\n" "xsa.crash=1"
printf '[agent]\nvm_dir = %s/vms\nshutdown_timeout = 10\nrestart_limit = 2\nrestart_window = 600\n' $S >$S/agent.ini
xsa_start_agent $S/agent.ini
req() {
	xsa_request "$1" "$2"
	check_eq "task $1 ($2)" "$(xsa_wait_task "$1" "${4:-120}")" "$3"
}

say "--- stop of a guest that ignores it"
req sp-s1 "start ig" done
wait_until 90 console_has ig XSAGENT-GUEST-IDLE || fail "ig did not boot"
req sp-st "stop ig" done
check_eq "its result" "$(xs $XSA_ROOT/task/sp-st/result)" "the guest did not shut down within 10 s; destroyed"
console_has ig "XSAGENT-GUEST-IGNORED poweroff" || fail "the guest did not see the request"
pass "the guest saw the request and ignored it"
check_eq "VM state" "$(xs $XSA_ROOT/vm/ig/state)" halted
check_eq "last shutdown reason" "$(xs $XSA_ROOT/vm/ig/last_shutdown_reason)" destroyed

say "--- reboot of a guest that ignores it: destroyed, started again"
req sp-s2 "start ig" done
d1=$(xs $XSA_ROOT/vm/ig/domid)
wait_until 90 sh -c "grep -c XSAGENT-GUEST-IDLE /var/log/xen/console/guest-ig.log | grep -qx 2" ||
	fail "ig did not boot again"
req sp-rb "reboot ig" done
check_eq "its result" "$(xs $XSA_ROOT/task/sp-rb/result)" "the guest did not shut down within 10 s; destroyed"
d2=$(xs $XSA_ROOT/vm/ig/domid)
check_match "a new domain" "$d2" "[1-9]*"
[ "$d2" != "$d1" ] || fail "same domid $d1 after the reboot"
check_eq "VM state" "$(xs $XSA_ROOT/vm/ig/state)" running
req sp-x1 "destroy ig" done

say "--- a guest in a reboot loop; the agent is killed after the first restart"
req sp-s3 "start rl" done
rl_restarts() { # the agent's restart tasks of rl in STATE
	for t in $(xenstore-list $XSA_ROOT/task | grep '^xsagent-'); do
		[ "$(xs $XSA_ROOT/task/$t/vm)" = rl ] &&
			[ "$(xs $XSA_ROOT/task/$t/state)" = "$1" ] && echo $t
	done | grep -c .
}
one_restart() { [ "$(rl_restarts done)" = 1 ]; }
wait_until 120 one_restart || fail "rl was not restarted"
check_match "the guard's record" "$(xs $XSA_ROOT/vm/rl/restarts)" "[1-9][0-9]*"
# The count must survive the agent: a new one that started counting afresh
# would restart the loop twice more.
kill -KILL $XSA_PID
wait $XSA_PID 2>/dev/null
XSA_PID=
xsa_start_agent $S/agent.ini
guarded() { case $(xs $XSA_ROOT/vm/rl/last_action) in "not restarted"*) return 0 ;; esac; return 1; }
wait_until 240 guarded || fail "the reboot loop was not stopped (last action '$(xs $XSA_ROOT/vm/rl/last_action)')"
check_eq "the guard's reason" "$(xs $XSA_ROOT/vm/rl/last_action)" \
	"not restarted: 2 restart(s) within 600 s (restart_limit 2)"
check_eq "VM state" "$(xs $XSA_ROOT/vm/rl/state)" halted
check_eq "last shutdown reason" "$(xs $XSA_ROOT/vm/rl/last_shutdown_reason)" reboot
check_eq "restart tasks made, across both agents" "$(rl_restarts done)" 2
# What the guard leaves: no domain of rl (a dying one may linger a moment).
rl_gone() { [ "$(xl list | awk '$1 == "rl"' | wc -l)" = 0 ]; }
wait_until 10 rl_gone || fail "xl still lists rl: $(xl list | awk '$1 == "rl"')"
pass "xl lists no rl domain"

say "--- a guest that crashes, on_crash=preserve"
req sp-cr1 "start cr" done
crashed() { [ "$(xs $XSA_ROOT/vm/cr/state)" = crashed ]; }
wait_until 120 crashed || fail "cr not crashed (state '$(xs $XSA_ROOT/vm/cr/state)')"
pass "cr crashed and was preserved"
check_eq "last shutdown reason" "$(xs $XSA_ROOT/vm/cr/last_shutdown_reason)" crash
check_eq "last action" "$(xs $XSA_ROOT/vm/cr/last_action)" "preserved (crash)"
check_match "xl lists it crashed" "$(xl list cr | awk 'NR == 2 { print $5 }')" "*c*"
req sp-cr2 "destroy cr" done
check_eq "VM state after destroy" "$(xs $XSA_ROOT/vm/cr/state)" halted
xsa_stop_agent
no_leak /tmp/snap.before "uncooperative guests"
