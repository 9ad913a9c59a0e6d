#!/bin/sh
# TEST_TIMEOUT: 1800
# 20-hotplug-scripts: xsagent's hotplug scripts (/etc/xsagent/scripts) run as
# the agent will run them (XENBUS_PATH, XENBUS_TYPE, XENBUS_BASE_PATH, the
# action as $1, vif=/node= in the environment), against backend nodes made by
# hand for the fake domains 999 and 998; no guest runs.
#   block: a file attached rw and ro (loop device, node, physical-device as
#   blkback parses it, hotplug-status), add again is idempotent, remove frees
#   the loop, remove after an abrupt destroy with node= from the environment,
#   sharing refused as busy (also when two adds race), a missing file, a char
#   device, a block device used as it is (and never freed), an unexpected
#   failure turned into hotplug-status=error by the ERR trap (also inside a
#   remove), a dead reader of the script's output (EPIPE) is no failure,
#   an add SIGKILLed right after losetup leaves a record its remove frees
#   the loop by, an add stopped by SIGTERM there frees it itself, a stale
#   physical-device of another disk is refused, a backend removed while add
#   runs is not recreated, a remove waits for a held lock instead of giving
#   up, and 12 add/remove/cleanup runs of vbds plus 4 of vifs at once leave
#   nothing behind.
#   vif-bridge: a real netback vif999.0 (the kernel makes it for the fake
#   frontend) joins bridge xenbr-t, leaves it, a missing bridge, an
#   interface already gone.
#   xen-hotplug-cleanup: frontend, backend and error/ nodes removed; twice.
# At the end (and on failure) no loop device, interface or node is left.
# Skips (77) outside a Xen dom0.

. /usr/lib/xsagent/tests/lib.sh

if ! grep -qs control_d /proc/xen/capabilities; then
	echo "SKIP: not in a Xen dom0 (no control_d in /proc/xen/capabilities)"
	exit 77
fi

S=${HOTPLUG_SCRIPTS:-/etc/xsagent/scripts}
W=/tmp/hp-test.$$
XSA_LOG=$W/no-agent.log # lib.sh's fail shows it: there is no agent here
D0=/local/domain/0
VBD=backend/vbd/999/51712 # relative, as the agent passes XENBUS_PATH
VBD2=backend/vbd/998/51712
VIF=backend/vif/999/0
FE_VBD=/local/domain/999/device/vbd/51712
FE_VIF=/local/domain/999/device/vif/0
BR=xenbr-t
IF=vif999.0
RECORDS=/run/xen-hotplug/loops
HPLOG=/var/log/xen/xen-hotplug.log

for s in xen-hotplug-common.sh block vif-bridge xen-hotplug-cleanup; do
	[ -f "$S/$s" ] || fail "$S/$s is not installed"
done
for p in $D0/backend/vbd/999 $D0/backend/vbd/998 $D0/backend/vif/999 /local/domain/999 /local/domain/998; do
	xenstore-exists "$p" 2>/dev/null && fail "$p exists before the test"
done
[ -e /sys/class/net/$IF ] && fail "$IF exists before the test"
[ -e /sys/class/net/$BR ] && fail "$BR exists before the test"
mkdir -p "$W" || fail "cannot make $W"

