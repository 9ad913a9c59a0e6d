#!/usr/bin/env python3
"""Writes the seed programs of fuzz_task (test/fuzz/fuzz_task.c) into
test/fuzz/corpus/task/.  The crash-* inputs there are regression inputs
(docs/reliability.md says where each comes from); this script leaves them
alone.

    python3 test/fuzz/seedgen/task.py
"""
import os

REQ, LOOP, CLOCK, BUILDER, GUEST, STOP, RESTART, RELOAD, CONFLICT, JUNK = range(10)
# REQ's first argument: the request; second: the target (targets[] in the
# harness); third: the ID (0 new, 14 one used before, 15 65 characters).
K = dict(start=0, stop=1, reboot=2, destroy=3, pause=4, unpause=5, cancel=6,
         refresh=7, unknown=8, noarg=9)
T = dict(web1=0, web2=1, web3=2, domid1=3, web5=4, broken=5, nosuch=6, uuid1=7)
# GUEST's first argument: the VM's place in the agent's list.
V = dict(broken=0, web1=1, web2=2, web3=3, web5=4)
# Configurations (setups[] in the harness): 0 task_max 1; 2 task_max 1 and
# no retention; 3 task_max 3, retention 2 s; 4 queue_max 3; 6 task_max 5;
# 7 task_max 200, retention 1 h.
P, RB, CR, GONE, DYING, TAKES = range(6)   # GUEST's second argument
REPORT, DIES, HALF, REAP = range(4)        # BUILDER's second argument
# JUNK's first argument: the record; second: the task (0: an ID never
# used, k > 0: the client's k-th % the IDs used) or the VM (J_VMS).
J_STATE, J_OP, J_STAGE, J_DOMID, J_VM, J_VMDOMID, J_RESTARTS, J_FIGURES = range(8)
J_VMS = dict(web1=0, web2=1, web3=2, web5=3, broken=4)


def junk(rec, which, val):
    return [JUNK, rec, which, len(val)] + list(val)


def req(kind, tgt=0, idm=0, loop=True):
    return [REQ, K[kind] | (0x80 if loop else 0), tgt, idm]


def built(n):
    return [BUILDER, n, REPORT, LOOP, 0]


