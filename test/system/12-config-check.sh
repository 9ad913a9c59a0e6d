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
# [pci.N]: a PVH VM with one is refused as xl refuses it; a malformed and a
# duplicate BDF with their lines; a BDF in two files is only a warning; the
# dump shows the section with its defaults, the BDF canonical.
rm -f $d/vms/*.ini
k=/var/lib/xsagent/guest/vmlinuz
printf '[vm]\nname = p\nuuid = 00000000-0000-4000-8000-000000000011\nkernel = %s\ntype = pvh\n[pci.0]\nbdf = 00:01.0\n' $k >$d/vms/p.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "PVH VM with a pci section accepted"
check_match "pvh pci" "$out" "*p.ini:6: \[pci.0\] PCI passthrough is not supported for x86 PVH guests*"
printf '[vm]\nname = p\nuuid = 00000000-0000-4000-8000-000000000011\nkernel = %s\n[pci.0]\nbdf = 0000:00:01.0\n[pci.1]\nbdf = 00:01.0\n[pci.2]\nbdf = 0:1.0\n' $k >$d/vms/p.ini
out=$(xsagent -n -c $d/a.ini 2>&1) && fail "bad pci sections accepted"
check_match "duplicate bdf" "$out" "*p.ini:8: \[pci.1\] bdf 0000:00:01.0 also used by \[pci.0\]*"
check_match "malformed bdf" "$out" "*p.ini:10: bdf: '0:1.0' is not a PCI address*"
printf '[vm]\nname = p\nuuid = 00000000-0000-4000-8000-000000000011\nkernel = %s\n[pci.0]\nbdf = 00:01.0\n' $k >$d/vms/p.ini
printf '[vm]\nname = q\nuuid = 00000000-0000-4000-8000-000000000012\nkernel = %s\n[pci.3]\nbdf = 0000:00:01.0\nseize = yes\n' $k >$d/vms/q.ini
out=$(xsagent -n -c $d/a.ini 2>&1) || fail "a BDF in two files refused: $out"
check_match "shared bdf warning" "$out" "*warning: $d/vms/p.ini: \[pci.0\] 0000:00:01.0 also in $d/vms/q.ini \[pci.3\]*"
check_match "pci dump" "$out" "*\[pci.3\]
bdf = 0000:00:01.0
permissive = no
msitranslate = no
rdm_policy = strict
seize = yes*"
rm -rf $d
