#!/bin/sh
# 00-xl-anchor: the bed proves itself with Xen's own toolstack, before any
# xsagent test runs: xl creates the test guest from /etc/xen/testguest.cfg,
# the guest's console shows XSAGENT-GUEST-UP, xl list and xenstore show it,
# `xl shutdown -w` powers it off through control/shutdown, and afterwards
# neither xl nor xenstore knows it. Any failed check fails the test.
# Skips (77) outside a Xen dom0.

name=testguest
cfg=/etc/xen/testguest.cfg
log=/var/log/xen/console/guest-$name.log
UP_TIMEOUT=${UP_TIMEOUT:-120}
SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-120}

fail() {
	echo "FAIL: $*"
	exit 1
}
check() { echo "check: $*"; }
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }

if ! grep -qs control_d /proc/xen/capabilities; then
	echo "SKIP: not in a Xen dom0 (no control_d in /proc/xen/capabilities)"
	exit 77
fi
command -v xl >/dev/null || fail "xl not found in PATH"
[ -f "$cfg" ] || fail "$cfg missing"

cleanup() {
	if xl domid "$name" >/dev/null 2>&1; then
		echo "cleanup: destroying $name"
		xl destroy "$name" >/dev/null 2>&1
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if xl domid "$name" >/dev/null 2>&1; then
	fail "a domain named $name exists before the test"
fi
rm -f "$log"

check "xl create $cfg"
timeout 120 xl create "$cfg" || fail "xl create exited with status $?"
domid=$(xl domid "$name") || fail "xl domid $name found no domain after xl create"
case $domid in '' | *[!0-9]*) fail "xl domid printed '$domid'" ;; esac
echo "created $name as domain $domid after $(since)"

check "console log $log shows XSAGENT-GUEST-UP within $UP_TIMEOUT s"
i=0
until grep -qs XSAGENT-GUEST-UP "$log"; do
	i=$((i + 1))
	if [ $i -gt $((UP_TIMEOUT * 2)) ]; then
		echo "console log so far:"
		sed 's/^/  | /' "$log" 2>/dev/null | tail -n 20
		fail "no XSAGENT-GUEST-UP in $log after $UP_TIMEOUT s"
	fi
	sleep 0.5
done
echo "guest up after $(since): $(grep -m1 XSAGENT-GUEST-UP "$log")"
grep -q 'XSAGENT-GUEST-UP anchor' "$log" || fail "marker from xsa.marker=anchor not printed"

check "xl list shows $name"
xl list "$name" || fail "xl list $name failed"
xl list | awk -v n="$name" -v d="$domid" '$1 == n && $2 == d { f = 1 } END { exit !f }' ||
	fail "xl list has no line '$name $domid'"

check "xenstore /local/domain/$domid"
v=$(xenstore-read "/local/domain/$domid/name") || fail "cannot read /local/domain/$domid/name"
[ "$v" = "$name" ] || fail "/local/domain/$domid/name is '$v', not '$name'"
echo "/local/domain/$domid/name = $v"
p=$(xenstore-read "/local/domain/$domid/console/port") || fail "cannot read /local/domain/$domid/console/port"
case $p in '' | *[!0-9]*) fail "/local/domain/$domid/console/port is '$p'" ;; esac
echo "/local/domain/$domid/console/port = $p"

check "xl shutdown -w $name within $SHUTDOWN_TIMEOUT s"
s0=$(date +%s)
timeout "$SHUTDOWN_TIMEOUT" xl shutdown -w "$name" || fail "xl shutdown -w exited with status $?"
echo "shut down in $(($(date +%s) - s0)) s"

check "$name is gone (xl's monitor destroys it on poweroff; allow 30 s)"
gone() {
	! xl list "$name" >/dev/null 2>&1 &&
		! xl list | awk -v d="$domid" 'NR > 1 && $2 == d { f = 1 } END { exit !f }' &&
		! xenstore-exists "/local/domain/$domid" 2>/dev/null
}
i=0
until gone; do
	i=$((i + 1))
	if [ $i -gt 60 ]; then
		xl list "$name" >/dev/null 2>&1 && fail "xl list still shows $name"
		xl list | awk -v d="$domid" 'NR > 1 && $2 == d { f = 1 } END { exit !f }' &&
			fail "xl list still shows domain $domid"
		fail "/local/domain/$domid still exists in xenstore"
	fi
	sleep 0.5
done
echo "no domain $domid in xl list or xenstore"
grep -q XSAGENT-GUEST-POWEROFF "$log" && echo "guest ran /sbin/poweroff"
echo "anchor test passed in $(since)"
exit 0
