/*
 * cmd_run.c: `sagasim run`: one seeded run, judged (DESIGN §8.1 "CLI, complete").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: sagasim run [--scenario NAME] [--seed N] [--withdrawals K] [--trace FILE]\n"
    "                   [--check-determinism]\n"
    "\n"
    "Runs one seeded simulation of the withdrawal saga and judges invariants I1-I10.\n"
    "  --scenario NAME      scenario to run (default: default)\n"
    "  --seed N             u64 seed (default: 1); the same seed replays bit for bit\n"
    "  --withdrawals K      fresh withdrawals the clients create (default: 200)\n"
    "  --trace FILE         write every trace record to FILE\n"
    "  --check-determinism  run twice and compare the traces record by record\n"
    "stdout: key=value lines (seed, scenario, hash, verdict, figures, violations, replay).\n"
    "exit: 0 all hold, 1 violation, 2 bad usage, 3 nondeterminism.\n";

struct run_args {
    const char *trace_path;
    bool check_determinism;
};

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "sagasim run: %s '%s' (see sagasim run --help)\n", what, arg ? arg : "");
    return SG_EXIT_USAGE;
}

static int parse(int argc, char **argv, struct sg_run_config *rc, struct run_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        } else if (strcmp(opt, "--check-determinism") == 0) {
            a->check_determinism = true;
        } else if (!val) {
            return bad("missing value for", opt);
        } else if (strcmp(opt, "--seed") == 0) {
            if (!sg_cli_parse_u64(val, &n)) return bad("invalid seed", val);
            rc->seed = n;
            i++;
        } else if (strcmp(opt, "--withdrawals") == 0) {
            if (!sg_cli_parse_u64(val, &n) || n == 0 || n > 1000000)
                return bad("invalid --withdrawals (1..1000000)", val);
            rc->wl.withdrawals = (uint32_t)n;
            i++;
        } else if (strcmp(opt, "--scenario") == 0) {
            if (strcmp(val, "default") != 0) return bad("unknown scenario", val);
            i++;
        } else if (strcmp(opt, "--trace") == 0) {
            a->trace_path = val;
            i++;
        } else {
            return bad("unknown option", opt);
        }
    }
    return 0;
}

static void trace_to_file(void *ctx, int64_t at_ns, uint32_t node, const char *text)
{
    fprintf((FILE *)ctx, "%" PRId64 " %u %s\n", at_ns, node, text);
}

/* Runs the seed twice with every trace record kept and compares them. Returns the exit
 * code: 3 on divergence (it wins over 1), else that of the first run. */
static int check_determinism(struct sg_run_config *rc)
{
    rc->world.keep_trace = true;
    struct sg_world *w[2] = {calloc(1, sizeof(struct sg_world)), calloc(1, sizeof(struct sg_world))};
    struct sg_run_result res[2];
    int code = SG_EXIT_USAGE;
    if (!w[0] || !w[1] || !sg_run_keep(rc, &res[0], w[0]) || !sg_run_keep(rc, &res[1], w[1])) {
        fprintf(stderr, "sagasim run: out of memory\n");
        goto done;
    }
    sg_cli_print_result(rc, &res[0]);
    uint64_t k = 0;
    if (sg_trace_log_diverge(&w[0]->trace, &w[1]->trace, &k) || res[0].hash != res[1].hash) {
        printf("determinism=diverged record=%" PRIu64 "\n", k);
        for (int i = 0; i < 2; i++)
            printf("record.%d=%s\n", i + 1,
                   k < w[i]->trace.count ? w[i]->trace.records[k] : "(end of trace)");
        code = SG_EXIT_NONDETERMINISM;
    } else {
        printf("determinism=ok\n");
        code = res[0].ok ? SG_EXIT_OK : SG_EXIT_VIOLATION;
    }
done:
    for (int i = 0; i < 2; i++) {
        if (w[i]) sg_world_deinit(w[i]);
        free(w[i]);
    }
    return code;
}

int sg_cmd_run(int argc, char **argv)
{
    struct sg_run_config rc;
    sg_run_config_default(&rc, 1);
    struct run_args a = {0};
    int p = parse(argc, argv, &rc, &a);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    if (a.check_determinism) return check_determinism(&rc);
    FILE *tf = NULL;
    if (a.trace_path) {
        tf = fopen(a.trace_path, "w");
        if (!tf) {
            fprintf(stderr, "sagasim run: cannot write trace file '%s'\n", a.trace_path);
            return SG_EXIT_USAGE;
        }
        rc.trace_sink = trace_to_file;
        rc.trace_ctx = tf;
    }
    double t0 = sg_cli_wall_seconds();
    struct sg_run_result res;
    if (!sg_run(&rc, &res)) {
        fprintf(stderr, "sagasim run: out of memory\n");
        return SG_EXIT_USAGE;
    }
    double wall = sg_cli_wall_seconds() - t0;
    if (tf) fclose(tf);
    sg_cli_print_result(&rc, &res);
    fprintf(stderr, "wall_seconds=%.3f sim_seconds=%.1f speedup=%.0fx\n", wall,
            (double)res.sim_ns / 1e9, wall > 0 ? (double)res.sim_ns / 1e9 / wall : 0.0);
    return res.ok ? SG_EXIT_OK : SG_EXIT_VIOLATION;
}
