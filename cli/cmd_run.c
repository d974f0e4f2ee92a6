/*
 * cmd_run.c: `sagasim run`: one seeded run, judged (DESIGN §8.1 "CLI, complete").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const char usage[] =
    "usage: sagasim run [--scenario NAME] [--seed N] [--withdrawals K] [--bug NAME]...\n"
    "                   [--swarm] [--crash-at NODE:POINT[:N]] [--trace FILE]\n"
    "                   [--check-determinism]\n"
    "\n"
    "Runs one seeded simulation of the withdrawal saga and judges invariants I1-I10.\n"
    "  --scenario NAME      scenario to run (default: default; list: sagasim scenarios)\n"
    "  --seed N             u64 seed (default: 1); the same seed replays bit for bit\n"
    "  --withdrawals K      fresh withdrawals the clients create (default: the scenario's)\n"
    "  --bug NAME           switch on a planted bug (list: sagasim bugs); repeatable\n"
    "  --swarm              let the seed pick the fault classes and their rates\n"
    "  --crash-at N:P[:K]   crash node N at the K-th hit of fault point P (sagasim crashpoints)\n"
    "  --trace FILE         write every trace record to FILE\n"
    "  --report DIR         write DIR/report.json, junit.xml and index.html (with a timeline)\n"
    "  --check-determinism  run twice and compare the traces record by record\n"
    "  --perturb N          (self-test) with --check-determinism: delay the N-th message of\n"
    "                       the second run by 1 ns, which must be reported as divergence\n"
    "stdout: key=value lines (seed, scenario, hash, verdict, figures, violations, replay).\n"
    "exit: 0 all hold, 1 violation, 2 bad usage, 3 nondeterminism.\n";

static const char allowed[] =
    "scenario,seed,withdrawals,bug,swarm,crash-at,trace,check-determinism,perturb,report";

/* Runs the seed twice with every trace record kept and compares them. Returns the exit
 * code: 3 on divergence (it wins over 1), else that of the first run. */
static int check_determinism(const struct sg_cli_opts *o, struct sg_run_config *rc)
{
    rc->world.keep_trace = true;
    struct sg_world *w[2] = {calloc(1, sizeof(struct sg_world)),
                             calloc(1, sizeof(struct sg_world))};
    struct sg_run_result res[2];
    int code = SG_EXIT_USAGE;
    struct sg_run_config second = *rc;
    second.world.perturb_message = o->perturb;
    if (!w[0] || !w[1] || !sg_run_keep(rc, &res[0], w[0]) ||
        !sg_run_keep(&second, &res[1], w[1])) {
        fprintf(stderr, "sagasim run: out of memory\n");
        goto done;
    }
    sg_cli_print_result(o, rc, &res[0]);
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

static void trace_to_file(void *ctx, int64_t at_ns, uint32_t node, const char *text)
{
    fprintf((FILE *)ctx, "%" PRId64 " %u %s\n", at_ns, node, text);
}

int sg_cmd_run(int argc, char **argv)
{
    struct sg_cli_opts o;
    int p = sg_cli_parse(argc, argv, "run", usage, allowed, &o);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    struct sg_run_config rc;
    sg_cli_config(&o, o.seed, &rc);
    if (o.check_determinism) return check_determinism(&o, &rc);
    FILE *tf = NULL;
    if (o.trace_path) {
        tf = fopen(o.trace_path, "w");
        if (!tf) {
            fprintf(stderr, "sagasim run: cannot write trace file '%s'\n", o.trace_path);
            return SG_EXIT_USAGE;
        }
        rc.trace_sink = trace_to_file;
        rc.trace_ctx = tf;
    }
    double t0 = sg_cli_wall_seconds();
    struct sg_run_result res;
    bool ran = sg_run(&rc, &res);
    double wall = sg_cli_wall_seconds() - t0;
    if (tf) fclose(tf);
    if (!ran) {
        fprintf(stderr, "sagasim run: out of memory\n");
        return SG_EXIT_USAGE;
    }
    sg_cli_print_result(&o, &rc, &res);
    fprintf(stderr, "wall_seconds=%.3f sim_seconds=%.1f speedup=%.0fx\n", wall,
            (double)res.sim_ns / 1e9, wall > 0 ? (double)res.sim_ns / 1e9 / wall : 0.0);
    bool report_ok = true;
    if (o.report_dir) {
        struct sg_report_seed rep;
        sg_cli_seed_report(&o, &rc, &res, wall, &rep);
        char *cmd = sg_cli_command_line(argc, argv);
        report_ok = sg_cli_write_report(&o, cmd, &rep, 1, o.seed, true, wall, 1);
        free(cmd);
        sg_report_seed_deinit(&rep);
    }
    if (!res.ok) return SG_EXIT_VIOLATION;
    return report_ok ? SG_EXIT_OK : SG_EXIT_USAGE;
}
