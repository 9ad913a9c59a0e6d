#!/bin/sh
# A payload for test/xenvm/run: does a guest's write that grows a node of
# its own past its xenstore memory quota, right after a successful XS_RM,
# kill Debian's xenstored?  (docs/reliability.md, "xenstored dies under the
# hostile guest": a reading of its 4.17.7 source says such a write returns
# a stale errno of 0, so no reply and an assertion.)  The test guest with
# xsa.hostile=quota (test/guest/xsa-hostile.c, quota_sequence), started by
# xl; prints its XSAGENT-GUEST-QUOTA lines and whether xenstored survived.
#   test/xenvm/run test/xenvm/selftest-xsd-quota.sh
name=xsdquota
log=/var/log/xen/console/guest-$name.log
sed -e "s/\"testguest\"/\"$name\"/" -e 's|xsa.marker=anchor|xsa.marker=q xsa.hostile=quota|' \
	/etc/xen/testguest.cfg >/tmp/$name.cfg
xsd=$(pidof xenstored)
xl create -q /tmp/$name.cfg || { echo "FAIL: xl create"; exit 1; }
i=0
while [ $i -lt 600 ]; do
	grep -qa 'XSAGENT-GUEST-QUOTA grows\|XSAGENT-GUEST-HOSTILE-ERROR\|XSAGENT-GUEST-IDLE' $log 2>/dev/null && break
	kill -0 "$xsd" 2>/dev/null || break
	i=$((i + 1)); usleep 500000
done
sleep 2
grep -a 'XSAGENT-GUEST-QUOTA\|XSAGENT-GUEST-HOSTILE-ERROR' $log
if kill -0 "$xsd" 2>/dev/null; then
	echo "selftest-xsd-quota: xenstored (pid $xsd) survived"
	timeout 30 xl destroy $name
	exit 0
fi
echo "selftest-xsd-quota: xenstored (pid $xsd) DIED"
tail -n 5 /var/log/xen/xenstored.log
grep -a xenstored /var/log/messages | tail -n 5
exit 3
