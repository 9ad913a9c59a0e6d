#!/bin/sh
# xenstored dies under a ready agent: the agent notices within seconds,
# says so in its log and exits with status 4 (EXIT_NOSTORE), rather than
# waiting in poll() for ever.  libxenstore wakes no fd of the agent when
# its connection ends (its reader thread just closes the socket), so this
# is the agent's 5 s check at work; an agent that missed it would still be
# running at the deadline.  Before the kill the agent starts and stops a VM,
# so that it has watches and a task behind it, as a real one would.
# Then a new agent and xsagentctl, as systemd or an admin would start them:
# xenstored's socket refuses them, libxenstore opens the kernel's xenbus
# device instead, where nobody answers; each must give up on its own
# (15 s for the first request) with status 4 / 1 and say why, rather than
# wait for ever; and xsagent.service must not restart the agent for 4.
#
# It kills the bed's real xenstored (SIGKILL, as a crash would end it): no
# test can run after it, and run-all expects its end (the line below).
# ENDS-XENSTORED
. /usr/lib/xsagent/tests/lib.sh
S=/tmp/xsdgone
rm -rf $S; mkdir -p $S/vms
vm_file $S/vms xg1 901
printf '[agent]\nvm_dir = %s/vms\nlock_file = \n' $S >$S/agent.ini

xsd=$(cat /var/run/xenstored.pid 2>/dev/null || pidof xenstored)
[ -n "$xsd" ] && kill -0 "$xsd" 2>/dev/null || fail "no xenstored to kill (pid '$xsd')"

xsa_start_agent $S/agent.ini
xsa_request g-start "start xg1"
check_eq "start xg1" "$(xsa_wait_task g-start)" done
xsa_request g-destroy "destroy xg1"
check_eq "destroy xg1" "$(xsa_wait_task g-destroy)" done

say "--- SIGKILL to xenstored (pid $xsd) under the idle agent"
kill -KILL "$xsd"
wait_until 10 gone_or_zombie "$xsd" || fail "xenstored did not die"
t_kill=$(date +%s)
# The check runs every 5 s; 30 s leave room for the emulated, sanitized bed.
wait_until 30 gone_or_zombie "$XSA_PID" || {
	grep -q "lost the connection" "$XSA_LOG" &&
		fail "the agent said it lost xenstored but did not exit in 30 s"
	fail "the agent still runs 30 s after xenstored died, and its log says nothing of it"
}
wait "$XSA_PID"; rc=$?
XSA_PID=
pass "the agent exited $(($(date +%s) - t_kill)) s after xenstored died"
check_eq "its exit status (EXIT_NOSTORE)" "$rc" 4
check_match "what its log says" "$(grep 'xenstored' "$XSA_LOG" | head -n 1)" "*lost the connection to xenstored (Connection reset by peer): exiting*"

say "--- a new agent, xenstored gone"
# -k: an agent blocks SIGTERM until it is ready (it takes signals through
# a signalfd in its loop), so one that hung in libxenstore would outlive
# timeout's SIGTERM (seen with the agent before this test's change).
t0=$(date +%s)
timeout -k 5 60 xsagent -d -c $S/agent.ini >$S/new.log 2>&1; rc=$?
sed 's/^/  new agent: /' $S/new.log
check_eq "the new agent's exit status (EXIT_NOSTORE; 124, 137: still waiting after 60 s)" "$rc" 4
pass "it gave up after $(($(date +%s) - t0)) s"
check_match "what it says" "$(cat $S/new.log)" "*xenstored does not answer (no reply in 15 s to a read of /)*"
check_eq "xsagent.service's RestartPreventExitStatus" \
	"$(sed -n 's/^RestartPreventExitStatus=//p' /lib/systemd/system/xsagent.service)" 4

say "--- xsagentctl, xenstored gone"
timeout -k 5 60 xsagentctl list >$S/ctl.out 2>&1; rc=$?
sed 's/^/  xsagentctl: /' $S/ctl.out
check_eq "xsagentctl list's exit status (124, 137: still waiting after 60 s)" "$rc" 1
check_match "what it says" "$(cat $S/ctl.out)" "*xenstored does not answer*"
