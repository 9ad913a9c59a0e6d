#!/bin/sh
# A payload for test/xenvm/run that checks run-all's clean-up after a failed
# test in the bed: a failed test's domains are destroyed before the next
# test, a passing test's are left alone (a test may hand a domain on, and
# run-all must not hide a leak check's finding).  Four throw-away tests in
# a directory of their own (SYSTEM_TESTS_DIR), with the bed's test guest
# started by xl:
#   01 starts two domains and fails; 02 passes only if none is left;
#   03 starts one and passes;        04 passes only if it is still there.
# Expected TAP: not ok 1, ok 2, ok 3, ok 4, and run-all's line naming what
# it destroyed.  Run it by hand after changing run-all (about a minute):
#   test/xenvm/run test/xenvm/selftest-run-all.sh
d=/tmp/selftest-run-all
rm -rf $d; mkdir -p $d
cfg() { sed -e "s/\"testguest\"/\"$1\"/" /etc/xen/testguest.cfg >$d/$1.cfg; }
cfg ra-fail1; cfg ra-fail2; cfg ra-pass
cat >$d/01-fails-leaving-two.sh <<EOF
#!/bin/sh
xl create -q $d/ra-fail1.cfg && xl create -q $d/ra-fail2.cfg || exit 2
echo "FAIL: on purpose, with ra-fail1 and ra-fail2 running"
exit 1
EOF
cat >$d/02-none-left.sh <<'EOF'
#!/bin/sh
left=$(xl list | awk 'NR > 2 { print $1 }')
echo "domains: ${left:-none}"
[ -z "$left" ]
EOF
cat >$d/03-passes-leaving-one.sh <<EOF
#!/bin/sh
xl create -q $d/ra-pass.cfg
EOF
cat >$d/04-still-there.sh <<'EOF'
#!/bin/sh
xl list ra-pass >/dev/null 2>&1
EOF
chmod +x $d/*.sh
out=$(SYSTEM_TESTS_DIR=$d /usr/lib/xsagent/tests/run-all 2>&1)
echo "$out"
xl destroy ra-pass >/dev/null 2>&1
verdict=ok
for want in "not ok 1 - 01-fails-leaving-two" "ok 2 - 02-none-left" \
	"ok 3 - 03-passes-leaving-one" "ok 4 - 04-still-there" \
	"# 01-fails-leaving-two failed with domains left ( ra-fail1 ra-fail2 ): destroyed before the next test"; do
	printf '%s\n' "$out" | grep -qxF -- "$want" || { echo "MISSING: $want"; verdict=FAIL; }
done
left=$(xl list | awk 'NR > 2 { print $1 }')
[ -z "$left" ] || { echo "left at the end: $left"; verdict=FAIL; }
echo "selftest-run-all: $verdict"
[ $verdict = ok ]
