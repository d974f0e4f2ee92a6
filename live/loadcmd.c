/*
 * loadcmd.c (live): `sagasim live load` and `sagasim live bench` (live.h): the load
 * generator against running nodes, its history written for the checker, and the figures.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* One bench round on the nodes of o (started and stopped here unless already running):
 * prints the figures with prefix ("" or "normal_"). */
static int bench_round(const struct sg_live_opts *o, const char *prefix)
{
    bool were_up = sg_live_running_pid(o->data_dir, "orchestrator") > 0;
    int code = sg_live_up(o, true);
    struct sg_live_load_result r = {0};
    if (code == 0) {
        int64_t t0 = sg_live_mono_ns();
        struct sg_live_load_opts lo = {.grpc_addr = o->grpc_addr, .rate = o->rate,
                                       .duration_ms = o->duration_ms, .clients = o->clients,
                                       .settle_ms = 10000, .seed = o->seed, .t0_mono_ns = t0};
        char err[512];
        if (!sg_live_load_run(&lo, &r, err, sizeof err)) {
            fprintf(stderr, "sagasim live bench: %s\n", err);
            code = 1;
        } else {
            uint64_t open = sg_live_load_await_terminal(o->grpc_addr, &r, 60000);
            double e2e = (double)(sg_live_mono_ns() - t0) / 1e9;
            printf("%swithdrawals=%zu\n%snot_terminal=%" PRIu64 "\n%swithdrawals_per_s=%.1f\n"
                   "%screates_per_s=%.1f\n%screate_p50_ms=%.2f\n%screate_p99_ms=%.2f\n"
                   "%screate_max_ms=%.2f\n",
                   prefix, r.n_acked, prefix, open, prefix,
                   e2e > 0 ? (double)(r.n_acked - open) / e2e : 0.0, prefix,
                   r.seconds > 0 ? (double)r.creates / r.seconds : 0.0, prefix, r.create_p50_ms,
                   prefix, r.create_p99_ms, prefix, r.create_max_ms);
        }
    }
    sg_live_load_result_free(&r);
    if (!were_up) {
        fflush(stdout);
        int saved = dup(1); /* down's "stopped=" lines are not figures */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        sg_live_down(o);
        fflush(stdout);
        if (saved >= 0) dup2(saved, 1);
        if (devnull >= 0) close(devnull);
        if (saved >= 0) close(saved);
    }
    return code;
}

/* live bench: the figures at synchronous=FULL (what every acknowledgement relies on), then
 * on a fresh data directory beside it at synchronous=NORMAL, to show what fsync costs. */
int sg_live_bench_cmd(const struct sg_live_opts *in)
{
    char *grpc_owned = NULL;
    struct sg_live_opts o;
    sg_live_resolve(in, &o, &grpc_owned);
    if (!in->console_addr) o.console_addr = "off"; /* figures only */
    printf("clients=%u\nduration_s=%.1f\n", o.clients, (double)o.duration_ms / 1000.0);
    fflush(stdout);
    int code = bench_round(&o, "");
    if (code == 0) {
        char *dir = sg_live_path(o.data_dir, NULL, "bench-normal");
        struct sg_live_opts n = o;
        n.data_dir = dir;
        n.sync_normal = true;
        n.console_addr = "off";
        code = bench_round(&n, "normal_");
        free(dir);
    }
    free(grpc_owned);
    return code;
}
