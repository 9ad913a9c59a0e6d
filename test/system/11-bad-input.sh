#!/bin/sh
# TEST_TIMEOUT: 900
# Every bad input ends in a failed task (or, for a bad ID, the agent's
# error node) with a clear one-line reason, in xenstore and in the log, and
# leaves nothing behind.
. /usr/lib/xsagent/tests/lib.sh
dir=/tmp/bad-vms
rm -rf $dir; mkdir -p $dir
cp /etc/xsagent/vms/demo.ini $dir/
vmfile() { # NAME UUID-TAIL KERNEL MEMORY EXTRA-LINES
	printf '[vm]\nname = %s\nuuid = 00000000-0000-4000-8000-%012d\nkernel = %s\nmemory = %s\nramdisk = /var/lib/xsagent/guest/initrd\n%b' \
		"$1" "$2" "$3" "$4" "$5" >$dir/$1.ini
}
k=/var/lib/xsagent/guest/vmlinuz
vmfile nokernel 1 /nonexistent/vmlinuz 128 ""
vmfile notkernel 2 /etc/xsagent/xsagent.ini 128 ""
vmfile huge 3 $k 1000000 ""
vmfile badkey 4 $k 128 "colour = blue\n"
printf '[agent]\nvm_dir = %s\n' $dir >/tmp/bad.ini

snapshot /tmp/snap.before
xsa_start_agent /tmp/bad.ini
check_eq "invalid VM published as such" "$(xs $XSA_ROOT/vm/badkey/state)" invalid
check_match "its error" "$(xs $XSA_ROOT/vm/badkey/error)" "*badkey.ini:7: unknown key 'colour' in [[]vm]"

# expect_fail ID VALUE ERROR-GLOB: the request fails with that error.
expect_fail() {
	xsa_request "$1" "$2"
	check_eq "task $1 ($2)" "$(xsa_wait_task "$1" 120)" failed
	e=$(xs $XSA_ROOT/task/$1/error)
	check_match "error of $1" "$e" "$3"
	grep -qF "task $1" "$XSA_LOG" || fail "task $1 not in the log"
	no_leak /tmp/snap.before "$1"
}
expect_fail unknown "start nosuchvm" "lookup: no VM named 'nosuchvm'*"
expect_fail unknownuuid "start 11111111-2222-4333-8444-555555555555" "lookup: no VM named*"
expect_fail noarg "start" "request: usage: start <VM*"
expect_fail badop "explode demo" "request: unknown operation 'explode'"
expect_fail twoargs "start demo demo" "request: too many arguments*"
expect_fail empty "" "request: empty request"
expect_fail ctrl "$(printf 'start de\033mo')" "request: request holds a non-printable byte at offset 8"
long=$(head -c 300 /dev/zero | tr '\0' a)
expect_fail toolong "start $long" "request: request longer than 256 bytes"
expect_fail nokernel "start nokernel" "init: kernel /nonexistent/vmlinuz: No such file or directory"
expect_fail notkernel "start notkernel" "init: parse kernel image: *"
expect_fail huge "start huge" "construct: huge needs 1000000 MiB but the host has * MiB free"
expect_fail badkey "start badkey" "lookup: VM file of badkey is invalid: *unknown key 'colour' in [[]vm]"

# IDs that cannot name a task: the request is removed and the agent says why.
xenstore-write "$XSA_ROOT/request/$(head -c 70 /dev/zero | tr '\0' x)" "start demo"
wait_until 10 xenstore-exists $XSA_ROOT/error || fail "no error for an over-long ID"
check_match "over-long ID" "$(xs $XSA_ROOT/error)" "request 'xxxx*': invalid ID*"
check_eq "request removed" "$(xenstore-list $XSA_ROOT/request)" ""
# xenstored itself refuses most characters in a node name; '@' passes it.
xenstore-write "$XSA_ROOT/request/a@b" "start demo"
wait_until 10 sh -c "xenstore-read $XSA_ROOT/error | grep -q \"'a@b'\"" || fail "no error for ID a@b"
pass "ID a@b refused: $(xs $XSA_ROOT/error)"
# A nested node: request/x/y makes x a directory with an empty value.
xenstore-write "$XSA_ROOT/request/nest/inner" "start demo"
check_eq "nested request" "$(xsa_wait_task nest 10)" failed
check_eq "its error" "$(xs $XSA_ROOT/task/nest/error)" "request: empty request"
check_eq "request dir empty" "$(xenstore-list $XSA_ROOT/request)" ""
# An ID already used by a task is refused, the old record kept.
xsa_request unknown "start demo"
wait_until 10 sh -c "xenstore-read $XSA_ROOT/error | grep -q \"'unknown'\"" || fail "reused ID accepted"
check_eq "old task kept" "$(xs $XSA_ROOT/task/unknown/state)" failed
xenstore-exists /local/domain/1 && fail "a reused ID started something"
no_leak /tmp/snap.before "bad IDs"
xsa_stop_agent
pass "all bad inputs refused cleanly"