# loops_on FILE: the loop devices bound to FILE, one name a line (from sysfs:
# dom0's busybox sh would run busybox's losetup, which cannot list by file).
loops_on() {
	for _d in /sys/block/loop*; do
		[ -r "$_d/loop/backing_file" ] || continue
		[ "$(cat "$_d/loop/backing_file")" = "$1" ] && echo "${_d##*/}"
	done
	return 0
}
# hexdev NAME: block device NAME's number as blkback parses it: hex MAJ:MIN.
hexdev() {
	_mm=$(cat "/sys/class/block/$1/dev")
	printf '%x:%x' "${_mm%%:*}" "${_mm#*:}"
}
# leftovers: print whatever this test may leave behind; nothing when clean.
leftovers() {
	for _f in "$W"/*.img; do
		[ -f "$_f" ] || continue
		for _l in $(loops_on "$_f"); do echo "loop device $_l on $_f"; done
	done
	[ -e /sys/class/net/$IF ] && echo "interface $IF"
	[ -e /sys/class/net/$BR ] && echo "bridge $BR"
	for _p in $D0/backend/vbd/999 $D0/backend/vbd/998 $D0/backend/vif/999 \
		/local/domain/999 /local/domain/998 $D0/error/backend/vbd/999 \
		$D0/error/backend/vbd/998 $D0/error/backend/vif/999; do
		xenstore-exists "$_p" 2>/dev/null && echo "xenstore node $_p"
	done
	grep -ls 'backend=backend/v.*/9[0-9][0-9]/' "$RECORDS"/* 2>/dev/null | sed 's/^/loop record /'
	for _i in $MASS_IDS; do
		for _p in $D0/backend/vbd/$_i $D0/backend/vif/$((_i + 20)) /local/domain/$_i \
			/local/domain/$((_i + 20)); do
			xenstore-exists "$_p" 2>/dev/null && echo "xenstore node $_p"
		done
	done
	ls /run/xen-hotplug 2>/dev/null | grep -- '-9[0-9][0-9]-' | sed 's/^/lock file /'
	return 0
}
MASS_IDS="900 901 902 903 904 905 906 907 908 909 910 911"
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	for _f in "$W"/*.img; do
		[ -f "$_f" ] || continue
		for _l in $(loops_on "$_f"); do losetup -d "/dev/$_l"; done
	done
	for _p in $D0/backend/vbd/999 $D0/backend/vbd/998 $D0/backend/vif/999 \
		/local/domain/999 /local/domain/998 $D0/error/backend/vbd/999 \
		$D0/error/backend/vbd/998 $D0/error/backend/vif/999; do
		xenstore-rm "$_p" 2>/dev/null
	done
	for _i in $MASS_IDS; do
		for _p in $D0/backend/vbd/$_i $D0/backend/vif/$((_i + 20)) /local/domain/$_i \
			/local/domain/$((_i + 20)); do
			xenstore-rm "$_p" 2>/dev/null
		done
	done
	for _r in $(grep -ls 'backend=backend/v.*/9[0-9][0-9]/' "$RECORDS"/* 2>/dev/null); do rm -f "$_r"; done
	# The kernel deletes vif999.0 with its backend.
	wait_until 10 test ! -e /sys/class/net/$IF
	ip link del $BR 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# now_cs: dom0's uptime in centiseconds.
now_cs() {
	read -r _up _ </proc/uptime
	echo "${_up%.*}${_up#*.}"
}
# hp SCRIPT ACTION [VAR=VALUE...]: run a hotplug script as the agent will;
# $rc is its exit status, $W/out its output (shown indented).
hp() {
	_s=$1 _a=$2
	shift 2
	_t0=$(now_cs)
	env XENBUS_BASE_PATH=backend "$@" "$S/$_s" $_a >"$W/out" 2>&1
	rc=$?
	_t=$(($(now_cs) - _t0))
	echo "run: $* $_s $_a: exit $rc in $((_t / 100)).$((_t / 10 % 10)) s"
	sed 's/^/    | /' "$W/out"
}
out() { cat "$W/out"; }

