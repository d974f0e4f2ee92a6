/*
 * demo.c (live): `sagasim live demo`: bring every node up, call the service the way the
 * reference README does, follow one withdrawal to its end, and show how other gRPC
 * clients call it. --once stops everything at the end.
 */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "grpcc.h"
#include "status.h"
#include "live_env.h"
#include "supervisor.h"
#include "wire.h"

#ifndef SG_PROTO_DIR
#define SG_PROTO_DIR "proto"
#endif

enum { CALL_TIMEOUT_MS = 5000, POLL_MS = 5, TERMINAL_WAIT_MS = 40000 };

static const char create_path[] = "/cbsaga.orchestrator.v1.OrchestratorService/CreateWithdrawal";
static const char get_path[] = "/cbsaga.orchestrator.v1.OrchestratorService/GetWithdrawal";
static const char user[] = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";

static void create(struct sg_grpcc *c, const char *key, int64_t amount,
                   struct sg_grpcc_reply *r)
{
    Cbsaga__Orchestrator__V1__CreateWithdrawalRequest q =
        CBSAGA__ORCHESTRATOR__V1__CREATE_WITHDRAWAL_REQUEST__INIT;
    q.user_id = (char *)user;
    q.asset = (char *)"ASSET";
    q.amount_minor = amount;
    q.destination_addr = (char *)"DESTINATION_ADDR";
    q.idempotency_key = (char *)key;
    uint8_t buf[512];
    size_t n = cbsaga__orchestrator__v1__create_withdrawal_request__pack(&q, buf);
    sg_grpcc_call(c, create_path, buf, n, NULL, CALL_TIMEOUT_MS, r);
}

static void get(struct sg_grpcc *c, const char *id, struct sg_grpcc_reply *r)
{
    Cbsaga__Orchestrator__V1__GetWithdrawalRequest q =
        CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
    q.withdrawal_id = (char *)id;
    uint8_t buf[128];
    size_t n = cbsaga__orchestrator__v1__get_withdrawal_request__pack(&q, buf);
    sg_grpcc_call(c, get_path, buf, n, NULL, CALL_TIMEOUT_MS, r);
}

static const char *code_name(int status)
{
    return status < 0 ? "TRANSPORT_ERROR" : sg_code_name((uint32_t)status);
}

/* Prints one answer; returns the create response's withdrawal id (or "") into id. */
static void show(const char *what, struct sg_grpcc_reply *r, char *id, size_t cap)
{
    printf("%-52s -> %s", what, code_name(r->status));
    if (r->status == 0) {
        Cbsaga__Orchestrator__V1__CreateWithdrawalResponse *resp =
            cbsaga__orchestrator__v1__create_withdrawal_response__unpack(NULL, r->body_len,
                                                                         r->body);
        if (resp) {
            printf(" withdrawal_id=%s status=%s", resp->withdrawal_id, resp->status);
            if (id) snprintf(id, cap, "%s", resp->withdrawal_id);
            cbsaga__orchestrator__v1__create_withdrawal_response__free_unpacked(resp, NULL);
        }
    } else if (r->message[0]) {
        printf(" (%s)", r->message);
    }
    printf("\n");
}

/* Polls GetWithdrawal until terminal; prints the states seen. True when terminal. */
static bool follow(struct sg_grpcc *c, const char *id)
{
    char path[256] = "";
    char last[32] = "";
    bool terminal = false;
    for (int waited = 0; waited < TERMINAL_WAIT_MS && !terminal; waited += POLL_MS) {
        struct sg_grpcc_reply r;
        get(c, id, &r);
        Cbsaga__Orchestrator__V1__GetWithdrawalResponse *g =
            r.status == 0 ? cbsaga__orchestrator__v1__get_withdrawal_response__unpack(
                                NULL, r.body_len, r.body)
                          : NULL;
        if (g && strcmp(g->status, last) != 0) {
            snprintf(last, sizeof last, "%s", g->status);
            size_t used = strlen(path);
            snprintf(path + used, sizeof path - used, "%s%s", used ? " -> " : "", g->status);
            terminal = sg_status_terminal(sg_status_parse(g->status));
            if (terminal && g->failure_reason[0]) {
                used = strlen(path);
                snprintf(path + used, sizeof path - used, " (%s)", g->failure_reason);
            }
        }
        if (g) cbsaga__orchestrator__v1__get_withdrawal_response__free_unpacked(g, NULL);
        sg_grpcc_reply_free(&r);
        if (!terminal) sg_live_sleep_ms(POLL_MS);
    }
    printf("%-52s -> %s\n", "GetWithdrawal, polled until terminal", path[0] ? path : "(none)");
    return terminal;
}

