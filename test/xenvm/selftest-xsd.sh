#!/bin/sh
# A payload for test/xenvm/run: can a guest kill Debian's xenstored (4.17.7)
# with MODE, a sequence of test/guest/xsa-hostile.c?  (docs/reliability.md,
# "xenstored dies under the hostile guest".)  The test guest with
# xsa.hostile=MODE, started by xl; prints its XSAGENT-GUEST-QUOTA or
# XSAGENT-GUEST-SPECIAL lines and whether xenstored survived.
#   quota    a write that grows a node of its own past its memory quota,
#            right after a successful XS_RM (a reading that did not hold:
#            xenstored survived)
#   special  XS_SET_PERMS of @releaseDomain right after a successful
#            XS_WATCH (the cause found: xenstored aborts)
#   twoargs  XS_READ of a payload of two strings right after a successful
#            XS_WATCH (the same stale errno on another path)
#   test/xenvm/run test/xenvm/selftest-xsd.sh quota|special|twoargs
# Exit status: 0 xenstored survived, 3 it died, 1 the guest did not start.
mode=${1:?usage: selftest-xsd.sh quota|special|twoargs}
name=xsd$mode
log=/var/log/xen/console/guest-$name.log
sed -e "s/\"testguest\"/\"$name\"/" -e "s|xsa.marker=anchor|xsa.marker=q xsa.hostile=$mode|" \
	/etc/xen/testguest.cfg >/tmp/$name.cfg
xsd=$(pidof xenstored)
xl create -q /tmp/$name.cfg || { echo "FAIL: xl create"; exit 1; }
i=0
while [ $i -lt 600 ]; do
	grep -qa 'XSAGENT-GUEST-QUOTA grows\|XSAGENT-GUEST-SPECIAL tries\|XSAGENT-GUEST-HOSTILE-ERROR\|XSAGENT-GUEST-IDLE' $log 2>/dev/null && break
	kill -0 "$xsd" 2>/dev/null || break
	i=$((i + 1)); usleep 500000
done
sleep 2
grep -a 'XSAGENT-GUEST-QUOTA\|XSAGENT-GUEST-SPECIAL\|XSAGENT-GUEST-HOSTILE-ERROR' $log
if kill -0 "$xsd" 2>/dev/null; then
	echo "selftest-xsd $mode: xenstored (pid $xsd) survived"
	timeout 30 xl destroy $name
	exit 0
fi
echo "selftest-xsd $mode: xenstored (pid $xsd) DIED"
tail -n 5 /var/log/xen/xenstored.log
grep -a xenstored /var/log/messages | tail -n 5
exit 3