# mk_vbd REL PARAMS MODE: a vbd backend as the agent writes it, with no
# frontend (so blkback leaves it alone and the scripts are on their own).
mk_vbd() {
	_dom=${1#backend/vbd/}
	_dom=${_dom%/*}
	xenstore-rm "$D0/$1" 2>/dev/null
	xenstore-write "$D0/$1/frontend" "/local/domain/$_dom/device/vbd/${1##*/}" \
		"$D0/$1/frontend-id" "$_dom" "$D0/$1/params" "$2" "$D0/$1/mode" "$3" \
		"$D0/$1/type" phy "$D0/$1/dev" xvda "$D0/$1/online" 1 "$D0/$1/state" 1 ||
		fail "cannot write the backend $D0/$1"
}
# block_add REL [VAR=VALUE...]: run block add for the vbd REL
block_add() {
	_be=$1
	shift
	hp block add XENBUS_PATH="$_be" XENBUS_TYPE=vbd "$@"
}
block_remove() {
	_be=$1
	shift
	hp block remove XENBUS_PATH="$_be" XENBUS_TYPE=vbd "$@"
}
# connected REL FILE WANT_RO: the backend REL is connected on a loop device
# on FILE with read-only flag WANT_RO; sets $node and $loop.
connected() {
	check_eq "$1 hotplug-status" "$(xs "$D0/$1/hotplug-status")" connected
	node=$(xs "$D0/$1/node")
	check_match "$1 node" "$node" "/dev/loop[0-9]*"
	loop=${node#/dev/}
	check_eq "$node is bound to" "$(cat "/sys/block/$loop/loop/backing_file" 2>/dev/null)" "$2"
	check_eq "$1 physical-device (hex MAJ:MIN of $node)" "$(xs "$D0/$1/physical-device")" "$(hexdev "$loop")"
	check_eq "$node read-only flag" "$(cat "/sys/block/$loop/ro")" "$3"
}

dd if=/dev/zero of="$W/disk.img" bs=1024 count=1024 2>/dev/null || fail "dd disk.img"
dd if=/dev/zero of="$W/disk2.img" bs=1024 count=1024 2>/dev/null || fail "dd disk2.img"
DISK=$W/disk.img

say "== block add: a file, read-write"
mk_vbd $VBD "$DISK" w
block_add $VBD
check_eq "block add exit status" "$rc" 0
connected $VBD "$DISK" 0
check_eq "loop devices on $DISK" "$(loops_on "$DISK")" "$loop"
check_match "losetup -a" "$(losetup -a)" "*$node:*$DISK*"
check_match "block add's stderr" "$(out)" "*$VBD*attached as $node*"
check_match "add recorded $node" "$(cat "$RECORDS/$loop" 2>/dev/null)" "*backend=$VBD*file=$DISK*"
check_match "$HPLOG" "$(tail -n 5 $HPLOG 2>/dev/null)" "*block\[*add $VBD*attached*"

say "== block add again: idempotent"
block_add $VBD
check_eq "second block add exit status" "$rc" 0
check_eq "node after the second add" "$(xs "$D0/$VBD/node")" "$node"
check_eq "loop devices on $DISK after the second add" "$(loops_on "$DISK")" "$loop"
check_eq "hotplug-status after the second add" "$(xs "$D0/$VBD/hotplug-status")" connected

say "== sharing: the same file for domain 998"
mk_vbd $VBD2 "$DISK" w
block_add $VBD2
check_eq "block add of a file in use rw: exit status" "$rc" 1
check_eq "$VBD2 hotplug-status" "$(xs "$D0/$VBD2/hotplug-status")" busy
check_match "$VBD2 hotplug-error" "$(xs "$D0/$VBD2/hotplug-error")" "*$DISK is already attached read-write to $VBD*"
check_match "stderr" "$(out)" "*error: $DISK is already attached read-write*"
mk_vbd $VBD2 "$DISK" r
block_add $VBD2
check_eq "block add ro of a file in use rw: exit status" "$rc" 1
check_eq "$VBD2 hotplug-status" "$(xs "$D0/$VBD2/hotplug-status")" busy
check_eq "$VBD2 node" "$(xs "$D0/$VBD2/node")" ""
check_eq "$VBD2 physical-device" "$(xs "$D0/$VBD2/physical-device")" ""
check_eq "loop devices on $DISK" "$(loops_on "$DISK")" "$loop"
block_remove $VBD2
check_eq "block remove of the refused backend: exit status" "$rc" 0
check_eq "$VBD's loop device after that" "$(loops_on "$DISK")" "$loop"
xenstore-rm "$D0/$VBD2"

say "== block remove"
block_remove $VBD
check_eq "block remove exit status" "$rc" 0
check_eq "loop devices on $DISK after remove" "$(loops_on "$DISK")" ""
check_eq "record of $loop" "$(cat "$RECORDS/$loop" 2>/dev/null)" ""
block_remove $VBD
check_eq "block remove again: exit status" "$rc" 0

say "== block add: read-only, shared read-only by domain 998"
mk_vbd $VBD "$DISK" r
block_add $VBD
check_eq "block add (ro) exit status" "$rc" 0
connected $VBD "$DISK" 1
loop1=$loop
check_match "losetup -a" "$(losetup -a)" "*$node:*$DISK*"
mk_vbd $VBD2 "$DISK" r
block_add $VBD2
check_eq "block add (ro, shared) exit status" "$rc" 0
connected $VBD2 "$DISK" 1
[ "$loop" != "$loop1" ] || fail "both backends got $loop"
pass "each backend has its own loop device ($loop1, $loop)"
block_remove $VBD2
check_eq "block remove $VBD2 exit status" "$rc" 0
check_eq "loop devices on $DISK" "$(loops_on "$DISK")" "$loop1"
xenstore-rm "$D0/$VBD2" # as the agent's cleanup would

say "== block remove after an abrupt destroy: node= from the environment"
xenstore-rm "$D0/$VBD" || fail "cannot remove $D0/$VBD"
block_remove $VBD node=/dev/$loop1
check_eq "block remove (backend gone) exit status" "$rc" 0
check_eq "loop devices on $DISK" "$(loops_on "$DISK")" ""
xenstore-exists "$D0/$VBD" 2>/dev/null && fail "block remove wrote into the removed backend"
pass "the removed backend stayed removed"

say "== block add: a missing file"
mk_vbd $VBD "$W/nope.img" w
block_add $VBD
check_eq "block add (missing file) exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_eq "hotplug-error" "$(xs "$D0/$VBD/hotplug-error")" "disk file $W/nope.img does not exist"
check_match "stderr" "$(out)" "block: add $VBD: error: disk file $W/nope.img does not exist*"

say "== the lock: held elsewhere, add gives up after HOTPLUG_LOCK_TIMEOUT, remove waits"
mk_vbd $VBD "$DISK" w
LOCK=/run/xen-hotplug/be-vbd-999-51712
mkdir -p /run/xen-hotplug
(exec 9>>$LOCK && flock 9 && exec sleep 120) &
holder=$!
wait_until 10 sh -c "! flock -n $LOCK true" || fail "the test could not take the lock"
block_add $VBD HOTPLUG_LOCK_TIMEOUT=1
check_eq "block add (lock held) exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_match "hotplug-error" "$(xs "$D0/$VBD/hotplug-error")" "no lock on $LOCK after 1 s*"
# A remove must not give up: it would leak what it frees.
env XENBUS_PATH=$VBD XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend HOTPLUG_LOCK_TIMEOUT=1 \
	"$S/block" remove >"$W/rmwait" 2>&1 &
rmpid=$!
sleep 4
kill -0 $rmpid 2>/dev/null || fail "block remove gave up while the lock was held: $(cat "$W/rmwait")"
pass "block remove still waits for the lock after 4 s (HOTPLUG_LOCK_TIMEOUT=1)"
kill $holder
wait $holder 2>/dev/null
holder=
wait $rmpid
check_eq "block remove, once the lock is free: exit status" "$?" 0
sed 's/^/    | /' "$W/rmwait"
[ -e $LOCK ] && fail "block remove left its lock file $LOCK"
pass "the backend's lock file went with its remove"

say "== block add: a character device"
mk_vbd $VBD /dev/null w
block_add $VBD
check_eq "block add (/dev/null) exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_eq "hotplug-error" "$(xs "$D0/$VBD/hotplug-error")" "/dev/null is neither a regular file nor a block device"

say "== block add: a block device (absolute XENBUS_PATH)"
losetup -f "$W/disk2.img" || fail "cannot set up a loop device on disk2.img"
bdev=$(loops_on "$W/disk2.img")
check_match "the test's own loop device" "$bdev" "loop[0-9]*"
say "== an unexpected failure (stat fails) ends as hotplug-status=error (the ERR trap)"
mkdir -p "$W/bin"
printf '#!/bin/sh\necho "stat: simulated failure" >&2\nexit 3\n' >"$W/bin/stat"
chmod +x "$W/bin/stat"
mk_vbd $VBD "/dev/$bdev" w
block_add $VBD PATH="$W/bin:$PATH"
check_eq "block add exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_match "hotplug-error" "$(xs "$D0/$VBD/hotplug-error")" "block:*'stat *' failed (exit 3)"
mk_vbd $VBD "/dev/$bdev" w
block_add $D0/$VBD
check_eq "block add (/dev/$bdev) exit status" "$rc" 0
check_eq "node" "$(xs "$D0/$VBD/node")" "/dev/$bdev"
check_eq "physical-device" "$(xs "$D0/$VBD/physical-device")" "$(hexdev "$bdev")"
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" connected
block_remove $D0/$VBD
check_eq "block remove (/dev/$bdev) exit status" "$rc" 0
check_eq "/dev/$bdev after remove (not the script's to free)" "$(loops_on "$W/disk2.img")" "$bdev"
losetup -d "/dev/$bdev" || fail "cannot free /dev/$bdev"

say "== two adds of one file, rw, at the same time: the lock lets one win"
mk_vbd $VBD "$DISK" w
mk_vbd $VBD2 "$DISK" w
env XENBUS_PATH=$VBD XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend "$S/block" add >"$W/race1" 2>&1 &
p1=$!
env XENBUS_PATH=$VBD2 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend "$S/block" add >"$W/race2" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
sed 's/^/    1| /' "$W/race1"
sed 's/^/    2| /' "$W/race2"
st="$(xs "$D0/$VBD/hotplug-status") $(xs "$D0/$VBD2/hotplug-status")"
case "$r1 $r2 $st" in
"0 1 connected busy" | "1 0 busy connected") pass "exit $r1 $r2, hotplug-status $st" ;;
*) fail "racing adds: exit $r1 $r2, hotplug-status $st" ;;
esac
check_match "loop devices on $DISK" "$(loops_on "$DISK")" "loop[0-9]*"
check_eq "number of loop devices on $DISK" "$(loops_on "$DISK" | wc -l)" 1
block_remove $VBD
check_eq "block remove exit status" "$rc" 0
block_remove $VBD2
check_eq "block remove exit status" "$rc" 0
check_eq "loop devices on $DISK" "$(loops_on "$DISK")" ""