static void print_clients(const char *grpc)
{
    printf("\nCall it from any gRPC client (the service speaks plain h2c on %s):\n", grpc);
    printf("  python3-grpcio (/usr/bin/python3), with the proto compiled by protoc-c:\n"
           "    protoc-c --descriptor_set_out=api.pb --include_imports -I %s \\\n"
           "        %s/cbsaga/orchestrator/v1/orchestrator.proto\n"
           "    import grpc; from google.protobuf import descriptor_pb2, message_factory\n"
           "    fds = descriptor_pb2.FileDescriptorSet.FromString(open('api.pb', 'rb').read())\n"
           "    m = message_factory.GetMessages(list(fds.file))\n"
           "    Req = m['cbsaga.orchestrator.v1.CreateWithdrawalRequest']\n"
           "    Resp = m['cbsaga.orchestrator.v1.CreateWithdrawalResponse']\n"
           "    call = grpc.insecure_channel('%s').unary_unary(\n"
           "        '/cbsaga.orchestrator.v1.OrchestratorService/CreateWithdrawal',\n"
           "        Req.SerializeToString, Resp.FromString)\n"
           "    print(call(Req(user_id='%s', asset='BTC',\n"
           "        amount_minor=1000, destination_addr='addr', idempotency_key='k1')))\n",
           SG_PROTO_DIR, SG_PROTO_DIR, grpc, user);
    printf("  Node (@grpc/grpc-js + @grpc/proto-loader):\n"
           "    const grpc = require('@grpc/grpc-js'), loader = require('@grpc/proto-loader');\n"
           "    const def = loader.loadSync('cbsaga/orchestrator/v1/orchestrator.proto',\n"
           "        {includeDirs: ['%s'], keepCase: true});\n"
           "    const svc = grpc.loadPackageDefinition(def).cbsaga.orchestrator.v1;\n"
           "    new svc.OrchestratorService('%s', grpc.credentials.createInsecure())\n"
           "      .GetWithdrawal({withdrawal_id: '<id>'}, (err, res) => console.log(err, res));\n",
           SG_PROTO_DIR, grpc);
    printf("  Health: grpc.health.v1.Health/Check answers SERVING.\n");
}

static int run_calls(const char *grpc)
{
    struct sg_grpcc c;
    char err[256];
    if (sg_grpcc_open(&c, grpc, err, sizeof err) != 0) {
        fprintf(stderr, "sagasim live demo: %s\n", err);
        return 1;
    }
    char key[64];
    snprintf(key, sizeof key, "demo-%lld", (long long)(sg_live_wall_ns() / 1000000));
    char id[64] = "", id2[64] = "", what[96];
    struct sg_grpcc_reply r;
    snprintf(what, sizeof what, "CreateWithdrawal key=%s", key);
    create(&c, key, 1000000, &r);
    show(what, &r, id, sizeof id);
    sg_grpcc_reply_free(&r);
    create(&c, key, 1000000, &r);
    show("CreateWithdrawal, the exact retry", &r, id2, sizeof id2);
    sg_grpcc_reply_free(&r);
    create(&c, key, 2000000, &r);
    show("CreateWithdrawal, same key, amount 2000000", &r, NULL, 0);
    sg_grpcc_reply_free(&r);
    create(&c, "demo-invalid", -5, &r);
    show("CreateWithdrawal, amount_minor=-5", &r, NULL, 0);
    sg_grpcc_reply_free(&r);
    get(&c, "00000000-0000-4000-8000-000000000000", &r);
    show("GetWithdrawal 00000000-0000-4000-8000-000000000000", &r, NULL, 0);
    sg_grpcc_reply_free(&r);
    int code = 0;
    if (!id[0]) {
        fprintf(stderr, "sagasim live demo: the create was not answered OK\n");
        code = 1;
    } else if (strcmp(id, id2) != 0) {
        fprintf(stderr, "sagasim live demo: the retry got another withdrawal id\n");
        code = 1;
    } else if (!follow(&c, id)) {
        code = 1;
    }
    sg_grpcc_close(&c);
    return code;
}

int sg_live_demo(const struct sg_live_opts *in)
{
    int64_t t0 = sg_live_wall_ns();
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    int code = sg_live_up(&o, false);
    if (code == 0) {
        printf("\n");
        code = run_calls(o.grpc_addr);
        print_clients(o.grpc_addr);
    }
    if (o.once) {
        printf("\n");
        fflush(stdout);
        int down = sg_live_down(&o);
        if (code == 0) code = down;
    } else {
        printf("\nThe nodes keep running: `sagasim live status|logs|down --data %s`.\n",
               o.data_dir);
    }
    fprintf(stderr, "sagasim live demo: %.1f s\n", (double)(sg_live_wall_ns() - t0) / 1e9);
    free(grpc_owned);
    return code;
}
