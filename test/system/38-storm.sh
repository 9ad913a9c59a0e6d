#!/bin/sh
# TEST_TIMEOUT: 900
# Storm: 50 start requests at once for 50 small VMs, and one for a VM that
# cannot fit (more memory than the machine has).  Every task ends: the 50
# done (test/xenvm/check gives the bed enough memory for all of them: 50 x
# 80 MiB), the big one failed with a reason that says memory; a refresh
# written in the middle of the storm is answered; every VM is in the state
# the hypervisor says; 50 destroys at once end halted; nothing leaks.  The
# tasks' latencies (request write -> task done, from one C client) are
# printed as STORM lines for bench/run-storm.
. /usr/lib/xsagent/tests/lib.sh
N=${STORM_VMS:-50}
MB=80	# the cloud kernel boots to its idle line with 72 MiB, not 64
S=/tmp/storm
rm -rf $S; mkdir -p $S/vms
vm() { # NAME NUM MB
	printf '[vm]\nname = %s\nuuid = 00000000-0000-4000-8000-%012d\nmemory = %s\nkernel = /var/lib/xsagent/guest/vmlinuz\nramdisk = /var/lib/xsagent/guest/initrd\ncmdline = console=hvc0 quiet xsa.marker=%s\n' \
		"$1" "$2" "$3" "$1" >"$S/vms/$1.ini"
}
i=1
while [ $i -le $N ]; do
	vm "$(printf 's%02d' $i)" $((700 + i)) $MB
	i=$((i + 1))
done
free=$(xl info | awk '$1 == "free_memory" { print $3 }')
vm big 799 $((free * 4))
say "free memory $free MiB; $N VMs of $MB MiB need $((N * MB)) MiB; big asks $((free * 4)) MiB"
[ $((N * MB + 64)) -le "$free" ] || fail "the bed has $free MiB free, $N VMs need $((N * MB)): run it with more memory (test/xenvm/check -m)"
printf '[agent]\nvm_dir = %s/vms\ntask_max = 1000\nshutdown_timeout = 2\n' $S >$S/agent.ini

snapshot /tmp/snap.before
# As in 36-load: 50 booting guests would leave dom0 a 26th of the CPUs at
# equal weights; dom0's share is what this test measures.
xl sched-credit2 -d 0 -w 8192 || say "NOTE: could not raise dom0's scheduler weight"
xsa_start_agent $S/agent.ini

# One C client writes the 51 requests back to back and times each task.
set --
i=1
while [ $i -le $N ]; do
	v=$(printf 's%02d' $i)
	set -- "$@" "st-$v" "start $v"
	i=$((i + 1))
done
set -- "$@" st-big "start big"
t0=$(date +%s)
/usr/lib/xsagent/bench/xsa-request "$XSA_ROOT" "$@" >$S/lat 2>$S/lat.err &
client=$!
# The agent must answer while the storm is on.
sleep 2
xsa_request storm-refresh refresh
check_eq "a refresh written during the storm" "$(xsa_wait_task storm-refresh 300)" done
say "refresh answered $(($(date +%s) - t0)) s after the storm began"
wait_until 600 gone_or_zombie $client || fail "the client still waits 600 s after the storm began"
wait $client
say "storm ended in $(($(date +%s) - t0)) s"
cat $S/lat.err
sed 's/^/STORM /' $S/lat

# Every task ended once, and as it should.
check_eq "tasks the client saw end" "$(grep -c '^task ' $S/lat)" $((N + 1))
done_n=$(awk '$1 == "task" && $2 ~ /^st-s/ && $4 == "done"' $S/lat | wc -l)
check_eq "small VMs' starts done" "$done_n" "$N"
for id in $(awk '$1 == "task" && $2 ~ /^st-s/ && $4 != "done" { print $2 }' $S/lat); do
	say "$id: $(xs $XSA_ROOT/task/$id/state): $(xs $XSA_ROOT/task/$id/error)"
done
check_eq "the big VM's start" "$(xs $XSA_ROOT/task/st-big/state)" failed
err=$(xs $XSA_ROOT/task/st-big/error)
say "the big VM's error: $err"
check_match "the big VM's error says memory" "$err" "*needs * MiB but the host has * MiB free"
check_eq "the big VM" "$(xs $XSA_ROOT/vm/big/state)" halted

# The records agree with the hypervisor: one domain per running VM, its own
# (one xl list, one xenstore-ls: a process per VM takes seconds here).
xl list | awk 'NR > 2 { print $1, $2 }' | sort >$S/xl
vm_records() { # the VMs' "NAME STATE DOMID", from one xenstore-ls
	xenstore-ls $XSA_ROOT/vm | awk '
		/^[^ ]/ { vm = $1 } /^ state = / { st[vm] = $3 } /^ domid = / { d[vm] = $3 }
		END { for (v in st) { gsub(/"/, "", st[v]); gsub(/"/, "", d[v]); print v, st[v], d[v] } }' | sort
}
vm_records >$S/rec
check_eq "domains the hypervisor has" "$(wc -l <$S/xl)" "$N"
check_eq "running VM records against xl list" \
	"$(awk '$2 == "running" { print $1, $3 }' $S/rec | diff - $S/xl)" ""
check_eq "requests left under request/" "$(xenstore-list $XSA_ROOT/request 2>/dev/null | wc -l)" 0

# 50 destroys at once, from the same client.
set --
for f in $S/vms/s*.ini; do
	v=$(basename "$f" .ini)
	set -- "$@" "de-$v" "destroy $v"
done
t1=$(date +%s)
/usr/lib/xsagent/bench/xsa-request "$XSA_ROOT" "$@" >$S/de || say "xsa-request: some destroys not done"
sed 's/^/STORM /' $S/de
check_eq "destroys done" "$(awk '$1 == "task" && $4 == "done"' $S/de | wc -l)" "$N"
vm_records >$S/rec
check_eq "VMs halted after the destroys" "$(grep -c '^s[0-9]* halted *$' $S/rec)" "$N"
pass "$N destroys in $(($(date +%s) - t1)) s"
xsa_request storm-end refresh
check_eq "the agent still answers" "$(xsa_wait_task storm-end 60)" done
xsa_stop_agent
no_leak /tmp/snap.before "a storm of $N starts and $N destroys"