# Stubs: each directory goes first in PATH for one run; they find the real
# command by taking their own directory off PATH (as bash's lookup does).
# ancestors_matching PATTERN: the pids of this process's ancestors whose
# command line matches (the block script and its subshells).
mkdir -p "$W/kill9" "$W/term" "$W/xsw" "$W/rm"
cat >"$W/stub-common" <<'E'
ancestors_matching() {
	_p=$PPID
	while [ "$_p" -gt 1 ]; do
		tr '\0' ' ' <"/proc/$_p/cmdline" | grep -q -- "$1" && echo "$_p"
		_p=$(awk '/^PPid:/ { print $2 }' "/proc/$_p/status")
	done
}
E
# losetup that, once it attached a file, kills the block script (SIGKILL or,
# as the agent's stop does, SIGTERM) before the script can go on.
for sig in KILL TERM; do
	d=$W/kill9
	[ $sig = TERM ] && d=$W/term
	cat >"$d/losetup" <<E
#!/bin/bash
PATH=\${PATH#$d:}
. "$W/stub-common"
losetup "\$@"
rc=\$?
if [ "\$rc" = 0 ] && [ -f "\${!#}" ]; then
	kill -$sig \$(ancestors_matching '/block add')
fi
exit \$rc
E
	chmod +x "$d/losetup"
done
# xenstore-write that removes the backend (as a rollback would) just before
# the status is written.
cat >"$W/xsw/xenstore-write" <<E
#!/bin/bash
PATH=\${PATH#$W/xsw:}
case "\$*" in *hotplug-status*) xenstore-rm "\$RM_FIRST" ;; esac
exec xenstore-write "\$@"
E
printf '#!/bin/sh\necho "rm: simulated failure" >&2\nexit 1\n' >"$W/rm/rm"
chmod +x "$W/xsw/xenstore-write" "$W/rm/rm"
KDISK=$W/k.img
dd if=/dev/zero of="$KDISK" bs=1024 count=256 2>/dev/null || fail "dd k.img"

say "== block add SIGKILLed right after losetup: its record lets remove free the loop"
mk_vbd $VBD "$KDISK" w
block_add $VBD PATH="$W/kill9:$PATH"
check_eq "block add (SIGKILLed) exit status" "$rc" 137
kl=$(loops_on "$KDISK")
check_match "the loop device it attached" "$kl" "loop[0-9]*"
check_match "its record, written before losetup" "$(cat "$RECORDS/$kl" 2>/dev/null)" "*backend=$VBD*"
block_remove $VBD
check_eq "block remove exit status" "$rc" 0
check_eq "loop devices on $KDISK after remove" "$(loops_on "$KDISK")" ""
check_eq "record of $kl" "$(cat "$RECORDS/$kl" 2>/dev/null)" ""

say "== block add stopped by SIGTERM right after losetup: its trap frees the loop"
mk_vbd $VBD "$KDISK" w
block_add $VBD PATH="$W/term:$PATH"
check_eq "block add (SIGTERM) exit status" "$rc" 1
check_eq "loop devices on $KDISK" "$(loops_on "$KDISK")" ""
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_eq "loop records of $VBD" "$(grep -ls "backend=$VBD\$" "$RECORDS"/* 2>/dev/null)" ""

say "== block add whose backend is removed before the status is written: nothing recreated"
mk_vbd $VBD "$KDISK" w
block_add $VBD PATH="$W/xsw:$PATH" RM_FIRST="$D0/$VBD"
check_eq "block add (backend removed) exit status" "$rc" 1
xenstore-exists "$D0/$VBD" 2>/dev/null && fail "block add recreated $D0/$VBD: $(xenstore-ls -f "$D0/$VBD")"
pass "the removed backend stayed removed"
check_eq "loop devices on $KDISK" "$(loops_on "$KDISK")" ""
check_eq "loop records of $VBD" "$(grep -ls "backend=$VBD\$" "$RECORDS"/* 2>/dev/null)" ""

say "== the agent died: writes to its pipe fail (EPIPE), the device still connects"
mk_vbd $VBD "$KDISK" w
rm -f "$W/fifo"
mkfifo "$W/fifo" || fail "mkfifo"
sh -c 'trap "" PIPE; exec env XENBUS_PATH=$1 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend "$2" add' \
	sh "$VBD" "$S/block" >"$W/fifo" 2>&1 &
bp=$!
exec 5<"$W/fifo"
exec 5<&-
wait $bp
check_eq "block add (output to a dead pipe) exit status" "$?" 0
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" connected
check_match "$HPLOG still gets the lines" "$(tail -n 3 $HPLOG 2>/dev/null)" "*add $VBD*attached*"

say "== a failure inside remove is not lost (no ERR trap hole)"
block_remove $VBD PATH="$W/rm:$PATH"
check_eq "block remove (rm fails) exit status" "$rc" 1
check_match "its error" "$(out)" "*error: block:*'rm -f *' failed (exit 1)*"
block_remove $VBD
check_eq "block remove again: exit status" "$rc" 0
check_eq "loop devices on $KDISK" "$(loops_on "$KDISK")" ""
check_eq "loop records of $VBD" "$(grep -ls "backend=$VBD\$" "$RECORDS"/* 2>/dev/null)" ""

say "== a stale physical-device (reused domain ID, another disk): refused"
mk_vbd $VBD "$KDISK" w
block_add $VBD
check_eq "block add exit status" "$rc" 0
kl=$(loops_on "$KDISK")
xenstore-write "$D0/$VBD/params" "$W/disk2.img" "$D0/$VBD/hotplug-status" "" || fail "cannot write params"
block_add $VBD
check_eq "block add over another disk's physical-device: exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VBD/hotplug-status")" error
check_match "hotplug-error" "$(xs "$D0/$VBD/hotplug-error")" "physical-device * is not $W/disk2.img (/dev/$kl is bound to*refusing*"
check_eq "loop devices on disk2.img" "$(loops_on "$W/disk2.img")" ""
block_remove $VBD
check_eq "block remove exit status" "$rc" 0
check_eq "loop devices on $KDISK after remove" "$(loops_on "$KDISK")" ""
xenstore-rm "$D0/$VBD"

