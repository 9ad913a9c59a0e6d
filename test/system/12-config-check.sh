#!/bin/sh
# xsagent -n: checks the config and the VM files, says what is wrong with
# file:line, and prints the settings with defaults when all is well.
. /usr/lib/xsagent/tests/lib.sh
out=$(xsagent -n 2>&1) || fail "shipped config rejected: $out"
echo "$out" | grep -q "^control_root = /xsagent$" || fail "dump lacks control_root"
echo "$out" | grep -q "^name = demo$" || fail "dump lacks the demo VM"
pass "shipped configuration checks out"
d=/tmp/cfg; rm -rf $d; mkdir -p $d/vms
printf '[agent]\nvm_dir = %s/vms\nlog_level = chatty\n' $d >$d/a.ini
printf '[vm]\nname = x\nuuid = 00000000-0000-4000-8000-000000000001\nkernel = /nope\nmemory = 9x\n' >$d/vms/x.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "bad config accepted"
check_match "agent error" "$out" "*$d/a.ini:3: log_level: 'chatty' is not one of the allowed values*"
printf '[agent]\nvm_dir = %s/vms\n' $d >$d/a.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "bad VM file accepted"
check_match "VM error" "$out" "*$d/vms/x.ini:5: memory: '9x' is not a whole number*"
printf '[vm]\nname = x\nuuid = 00000000-0000-4000-8000-000000000001\nkernel = /nope\n' >$d/vms/x.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "missing kernel accepted"
check_match "missing kernel" "$out" "*x.ini: kernel /nope: No such file or directory*"
cp $d/vms/x.ini $d/vms/y.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "duplicate accepted"
check_match "duplicate" "$out" "*y.ini: name also used by $d/vms/x.ini*"
