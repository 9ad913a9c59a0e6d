#!/bin/sh
# TEST_TIMEOUT: 600
# What a restarted or reloaded agent must never do to a healthy guest, and
# requests it must never drop:
# - a start task record left "running" by a dead agent (the start was
#   refused at lookup, or killed before construct made anything, or it names
#   another domain) makes the next agent roll back nothing of a running VM;
# - a request ID too long to be valid is refused in <root>/error and
#   removed, not left waiting unseen;
# - SIGHUP with the running VM's file made invalid, given a new UUID, or
#   renamed: the guest stays managed, keeps its domain, nodes and record,
#   and can still be stopped; the new file takes effect at the next start.
. /usr/lib/xsagent/tests/lib.sh
snapshot /tmp/snap.before
L=/tmp/rsafe
rm -rf $L; mkdir -p $L/vms
vm_file $L/vms r1 401
printf '[agent]\nvm_dir = %s/vms\nshutdown_timeout = 30\n' $L >$L/agent.ini
UUID1=00000000-0000-4000-8000-000000000401
xsa_start_agent $L/agent.ini

req() {
	xsa_request "$1" "$2"
	check_eq "task $1 ($2)" "$(xsa_wait_task "$1" 120)" "$3"
}
up() { console_has r1 XSAGENT-GUEST-UP; }
domid_of() { xs $XSA_ROOT/vm/$1/domid; }
restart_agent() {
	kill -KILL $XSA_PID
	wait $XSA_PID 2>/dev/null
	XSA_PID=
	xsa_start_agent $L/agent.ini
}
# still_running WHAT: r1 runs as domain $D, untouched.
still_running() {
	check_eq "$1: VM state" "$(xs $XSA_ROOT/vm/r1/state)" running
	check_eq "$1: same domid" "$(domid_of r1)" "$D"
	xl list $D >/dev/null 2>&1 || fail "$1: domain $D is gone"
	check_eq "$1: /local/domain/$D/name" "$(xs /local/domain/$D/name)" r1
	check_eq "$1: /vm/$UUID1/name" "$(xs /vm/$UUID1/name)" r1
	pass "$1: r1 still runs as domain $D"
}

say "--- leftover start records do not roll back a running VM"
: >/var/log/xen/console/guest-r1.log 2>/dev/null
req rs-1 "start r1" done
D=$(domid_of r1)
wait_until 120 up || fail "r1 did not boot"
# Refused at lookup (already running): intake must not record it as a
# start in flight.
req rs-2 "start r1" failed
check_match "refused start" "$(xs $XSA_ROOT/task/rs-2/error)" "lookup: r1 is running as domid $D"
# Records as a dead agent could have left them: running, at no stage (killed
# before construct), and at a stage but naming another domain.
xenstore-write $XSA_ROOT/task/rs-left1/op start $XSA_ROOT/task/rs-left1/vm r1 \
	$XSA_ROOT/task/rs-left1/state running
xenstore-write $XSA_ROOT/task/rs-left2/op start $XSA_ROOT/task/rs-left2/vm r1 \
	$XSA_ROOT/task/rs-left2/state running $XSA_ROOT/task/rs-left2/stage init \
	$XSA_ROOT/task/rs-left2/domid $((D + 1000))
xenstore-write $XSA_ROOT/task/rs-left3/op start $XSA_ROOT/task/rs-left3/vm r1 \
	$XSA_ROOT/task/rs-left3/state running $XSA_ROOT/task/rs-left3/stage init \
	$XSA_ROOT/task/rs-left3/domid "junk$D"
restart_agent
for t in rs-left1 rs-left2 rs-left3; do
	check_eq "$t state" "$(xs $XSA_ROOT/task/$t/state)" failed
	check_match "$t error" "$(xs $XSA_ROOT/task/$t/error)" "interrupted by agent restart*"
done
still_running "after a restart with leftover records"

say "--- a request ID too long is refused, not dropped"
LONG=$(printf 'x%.0s' $(seq 1 200))
xenstore-write "$XSA_ROOT/request/$LONG" "refresh"
wait_until 20 sh -c "! xenstore-exists '$XSA_ROOT/request/$LONG'" ||
	fail "the long request is still waiting under request/"
check_match "long ID reported" "$(xs $XSA_ROOT/error)" "request 'x*': invalid ID*"
req rs-3 "refresh" done

say "--- SIGHUP with the running VM's file changed"
cp $L/vms/r1.ini $L/r1.orig
printf '[vm]\nname = r1\nthis is not ini\n' >$L/vms/r1.ini
kill -HUP $XSA_PID
req rs-4 "refresh" done
still_running "file made invalid"
sed "s/000000000401/000000000499/" $L/r1.orig >$L/vms/r1.ini
kill -HUP $XSA_PID
req rs-5 "refresh" done
still_running "UUID changed"
check_eq "no device or node stripped" "$(xs /local/domain/$D/console/port | grep -c .)" 1
rm $L/vms/r1.ini
sed "s/name = r1/name = r1b/" $L/r1.orig >$L/vms/r1b.ini
kill -HUP $XSA_PID
req rs-6 "refresh" done
still_running "file renamed"
check_eq "the renamed file does not adopt the domain twice" \
	"$(xs $XSA_ROOT/vm/r1b/state)" ""
req rs-7 "stop r1" done
check_eq "stopped" "$(xs $XSA_ROOT/vm/r1/state)" halted
# The next start takes the file as it is now: the new name.
req rs-8 "start r1b" done
check_eq "started under the new name" "$(xs $XSA_ROOT/vm/r1b/state)" running
check_eq "the old name's record is gone" "$(xs $XSA_ROOT/vm/r1/state)" ""
req rs-9 "destroy r1b" done
xsa_stop_agent
wait_until 30 sh -c '[ -z "$(xl list | awk "NR > 2")" ]' || true
no_leak /tmp/snap.before "restart safety"
