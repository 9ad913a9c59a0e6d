#!/bin/sh
# TEST_TIMEOUT: 600
# Lifecycle: the operations beside start (pause, unpause, reboot, stop,
# destroy, refresh, cancel) and what the agent does when a guest shuts
# itself down: on_reboot=restart restarts it with a new domid,
# on_poweroff=preserve keeps the domain, the default destroys it.  A
# domain made by `xl create` is listed as not managed and left alone.  The
# figures are published only while a client asks for them.
. /usr/lib/xsagent/tests/lib.sh
snapshot /tmp/snap.before
L=/tmp/life
rm -rf $L; mkdir -p $L/vms
vm_file $L/vms l1 101
vm_file $L/vms l2 102 'on_poweroff = preserve\n'
printf '[agent]\nvm_dir = %s/vms\nshutdown_timeout = 30\nrestart_window = 600\n' $L >$L/agent.ini
xsa_start_agent $L/agent.ini

# req ID VALUE WANT: request, wait, check the end state.
req() {
	xsa_request "$1" "$2"
	check_eq "task $1 ($2)" "$(xsa_wait_task "$1" 120)" "$3"
}
vm_state() { xs $XSA_ROOT/vm/$1/state; }

say "--- bad input: each fails with a clear error"
req lc-e1 "stop l1" failed
check_eq "stop of a halted VM" "$(xs $XSA_ROOT/task/lc-e1/error)" "lookup: l1 is halted"
req lc-e2 "pause nosuch" failed
check_eq "pause of an unknown VM" "$(xs $XSA_ROOT/task/lc-e2/error)" \
	"lookup: no VM named 'nosuch' (by name, domid or UUID)"
req lc-e3 "cancel nosuch" failed
check_eq "cancel of an unknown task" "$(xs $XSA_ROOT/task/lc-e3/error)" "cancel: no task 'nosuch'"
req lc-e4 "cancel lc-e1" failed
check_eq "cancel of an ended task" "$(xs $XSA_ROOT/task/lc-e4/error)" "cancel: task lc-e1 has ended already"
req lc-e5 "restart l1" failed
check_eq "restart is not for clients" "$(xs $XSA_ROOT/task/lc-e5/error)" "request: unknown operation 'restart'"
req lc-e6 "refresh l1" failed
check_eq "refresh takes no argument" "$(xs $XSA_ROOT/task/lc-e6/error)" "request: refresh takes no argument"

say "--- start, pause, unpause"
req lc-s1 "start l1" done
d1=$(xs $XSA_ROOT/vm/l1/domid)
req lc-e7 "unpause l1" failed
check_eq "unpause of a running VM" "$(xs $XSA_ROOT/task/lc-e7/error)" "lookup: l1 is running, not paused"
req lc-p1 "pause l1" done
check_eq "VM state after pause" "$(vm_state l1)" paused
check_match "xl sees it paused" "$(xl list l1 | awk 'NR == 2 { print $5 }')" "*p*"
req lc-ep "stop l1" failed
check_eq "stop of a paused VM" "$(xs $XSA_ROOT/task/lc-ep/error)" \
	"lookup: l1 is paused and cannot shut down; unpause or destroy it"
check_eq "VM still paused after the refused stop" "$(vm_state l1)" paused
req lc-p2 "unpause l1" done
check_eq "VM state after unpause" "$(vm_state l1)" running
wait_until 60 console_has l1 XSAGENT-GUEST-IDLE || fail "l1 did not boot"

say "--- the guest's control/shutdown is untrusted: never logged"
# Written as the guest could (it owns the node): junk, a control character,
# many times.  Linux ignores values it does not know; the agent must not
# echo any of them into its log.
i=0
while [ $i -lt 20 ]; do
	xenstore-write /local/domain/$d1/control/shutdown "$(printf 'junk-%d\033[2J' $i)"
	i=$((i + 1))
done
xenstore-write /local/domain/$d1/control/shutdown ""
sleep 1
grep -q 'junk-' "$XSA_LOG" && fail "the guest's control/shutdown value was logged"
pass "20 junk values in control/shutdown: none in the log"

say "--- figures, only while asked"
check_eq "no uptime unless asked" "$(xs $XSA_ROOT/vm/l1/uptime)" ""
xenstore-write $XSA_ROOT/figures/t 1
wait_until 10 xs $XSA_ROOT/vm/l1/uptime || fail "no figures after asking"
check_match "cputime" "$(xs $XSA_ROOT/vm/l1/cputime)" "[0-9]*.[0-9][0-9][0-9]"
check_match "memory_kb" "$(xs $XSA_ROOT/vm/l1/memory_kb)" "1[0-9][0-9][0-9][0-9][0-9]"
check_eq "vcpus_online" "$(xs $XSA_ROOT/vm/l1/vcpus_online)" 1
u1=$(xs $XSA_ROOT/vm/l1/uptime)
up_moved() { [ "$(xs $XSA_ROOT/vm/l1/uptime)" -gt "$u1" ]; }
wait_until 10 up_moved || fail "uptime not refreshed (stays $u1)"
pass "uptime refreshed ($u1 -> $(xs $XSA_ROOT/vm/l1/uptime))"
xenstore-write $XSA_ROOT/figures/bad soon
wait_until 10 sh -c "xenstore-read $XSA_ROOT/error | grep -q 'figures/bad: interval must be'" ||
	fail "no error for a bad figures interval"
pass "bad interval refused: $(xs $XSA_ROOT/error)"
xenstore-rm $XSA_ROOT/figures
# Stopped: the uptime in xenstore no longer moves (one refresh may still
# have been under way when the request went).
sleep 3
u2=$(xs $XSA_ROOT/vm/l1/uptime)
sleep 4
check_eq "uptime 4 s later, nobody asking for figures" "$(xs $XSA_ROOT/vm/l1/uptime)" "$u2"
pass "figures stopped when nobody asks"