SEEDS = {
    'start-done': [7] + req('start', T['web1']) + built(0) + [BUILDER, 0, REAP],
    'start-pvh-stop-poweroff': [7] + req('start', T['web2']) + built(0)
    + req('stop', T['web2']) + [GUEST, V['web2'], TAKES, GUEST, V['web2'], P, LOOP, 1],
    'stop-timeout': [7] + req('start', T['web1']) + built(0) + req('stop', T['web1'])
    + [CLOCK, 4, LOOP, 1],
    'reboot': [7] + req('start', T['web1']) + built(0) + req('reboot', T['web1'])
    + [GUEST, V['web1'], RB, LOOP, 0] + built(1),
    'pause-unpause-destroy': [7] + req('start', T['uuid1']) + built(0)
    + req('pause', T['web1']) + req('unpause', T['domid1']) + req('destroy', T['web1']),
    'queued-cancel': [6] + req('start', T['web1']) + req('stop', T['web1'])
    + req('cancel', 1) + [BUILDER, 0, DIES, LOOP, 0],
    'cancel-start': [7] + req('start', T['web3']) + req('cancel', 1)
    + [BUILDER, 0, REAP],
    'bad-requests': [7] + req('unknown') + req('noarg') + req('start', T['nosuch'])
    + req('start', T['broken']) + req('stop', T['web1']) + req('refresh', 0, 15)
    + req('refresh', 0, 14) + req('cancel', 0),
    'builder-dies': [7] + req('start', T['web1']) + [BUILDER, 0, DIES, LOOP, 0,
                                                      BUILDER, 0, REAP],
    'builder-half': [7] + req('start', T['web1']) + [BUILDER, 0, HALF, LOOP, 0],
    'builder-timeout': [7] + req('start', T['web1']) + [CLOCK, 5, LOOP, 0,
                                                         BUILDER, 0, REAP],
    'poweroff-restart': [7] + req('start', T['web3']) + built(0)
    + [GUEST, V['web3'], P, LOOP, 0] + built(1),
    'guest-crash-restart': [7] + req('start', T['web2']) + built(0)
    + [GUEST, V['web2'], CR, LOOP, 0] + built(1),
    'guest-crash-preserve-then-stop': [7] + req('start', T['web3']) + built(0)
    + [GUEST, V['web3'], CR, LOOP, 0] + req('stop', T['web3']),
    'vanish-dying': [7] + req('start', T['web1']) + req('start', T['web2'])
    + [BUILDER, 0, REPORT, BUILDER, 1, REPORT, LOOP, 1,
       GUEST, V['web1'], GONE, GUEST, V['web2'], DYING, LOOP, 0],
    'sigterm-in-flight': [7] + req('start', T['web1']) + req('start', T['web1'])
    + [STOP, 7, LOOP, 0],
    'sigkill-in-flight': [7] + req('start', T['web2']) + req('pause', T['web2'])
    + [RESTART, 7, LOOP, 0],
    'retention': [3] + req('refresh') + req('refresh') + [CLOCK, 3, LOOP, 0]
    + req('refresh') + [CLOCK, 2, LOOP, 0],
    'queue-max': [4] + req('start', T['web1']) + req('pause', T['web1'])
    + req('pause', T['web1']) + req('refresh') + [LOOP, 0],
    'reload-web5': [7, RELOAD, 1] + req('start', T['web5']) + [RELOAD, 1]
    + built(0) + [RELOAD, 0] + req('stop', T['web5']),
    'conflicts': [7, CONFLICT, 10] + req('refresh', 0, 0, False)
    + req('start', T['web1'], 0, False) + [LOOP, 0, CLOCK, 1, LOOP, 0, CLOCK, 2, LOOP, 3],
    'restart-reads-records': [1] + req('refresh') + req('unknown')
    + [RESTART, 2, LOOP, 0, RESTART, 7],
    # Records read back after a SIGKILL that another writer (or a crash
    # between two writes) left other than the agent wrote them.
    'junk-state-of-a-done-task': [7] + req('refresh') + junk(J_STATE, 1, b'\x1b[2Jrunning')
    + [LOOP, 0],
    'junk-state-gone': [7] + req('refresh') + junk(J_STATE, 1, b''),
    'junk-op-of-a-running-start': [7] + req('start', T['web1']) + junk(J_OP, 1, b'start\nforged')
    + [LOOP, 0],
    'junk-stage-and-vm': [7] + req('start', T['web2']) + built(0) + req('stop', T['web2'])
    + junk(J_STAGE, 2, b'construct') + junk(J_VM, 2, b'\xff\xfeweb2') + [LOOP, 1],
    'junk-domid-of-a-start': [7] + req('start', T['web3']) + junk(J_DOMID, 1, b'-1') + [LOOP, 0]
    + junk(J_DOMID, 1, b'99999999999999999999') + [LOOP, 0],
    'junk-record-never-made': [7] + junk(J_STATE, 0, b'queued') + junk(J_OP, 0, b'start')
    + junk(J_VM, 0, b'web1') + [LOOP, 0],
    'junk-vm-domid-restarts-figures': [7] + req('start', T['web2']) + built(0)
    + junk(J_VMDOMID, J_VMS['web2'], b'7\x07') + junk(J_RESTARTS, J_VMS['web2'], b'1 2 x 99999999999')
    + junk(J_FIGURES, 0, b'0x10') + [GUEST, V['web2'], CR, LOOP, 2],
}

if __name__ == '__main__':
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'corpus', 'task')
    os.makedirs(d, exist_ok=True)
    for name, prog in SEEDS.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(bytes(prog))
