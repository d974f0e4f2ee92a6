#!/usr/bin/python3
"""kill -9 of any one node, then `live up`: every acknowledged withdrawal is still there
and reaches a terminal state.

usage: restart.py SAGASIM DATA_DIR GRPC_ADDR DESCRIPTOR_SET
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import grpc
from google.protobuf import descriptor_pb2, message_factory

SVC = "/cbsaga.orchestrator.v1.OrchestratorService/"
USER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED,
             grpc.StatusCode.DEADLINE_EXCEEDED)


def main():
    sagasim, data, addr, dset = sys.argv[1:5]
    fds = descriptor_pb2.FileDescriptorSet()
    with open(dset, "rb") as f:
        fds.ParseFromString(f.read())
    m = message_factory.GetMessages(list(fds.file))
    Create = m["cbsaga.orchestrator.v1.CreateWithdrawalRequest"]
    Get = m["cbsaga.orchestrator.v1.GetWithdrawalRequest"]
    ch = grpc.insecure_channel(addr)
    create = ch.unary_unary(SVC + "CreateWithdrawal", request_serializer=Create.SerializeToString,
                            response_deserializer=m["cbsaga.orchestrator.v1.CreateWithdrawalResponse"].FromString)
    get = ch.unary_unary(SVC + "GetWithdrawal", request_serializer=Get.SerializeToString,
                         response_deserializer=m["cbsaga.orchestrator.v1.GetWithdrawalResponse"].FromString)
    acked = {}

    def create_until_answered(key):
        req = Create(user_id=USER, asset="BTC", amount_minor=100, destination_addr="d",
                     idempotency_key=key)
        for _ in range(200):
            try:
                acked[key] = create(req, timeout=2).withdrawal_id
                return
            except grpc.RpcError as e:
                if e.code() not in RETRYABLE:
                    raise
                time.sleep(0.1)
        raise SystemExit("create %s never answered" % key)

    for role in ("broker", "identity", "risk", "orchestrator"):
        for _ in range(10):
            create_until_answered("rs-" + uuid.uuid4().hex)
        with open(os.path.join(data, role, "pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL)
        print("killed %s (pid %d) with %d withdrawals acknowledged" % (role, pid, len(acked)))
        for _ in range(3):  # calls while it is down: retried until `up` brings it back
            key = "rs-" + uuid.uuid4().hex
            subprocess.run([sagasim, "live", "up", "--data", data], check=True,
                           stdout=subprocess.DEVNULL)
            create_until_answered(key)
        with open(os.path.join(data, role, "pid")) as f:
            newpid = int(f.read())
        if newpid == pid:
            raise SystemExit("%s: `live up` did not restart it" % role)

    missing, open_ = [], []
    end = time.time() + 60
    for key, wid in acked.items():
        while True:
            try:
                g = get(Get(withdrawal_id=wid), timeout=2)
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.NOT_FOUND:
                    missing.append(wid)
                    break
                if e.code() not in RETRYABLE or time.time() > end:
                    raise
                time.sleep(0.1)
                continue
            if g.status in ("COMPLETED", "FAILED", "CANCELED"):
                break
            if time.time() > end:
                open_.append((wid, g.status))
                break
            time.sleep(0.05)
    print("acknowledged=%d missing=%d not_terminal=%d" % (len(acked), len(missing), len(open_)))
    ok = not missing and not open_
    print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