say "--- reboot request: a new domain in the same task"
req lc-r1 "reboot l1" done
d2=$(xs $XSA_ROOT/vm/l1/domid)
check_match "new domid" "$d2" "[1-9]*"
[ "$d2" != "$d1" ] || fail "reboot kept domid $d1"
check_eq "reboot result" "$(xs $XSA_ROOT/task/lc-r1/result)" "shut down (reboot)"
check_eq "reboot task domid" "$(xs $XSA_ROOT/task/lc-r1/domid)" "$d2"
xenstore-exists /local/domain/$d1 && fail "/local/domain/$d1 left after the reboot"
check_eq "VM state" "$(vm_state l1)" running

say "--- the guest reboots itself: on_reboot=restart"
xenstore-write /local/domain/$d2/control/shutdown reboot
new_domid() { d=$(xs $XSA_ROOT/vm/l1/domid); [ -n "$d" ] && [ "$d" != "$d2" ] && [ "$(vm_state l1)" = running ]; }
wait_until 90 new_domid || fail "l1 not restarted (state $(vm_state l1), domid $(xs $XSA_ROOT/vm/l1/domid))"
d3=$(xs $XSA_ROOT/vm/l1/domid)
pass "restarted as domain $d3"
check_eq "last action" "$(xs $XSA_ROOT/vm/l1/last_action)" "restarted (reboot)"
rt=$(for t in $(xenstore-list $XSA_ROOT/task | grep '^xsagent-'); do
	[ "$(xs $XSA_ROOT/task/$t/vm)" = l1 ] && echo $t; done | tail -n 1)
check_eq "the agent's restart task: op" "$(xs $XSA_ROOT/task/$rt/op)" restart
check_eq "its reason" "$(xs $XSA_ROOT/task/$rt/reason)" reboot
check_eq "its state" "$(xsa_wait_task "$rt" 60)" done

say "--- stop: the guest powers off"
# No need to wait for the boot: the guest's kernel reads control/shutdown
# when it starts watching it.
req lc-st1 "stop l1" done
check_eq "stop result" "$(xs $XSA_ROOT/task/lc-st1/result)" "shut down (poweroff)"
check_eq "VM state" "$(vm_state l1)" halted
check_eq "last shutdown reason" "$(xs $XSA_ROOT/vm/l1/last_shutdown_reason)" poweroff
check_eq "the guest's taking of it, logged once" \
	"$(grep -c 'l1: the guest took the poweroff request' "$XSA_LOG")" 1

say "--- destroy"
req lc-s2 "start l1" done
d4=$(xs $XSA_ROOT/vm/l1/domid)
req lc-x1 "destroy $d4" done
check_eq "VM state" "$(vm_state l1)" halted
check_eq "last shutdown reason" "$(xs $XSA_ROOT/vm/l1/last_shutdown_reason)" destroyed
xenstore-exists /local/domain/$d4 && fail "/local/domain/$d4 left after destroy"

say "--- on_poweroff=preserve keeps the domain until destroyed"
req lc-s3 "start l2" done
d5=$(xs $XSA_ROOT/vm/l2/domid)
wait_until 60 console_has l2 XSAGENT-GUEST-IDLE || fail "l2 did not boot"
xenstore-write /local/domain/$d5/control/shutdown poweroff
preserved() { [ "$(vm_state l2)" = shutdown ]; }
wait_until 60 preserved || fail "l2 not preserved (state $(vm_state l2))"
check_eq "domid kept" "$(xs $XSA_ROOT/vm/l2/domid)" "$d5"
check_eq "last action" "$(xs $XSA_ROOT/vm/l2/last_action)" "preserved (poweroff)"
check_match "xl still lists it, shut down" "$(xl list l2 | awk 'NR == 2 { print $5 }')" "*s*"
req lc-e8 "start l2" failed
check_eq "start of a preserved VM" "$(xs $XSA_ROOT/task/lc-e8/error)" "lookup: l2 is shutdown as domid $d5"
req lc-x2 "destroy l2" done
check_eq "VM state" "$(vm_state l2)" halted

say "--- a domain made by xl: listed, not managed, left alone"
xl create /etc/xen/testguest.cfg >/tmp/xl.out 2>&1 || { cat /tmp/xl.out; fail "xl create"; }
xd=$(xl domid testguest)
listed() { [ "$(xs $XSA_ROOT/unmanaged/$xd/name)" = testguest ]; }
wait_until 20 listed || fail "xl's domain $xd not listed under $XSA_ROOT/unmanaged"
pass "xl's domain $xd listed as not managed"
check_match "its uuid" "$(xs $XSA_ROOT/unmanaged/$xd/uuid)" "*-*-*-*-*"
req lc-rf "refresh" done
check_eq "still listed after a refresh" "$(xs $XSA_ROOT/unmanaged/$xd/name)" testguest
req lc-e9 "destroy testguest" failed
check_eq "not the agent's to destroy" "$(xs $XSA_ROOT/task/lc-e9/error)" \
	"lookup: no VM named 'testguest' (by name, domid or UUID)"
xl list testguest >/dev/null 2>&1 || fail "the agent touched xl's domain"
xl destroy testguest
unlisted() { ! xenstore-exists $XSA_ROOT/unmanaged/$xd; }
wait_until 20 unlisted || fail "xl's domain still listed after xl destroy"
pass "unlisted once xl destroyed it"

xsa_stop_agent
no_leak /tmp/snap.before "the lifecycle operations"