say "== 12 vbds and 4 vifs at once: add/online, then (nodes first, as the agent) remove/offline"
for i in $MASS_IDS; do
	dd if=/dev/zero of="$W/m$i.img" bs=1024 count=64 2>/dev/null || fail "dd m$i.img"
	mk_vbd backend/vbd/$i/51712 "$W/m$i.img" w
done
ip link add $BR type bridge || fail "cannot make bridge $BR"
ip link set dev $BR up
MASS_VIFS="920 921 922 923"
for j in $MASS_VIFS; do
	fe=/local/domain/$j/device/vif/0
	be=$D0/backend/vif/$j/0
	xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 "$fe/handle" 0 \
		"$fe/mac" 00:16:3e:00:09:$((j - 900)) || fail "cannot write $fe"
	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" $j "$be/handle" 0 \
		"$be/mac" 00:16:3e:00:09:$((j - 900)) "$be/script" "$S/vif-bridge" "$be/bridge" $BR \
		"$be/type" vif "$be/online" 1 "$be/state" 1 || fail "cannot write $be"
done
for j in $MASS_VIFS; do
	wait_until 30 test -e /sys/class/net/vif$j.0 || fail "netback made no vif$j.0"
done
pass "netback made vif920.0 to vif923.0"
t0=$(now_cs)
pids=
for i in $MASS_IDS; do
	env XENBUS_PATH=backend/vbd/$i/51712 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend \
		"$S/block" add >"$W/m$i.add" 2>&1 &
	pids="$pids $!:$i"
