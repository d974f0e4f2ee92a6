#!/usr/bin/python3
"""Interop test with Debian's python3-grpcio (gRPC core): calls a running `sagasim live`
orchestrator through the project's own .proto files (compiled to a descriptor set by
protoc-c at test time) and checks every case of the issue's interop list.

usage: interop.py GRPC_ADDR DESCRIPTOR_SET
"""
import concurrent.futures
import sys
import time
import uuid

import grpc
from google.protobuf import descriptor_pb2, message_factory

SVC = "/cbsaga.orchestrator.v1.OrchestratorService/"
USER = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + (": " + detail if detail and not cond else ""))
    if not cond:
        failures.append(name)


def messages(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    return message_factory.GetMessages(list(fds.file))


def main():
    addr, dset = sys.argv[1], sys.argv[2]
    m = messages(dset)
    Create = m["cbsaga.orchestrator.v1.CreateWithdrawalRequest"]
    CreateResp = m["cbsaga.orchestrator.v1.CreateWithdrawalResponse"]
    Get = m["cbsaga.orchestrator.v1.GetWithdrawalRequest"]
    GetResp = m["cbsaga.orchestrator.v1.GetWithdrawalResponse"]
    ch = grpc.insecure_channel(addr)
    grpc.channel_ready_future(ch).result(timeout=10)
    create = ch.unary_unary(SVC + "CreateWithdrawal", request_serializer=Create.SerializeToString,
                            response_deserializer=CreateResp.FromString)
    get = ch.unary_unary(SVC + "GetWithdrawal", request_serializer=Get.SerializeToString,
                         response_deserializer=GetResp.FromString)

    def code_of(fn, req):
        try:
            return fn(req, timeout=10, metadata=[("x-trace-id", "py" + uuid.uuid4().hex[:16])]), None
        except grpc.RpcError as e:
            return None, e

    key = "py-" + uuid.uuid4().hex
    req = Create(user_id=USER, asset="BTC", amount_minor=1000, destination_addr="addr-1",
                 idempotency_key=key)
    r1, e = code_of(create, req)
    check("create OK", e is None and len(r1.withdrawal_id) == 36, str(e))
    r2, e = code_of(create, req)
    check("exact retry -> same id", e is None and r2.withdrawal_id == r1.withdrawal_id, str(e))
    other = Create(user_id=USER, asset="BTC", amount_minor=2000, destination_addr="addr-1",
                   idempotency_key=key)
    _, e = code_of(create, other)
    check("same key, other payload -> FAILED_PRECONDITION",
          e is not None and e.code() == grpc.StatusCode.FAILED_PRECONDITION, str(e))
    bad = Create(user_id=USER, asset="BTC", amount_minor=0, destination_addr="a",
                 idempotency_key="py-bad")
    _, e = code_of(create, bad)
    check("invalid amount -> INVALID_ARGUMENT",
          e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT, str(e))
    _, e = code_of(get, Get(withdrawal_id=str(uuid.uuid4())))
    check("unknown id -> NOT_FOUND", e is not None and e.code() == grpc.StatusCode.NOT_FOUND, str(e))
    nope = ch.unary_unary(SVC + "DeleteWithdrawal", request_serializer=lambda b: b,
                          response_deserializer=lambda b: b)
    try:
        nope(b"", timeout=10)
        check("unknown method -> UNIMPLEMENTED", False, "answered OK")
    except grpc.RpcError as e2:
        check("unknown method -> UNIMPLEMENTED", e2.code() == grpc.StatusCode.UNIMPLEMENTED, str(e2))
    health = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                            response_deserializer=lambda b: b)
    check("health SERVING", health(b"", timeout=10) == b"\x08\x01")

    # 16 concurrent duplicates of one key: one withdrawal id; ABORTED carries it too.
    dkey = "py-dup-" + uuid.uuid4().hex
    dreq = Create(user_id=USER, asset="ETH", amount_minor=5, destination_addr="addr-2",
                  idempotency_key=dkey)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        futs = [pool.submit(lambda: create.with_call(dreq, timeout=10)) for _ in range(16)]
        ids, aborted, other_codes = set(), 0, []
        for f in futs:
            try:
                resp, _call = f.result()
                ids.add(resp.withdrawal_id)
            except grpc.RpcError as e3:
                if e3.code() == grpc.StatusCode.ABORTED:
                    aborted += 1
                    trailer = dict(e3.trailing_metadata() or ()).get("x-withdrawal-id")
                    if trailer:
                        ids.add(trailer)
                else:
                    other_codes.append(e3.code())
    final, e = code_of(create, dreq)
    if e is None:
        ids.add(final.withdrawal_id)
    check("16 concurrent duplicates -> one id", len(ids) == 1 and not other_codes,
          "ids=%s aborted=%d other=%s" % (ids, aborted, other_codes))

    deadline = time.time() + 30
    status = ""
    while time.time() < deadline:
        g, e = code_of(get, Get(withdrawal_id=r1.withdrawal_id))
        status = g.status if g else str(e)
        if status in ("COMPLETED", "FAILED", "CANCELED"):
            break
        time.sleep(0.05)
    check("withdrawal reaches COMPLETED", status == "COMPLETED", status)
    print("%d passed, %d failed" % (9 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
