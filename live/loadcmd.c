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
#include "supervisor.h"

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
            uint64_t open = sg_live_load_await_terminal(o.grpc_addr, &r, 60000);
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