done
for j in $MASS_VIFS; do
	env XENBUS_PATH=backend/vif/$j/0 XENBUS_TYPE=vif XENBUS_BASE_PATH=backend vif=vif$j.0 \
		"$S/vif-bridge" online >"$W/v$j.on" 2>&1 &
	pids="$pids $!:v$j"
done
bad=
for pi in $pids; do
	wait ${pi%%:*} || bad="$bad ${pi#*:}"
done
t=$(($(now_cs) - t0))
say "12 adds and 4 onlines at once took $((t / 100)) s"
for i in $MASS_IDS; do
	st=$(xs $D0/backend/vbd/$i/51712/hotplug-status)
	[ "$st" = connected ] || { bad="$bad $i:$st"; sed "s/^/    $i| /" "$W/m$i.add"; }
done
for j in $MASS_VIFS; do
	st=$(xs $D0/backend/vif/$j/0/hotplug-status)
	[ "$st" = connected ] || { bad="$bad v$j:$st"; sed "s/^/    v$j| /" "$W/v$j.on"; }
done
[ -z "$bad" ] || fail "failed at once:$bad"
pass "12 block adds and 4 vif-bridge onlines at once all connected"
nodes=
for i in $MASS_IDS; do nodes="$nodes $(xs $D0/backend/vbd/$i/51712/node)"; done
check_eq "distinct loop devices" "$(echo $nodes | tr ' ' '\n' | sort -u | wc -l)" 12
t0=$(now_cs)
pids=
for i in $MASS_IDS; do
	n=$(xs $D0/backend/vbd/$i/51712/node)
	xenstore-rm $D0/backend/vbd/$i/51712
	(env XENBUS_PATH=backend/vbd/$i/51712 XENBUS_TYPE=vbd XENBUS_BASE_PATH=backend node=$n \
		"$S/block" remove && env XENBUS_PATH=backend/vbd/$i/51712 XENBUS_TYPE=vbd \
		"$S/xen-hotplug-cleanup") >"$W/m$i.rm" 2>&1 &
	pids="$pids $!:$i"
