/*
 * loadcmd.c (live): `sagasim live load` and `sagasim live bench` (live.h): the load
 * generator against running nodes, its history written for the checker, and the figures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "live_env.h"
#include "load.h"
#include "paths.h"
#include "grpcc.h"
#include "status.h"
#include "supervisor.h"
#include "wire.h"

static void print_figures(const struct sg_live_load_result *r)
{
    printf("creates=%" PRIu64 "\ngets=%" PRIu64 "\nok=%" PRIu64 "\nunanswered=%" PRIu64 "\n",
           r->creates, r->gets, r->ok, r->unanswered);
    printf("aborted=%" PRIu64 "\nunavailable=%" PRIu64 "\nfailed_precondition=%" PRIu64
           "\ntransport_errors=%" PRIu64 "\n",
           r->by_code[10], r->by_code[14], r->by_code[9], r->transport_errors);
    printf("creates_per_s=%.1f\ncreate_p50_ms=%.2f\ncreate_p99_ms=%.2f\ncreate_max_ms=%.2f\n",
           r->seconds > 0 ? (double)r->creates / r->seconds : 0.0, r->create_p50_ms,
           r->create_p99_ms, r->create_max_ms);
}

/* Runs the load of o against the nodes of o->data_dir; writes DATA/history.jsonl. */
int sg_live_load_cmd(const struct sg_live_opts *in)
{
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    struct sg_live_load_opts lo = {.grpc_addr = o.grpc_addr, .rate = o.rate,
                                   .duration_ms = o.duration_ms, .clients = o.clients,
                                   .dup_pct = o.dup_pct, .retry_pct = 10, .get_pct = 20,
                                   .settle_ms = 30000, .seed = o.seed,
                                   .t0_mono_ns = sg_live_mono_ns()};
    struct sg_live_load_result r;
    char err[512];
    int code = 0;
    if (!sg_live_load_run(&lo, &r, err, sizeof err)) {
        fprintf(stderr, "sagasim live load: %s (is it up? sagasim live up --data %s)\n", err,
                o.data_dir);
        code = 1;
    } else {
        char *path = sg_live_path(o.data_dir, NULL, "history.jsonl");
        if (!sg_live_load_write_history(&r, path)) {
            fprintf(stderr, "sagasim live load: cannot write %s\n", path);
            code = 1;
        }
        print_figures(&r);
        printf("history=%s\n", path);
        free(path);
    }
    sg_live_load_result_free(&r);
    free(grpc_owned);
    return code;
}

/* Polls each acknowledged withdrawal until terminal; returns when all are (or the bound). */
static uint64_t wait_all_terminal(const char *grpc, const struct sg_live_load_result *r,
                                  int64_t bound_ms)
{
    struct sg_grpcc c;
    char err[256];
    if (sg_grpcc_open(&c, grpc, err, sizeof err) != 0) return r->n_acked;
    int64_t end = sg_live_mono_ns() + bound_ms * 1000000LL;
    uint64_t open = 0;
    for (size_t i = 0; i < r->n_acked; i++) {
        bool done = false;
        while (!done && sg_live_mono_ns() < end) {
            Cbsaga__Orchestrator__V1__GetWithdrawalRequest q =
                CBSAGA__ORCHESTRATOR__V1__GET_WITHDRAWAL_REQUEST__INIT;
            q.withdrawal_id = r->acked_ids[i];
            uint8_t buf[128];
            size_t len = cbsaga__orchestrator__v1__get_withdrawal_request__pack(&q, buf);
            struct sg_grpcc_reply rep;
            sg_grpcc_call(&c, "/cbsaga.orchestrator.v1.OrchestratorService/GetWithdrawal", buf,
                          len, NULL, 2000, &rep);
            Cbsaga__Orchestrator__V1__GetWithdrawalResponse *g =
                rep.status == 0 ? cbsaga__orchestrator__v1__get_withdrawal_response__unpack(
                                      NULL, rep.body_len, rep.body)
                                : NULL;
            done = g && sg_status_terminal(sg_status_parse(g->status));
            if (g) cbsaga__orchestrator__v1__get_withdrawal_response__free_unpacked(g, NULL);
            sg_grpcc_reply_free(&rep);
            if (!done) sg_live_sleep_ms(2);
        }
        open += !done;
    }
    sg_grpcc_close(&c);
    return open;
}

int sg_live_bench_cmd(const struct sg_live_opts *in)
{
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    bool were_up = sg_live_running_pid(o.data_dir, "orchestrator") > 0;
    int code = sg_live_up(&o, true);
    struct sg_live_load_result r = {0};
    if (code == 0) {
        int64_t t0 = sg_live_mono_ns();
        struct sg_live_load_opts lo = {.grpc_addr = o.grpc_addr, .rate = o.rate,
                                       .duration_ms = o.duration_ms, .clients = o.clients,
                                       .settle_ms = 10000, .seed = o.seed, .t0_mono_ns = t0,
                                       .quiet = false};
        char err[512];
        if (!sg_live_load_run(&lo, &r, err, sizeof err)) {
            fprintf(stderr, "sagasim live bench: %s\n", err);
            code = 1;
        } else {
            uint64_t open = wait_all_terminal(o.grpc_addr, &r, 60000);
            double e2e = (double)(sg_live_mono_ns() - t0) / 1e9;
            printf("clients=%u\nseconds=%.1f\nsynchronous=FULL\n", o.clients, e2e);
            print_figures(&r);
            printf("withdrawals=%zu\nnot_terminal=%" PRIu64 "\nwithdrawals_per_s=%.1f\n",
                   r.n_acked, open, e2e > 0 ? (double)(r.n_acked - open) / e2e : 0.0);
        }
    }
    sg_live_load_result_free(&r);
    if (!were_up) sg_live_down(&o);
    free(grpc_owned);
    return code;
}