done
for j in $MASS_VIFS; do
	(env XENBUS_PATH=backend/vif/$j/0 XENBUS_TYPE=vif vif=vif$j.0 "$S/vif-bridge" offline &&
		env XENBUS_PATH=backend/vif/$j/0 XENBUS_TYPE=vif "$S/xen-hotplug-cleanup") \
		>"$W/v$j.off" 2>&1 &
	pids="$pids $!:v$j"
done
bad=
for pi in $pids; do
	wait ${pi%%:*} || bad="$bad ${pi#*:}"
done
t=$(($(now_cs) - t0))
say "12 removes and 4 offlines (each with its cleanup) at once took $((t / 100)) s"
for pi in $bad; do
	case $pi in v*) sed "s/^/    $pi| /" "$W/$pi.off" ;; *) sed "s/^/    $pi| /" "$W/m$pi.rm" ;; esac
done
[ -z "$bad" ] || fail "failed:$bad"
pass "every remove, offline and cleanup exited 0"
for i in $MASS_IDS; do
	[ -z "$(loops_on "$W/m$i.img")" ] || bad="$bad loop-on-m$i.img"
	xenstore-rm /local/domain/$i 2>/dev/null
done
for j in $MASS_VIFS; do
	wait_until 10 test ! -e /sys/class/net/vif$j.0 || bad="$bad vif$j.0"
	xenstore-rm /local/domain/$j 2>/dev/null
done
ip link del $BR || fail "cannot delete $BR"
left=$(leftovers | grep -v -e '/99[89]' -e '-99[89]-')
[ -z "$bad$left" ] || fail "left behind:$bad $left"
pass "no loop device, vif, node, record or lock file left"
mk_vbd $VBD "$DISK" w

say "== xen-hotplug-cleanup: a vbd"
xenstore-write "$FE_VBD/backend" "$D0/$VBD" "$FE_VBD/backend-id" 0 "$FE_VBD/state" 1 \
	"$D0/error/$VBD/error" "a test error" || fail "cannot write the frontend"
hp xen-hotplug-cleanup "" XENBUS_PATH=$VBD XENBUS_TYPE=vbd
check_eq "xen-hotplug-cleanup exit status" "$rc" 0
for p in "$D0/$VBD" "$FE_VBD" "$D0/error/$VBD"; do
	xenstore-exists "$p" 2>/dev/null && fail "$p is still there"
	pass "$p removed"
done
hp xen-hotplug-cleanup "" XENBUS_PATH=$VBD XENBUS_TYPE=vbd
check_eq "xen-hotplug-cleanup again: exit status" "$rc" 0
hp xen-hotplug-cleanup remove XENBUS_PATH=$D0/$VBD2 XENBUS_TYPE=vbd
check_eq "xen-hotplug-cleanup $VBD2 exit status" "$rc" 0
xenstore-exists "$D0/$VBD2" 2>/dev/null && fail "$D0/$VBD2 is still there"
pass "$D0/$VBD2 removed"

say "== vif-bridge: netback's $IF for a fake frontend of domain 999"
ip link add $BR type bridge || fail "cannot make bridge $BR"
ip link set dev $BR up
xenstore-write "$FE_VIF/backend" "$D0/$VIF" "$FE_VIF/backend-id" 0 "$FE_VIF/state" 1 \
	"$FE_VIF/handle" 0 "$FE_VIF/mac" 00:16:3e:00:09:99 || fail "cannot write $FE_VIF"
xenstore-write "$D0/$VIF/frontend" "$FE_VIF" "$D0/$VIF/frontend-id" 999 "$D0/$VIF/handle" 0 \
	"$D0/$VIF/mac" 00:16:3e:00:09:99 "$D0/$VIF/script" "$S/vif-bridge" "$D0/$VIF/bridge" $BR \
	"$D0/$VIF/type" vif "$D0/$VIF/online" 1 "$D0/$VIF/state" 1 || fail "cannot write $D0/$VIF"
wait_until 20 test -e /sys/class/net/$IF || fail "netback made no $IF"
pass "netback made $IF"

hp vif-bridge online XENBUS_PATH=$VIF XENBUS_TYPE=vif vif=$IF
check_eq "vif-bridge online exit status" "$rc" 0
check_eq "$IF's master" "$(basename "$(readlink /sys/class/net/$IF/master)")" $BR
check_eq "$IF is up (IFF_UP)" "$(($(cat /sys/class/net/$IF/flags) & 1))" 1
check_eq "$IF's mtu" "$(cat /sys/class/net/$IF/mtu)" "$(cat /sys/class/net/$BR/mtu)"
check_eq "hotplug-status" "$(xs "$D0/$VIF/hotplug-status")" connected

hp vif-bridge offline XENBUS_PATH=$VIF XENBUS_TYPE=vif vif=$IF
check_eq "vif-bridge offline exit status" "$rc" 0
[ -e /sys/class/net/$IF/master ] && fail "$IF still has a master"
pass "$IF left $BR"
check_eq "$IF is down (IFF_UP)" "$(($(cat /sys/class/net/$IF/flags) & 1))" 0

say "== vif-bridge: a missing bridge"
xenstore-rm "$D0/$VIF/hotplug-status"
xenstore-write "$D0/$VIF/bridge" br9
hp vif-bridge online XENBUS_PATH=$VIF XENBUS_TYPE=vif vif=$IF
check_eq "vif-bridge online (br9) exit status" "$rc" 1
check_eq "hotplug-status" "$(xs "$D0/$VIF/hotplug-status")" error
check_eq "hotplug-error" "$(xs "$D0/$VIF/hotplug-error")" "Could not find bridge device br9"
check_match "stderr" "$(out)" "vif-bridge: online $VIF: error: Could not find bridge device br9*"
[ -e /sys/class/net/$IF/master ] && fail "$IF joined a bridge anyway"
pass "$IF is on no bridge"

say "== vif-bridge: add (udev's name for online), vif from XENBUS_PATH"
xenstore-write "$D0/$VIF/bridge" $BR
hp vif-bridge add XENBUS_PATH=$D0/$VIF XENBUS_TYPE=vif
check_eq "vif-bridge add exit status" "$rc" 0
check_eq "$IF's master" "$(basename "$(readlink /sys/class/net/$IF/master)")" $BR
check_eq "hotplug-status" "$(xs "$D0/$VIF/hotplug-status")" connected

say "== xen-hotplug-cleanup: the vif; then offline with the interface gone"
hp xen-hotplug-cleanup "" XENBUS_PATH=$VIF XENBUS_TYPE=vif vif=$IF
check_eq "xen-hotplug-cleanup exit status" "$rc" 0
for p in "$D0/$VIF" "$FE_VIF"; do
	xenstore-exists "$p" 2>/dev/null && fail "$p is still there"
	pass "$p removed"
done
wait_until 10 test ! -e /sys/class/net/$IF || fail "$IF is still there after its backend went"
pass "the kernel removed $IF with its backend"
hp vif-bridge offline XENBUS_PATH=$VIF XENBUS_TYPE=vif vif=$IF
check_eq "vif-bridge offline ($IF gone) exit status" "$rc" 0
check_match "stderr" "$(out)" "*$IF is gone already*"

say "== nothing left"
ip link del $BR || fail "cannot delete $BR"
for p in /local/domain/999 /local/domain/998; do
	# The fake frontends' empty parents (device/vbd, device/vif) are the
	# agent's business when a domain dies; here the test removes them.
	xenstore-rm "$p" 2>/dev/null
done
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"
pass "no loop devices, interfaces, xenstore nodes or loop records left"
