/*
 * cmd_shrink.c: `sagasim shrink` and `sagasim replay` (issue: shrinking a failure).
 *
 * shrink runs the failing seed, then cuts it down while the same invariant still fails:
 * first the workload (halving --withdrawals), then the background fault classes that are
 * not discrete (transient I/O errors, clock skew), then the discrete faults by delta
 * debugging (Zeller's ddmin) over their ordinals on the fault tape. Each test is one
 * deterministic run; the budget is --max-runs. It writes the minimal tape; replay runs a
 * tape and judges it like `run`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "tape.h"

static const char shrink_usage[] =
    "usage: sagasim shrink [--scenario NAME] --seed N [--bug NAME]... [--withdrawals K]\n"
    "                      [--out FILE] [--max-runs M]\n"
    "       sagasim shrink --tape FILE [--out FILE] [--max-runs M]\n"
    "         (a failing tape, e.g. from replay --fuzz-input fuzz_world FILE --out TAPE:\n"
    "          its faults are cut down; scenario, seed, withdrawals and bugs stay)\n"
    "\n"
    "Cuts a failing run down to a minimal fault tape that still violates the same\n"
    "invariant: fewer withdrawals, fewer fault classes, fewer faults (delta debugging).\n"
    "Writes FILE (default shrunk.tape); replay it with: sagasim replay --tape FILE\n"
    "exit: 0 a minimal tape was written, 2 the given run does not fail (or bad usage).\n";

static const char replay_usage[] =
    "usage: sagasim replay --tape FILE [--report DIR]\n"
    "       sagasim replay --fuzz-input fuzz_idempotency FILE [--bug NAME]...\n"
    "\n"
    "Runs the run a fault tape describes and judges it; output and exit codes as run.\n"
    "  --report DIR  write the report of the replayed run, with its timeline picture\n"
    "With --fuzz-input, re-runs a fuzzer's input (a crash file or corpus entry) as the\n"
    "target does: prints the decoded operations, the verdict and the violation.\n";

/* What a shrinking test must reproduce: the invariant of the first violation. */
struct target {
    int inv;                   /* SG_I1..SG_I10; 0: an assertion failure */
    uint64_t runs, max_runs;
};

static bool fails(struct target *tg, const struct sg_tape *t, struct sg_run_result *res)
{
    struct sg_run_config rc;
    sg_tape_apply(t, &rc);
    tg->runs++;
    if (!sg_run(&rc, res) || res->ok) return false;
    return tg->inv == 0 ? res->panicked : res->report.failed[tg->inv] > 0;
}

/* Tests the ordinal subset keep[0..n). */
static bool fails_with(struct target *tg, struct sg_tape *t, const uint64_t *keep, size_t n)
{
    uint64_t *saved = t->faults;
    size_t saved_n = t->n_faults;
    t->faults = (uint64_t *)keep;
    t->n_faults = n;
    struct sg_run_result res;
    bool f = fails(tg, t, &res);
    t->faults = saved;
    t->n_faults = saved_n;
    return f;
}

/* ddmin: the smallest failing subset of cur[0..*n) it finds within the budget. */
static void ddmin(struct target *tg, struct sg_tape *t, uint64_t *cur, size_t *n)
{
    uint64_t *trial = malloc((*n ? *n : 1) * sizeof *trial);
    if (!trial) return;
    size_t parts = 2;
    if (fails_with(tg, t, cur, 0)) *n = 0; /* no fault needed at all */
    while (*n >= 2 && tg->runs < tg->max_runs) {
        bool reduced = false;
        size_t chunk = (*n + parts - 1) / parts;
        for (size_t pass = 0; pass < 2 && !reduced; pass++) {
            for (size_t start = 0; start < *n && !reduced && tg->runs < tg->max_runs;
                 start += chunk) {
                size_t end = start + chunk < *n ? start + chunk : *n, m = 0;
                for (size_t i = 0; i < *n; i++) /* pass 0: the chunk; 1: its complement */
                    if ((i >= start && i < end) == (pass == 0)) trial[m++] = cur[i];
                if (m == 0 || m == *n || !fails_with(tg, t, trial, m)) continue;
                memcpy(cur, trial, m * sizeof *cur);
                *n = m;
                parts = pass == 0 ? 2 : (parts > 2 ? parts - 1 : 2);
                reduced = true;
            }
        }
        if (!reduced) {
            if (parts >= *n) break;
            parts = parts * 2 < *n ? parts * 2 : *n;
        }
    }
    free(trial);
}

/* Halves the workload while the run still fails. */
static void shrink_workload(struct target *tg, struct sg_tape *t, uint32_t start)
{
    uint32_t w = start;
    while (w > 1 && tg->runs < tg->max_runs) {
        t->opts.withdrawals = w / 2;
        struct sg_run_result res;
        if (!fails(tg, t, &res)) break;
        w /= 2;
    }
    t->opts.withdrawals = w;
}

static void shrink_classes(struct target *tg, struct sg_tape *t)
{
    struct sg_run_result res;
    t->io_off = true;
    if (!fails(tg, t, &res)) t->io_off = false;
    t->skew_off = true;
    if (!fails(tg, t, &res)) t->skew_off = false;
}

static int shrink_parse(int argc, char **argv, struct sg_cli_opts *o, uint64_t *max_runs)
{
    /* --max-runs is shrink's own; strip it before the shared parser sees argv. */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int n = 0;
    if (!args) return SG_EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--max-runs") == 0 && i + 1 < argc) {
            if (!sg_cli_parse_u64(argv[++i], max_runs) || *max_runs == 0) {
                fprintf(stderr, "sagasim shrink: invalid --max-runs '%s'\n", argv[i]);
                free(args);
                return SG_EXIT_USAGE;
            }
            continue;
        }
        args[n++] = argv[i];
    }
    int p = sg_cli_parse(n, args, "shrink", shrink_usage,
                         "scenario,seed,withdrawals,bug,out,tape", o);
    free(args);
    return p;
}

/* shrink's last lines: the tape written (absolute) and the command that replays it, so
 * both work from any directory. */
static void print_tape(const char *path)
{
    char *abs = realpath(path, NULL);
    char *replay = sg_cli_replay_tape(path);
    printf("tape=%s\nreplay=%s\n", abs ? abs : path, replay);
    free(replay);
    free(abs);
}

/* shrink --tape: delta debugging over the faults a failing tape keeps. */
static int shrink_tape(const struct sg_cli_opts *o, uint64_t max_runs)
{
    struct sg_tape t;
    char err[SG_CLI_ERR_LEN];
    if (!sg_tape_read(&t, o->tape_path, err, sizeof err)) {
        fprintf(stderr, "sagasim shrink: %s\n", err);
        return SG_EXIT_USAGE;
    }
    struct target tg = {0, 0, max_runs};
    struct sg_run_config rc;
    sg_tape_apply(&t, &rc);
    struct sg_run_result res;
    if (!sg_run(&rc, &res) || res.ok) {
        fprintf(stderr, "sagasim shrink: the tape %s does not fail; nothing to shrink\n",
                o->tape_path);
        sg_tape_free(&t);
        return SG_EXIT_USAGE;
    }
    tg.inv = res.panicked ? 0 : (int)res.report.v[0].inv;
    size_t n = t.n_faults, original = t.n_faults;
    uint64_t *cur = malloc((n ? n : 1) * sizeof *cur);
    if (!cur) return SG_EXIT_USAGE;
    if (n) memcpy(cur, t.faults, n * sizeof *cur);
    ddmin(&tg, &t, cur, &n);
    free(t.faults);
    t.faults = cur;
    t.n_faults = n;
    const char *out = o->out_path ? o->out_path : "shrunk.tape";
    bool still = fails(&tg, &t, &res);
    if (!still || !sg_tape_write(&t, out, err, sizeof err)) {
        fprintf(stderr, "sagasim shrink: %s\n", still ? err : "the shrunk tape no longer fails");
        sg_tape_free(&t);
        return SG_EXIT_USAGE;
    }
    printf("seed=%" PRIu64 "\nscenario=%s\ninvariant=%s\nfaults=%zu/%zu\nruns=%" PRIu64 "\n",
           t.opts.seed, t.opts.scenario, tg.inv ? sg_inv_name((enum sg_inv)tg.inv) : "ASSERT", n,
           original, tg.runs);
    print_tape(out);
    sg_tape_free(&t);
    return SG_EXIT_OK;
}

int sg_cmd_shrink(int argc, char **argv)
{
    struct sg_tape t = {0};
    uint64_t max_runs = 400;
    int p = shrink_parse(argc, argv, &t.opts, &max_runs);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    if (t.opts.tape_path) return shrink_tape(&t.opts, max_runs);
    const char *out = t.opts.out_path ? t.opts.out_path : "shrunk.tape";
    struct target tg = {0, 0, max_runs};
    struct sg_run_config rc;
    sg_cli_config(&t.opts, t.opts.seed, &rc);
    struct sg_run_result res;
    t.unmasked = true;
    if (!t.opts.withdrawals) t.opts.withdrawals = rc.wl.withdrawals;
    if (!sg_run(&rc, &res) || res.ok) {
        fprintf(stderr, "sagasim shrink: seed %" PRIu64 " of scenario %s does not fail; nothing"
                " to shrink\n", t.opts.seed, t.opts.scenario);
        return SG_EXIT_USAGE;
    }
    tg.inv = res.panicked ? 0 : (int)res.report.v[0].inv;
    uint64_t original_total = res.faults_considered;
    double t0 = sg_cli_wall_seconds();
    shrink_workload(&tg, &t, t.opts.withdrawals);
    shrink_classes(&tg, &t);
    fails(&tg, &t, &res); /* count the faults of the reduced run */
    t.unmasked = false;
    t.total = res.faults_considered;
    uint64_t *cur = malloc((t.total ? t.total : 1) * sizeof *cur);
    if (!cur) return SG_EXIT_USAGE;
    for (uint64_t i = 0; i < t.total; i++) cur[i] = i;
    size_t n = (size_t)t.total;
    ddmin(&tg, &t, cur, &n);
    t.faults = cur;
    t.n_faults = n;
    bool still = fails(&tg, &t, &res); /* the tape as written, once more */
    char err[SG_CLI_ERR_LEN];
    if (!still || !sg_tape_write(&t, out, err, sizeof err)) {
        fprintf(stderr, "sagasim shrink: %s\n", still ? err : "the shrunk tape no longer fails");
        free(cur);
        return SG_EXIT_USAGE;
    }
    printf("seed=%" PRIu64 "\nscenario=%s\ninvariant=%s\n", t.opts.seed, t.opts.scenario,
           tg.inv ? sg_inv_name((enum sg_inv)tg.inv) : "ASSERT");
    printf("withdrawals=%u\nfaults=%zu/%" PRIu64 "\noriginal_faults=%" PRIu64 "\n",
           t.opts.withdrawals, n, t.total, original_total);
    printf("io=%s\nskew=%s\nruns=%" PRIu64 "\n", t.io_off ? "off" : "on",
           t.skew_off ? "off" : "on", tg.runs);
    print_tape(out);
    fprintf(stderr, "wall_seconds=%.2f\n", sg_cli_wall_seconds() - t0);
    free(cur);
    return SG_EXIT_OK;
}

int sg_cmd_replay(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--fuzz-input") == 0) return sg_cmd_replay_fuzz(argc, argv);
    struct sg_cli_opts o;
    int p = sg_cli_parse(argc, argv, "replay", replay_usage, "tape,report", &o);
    if (p != 0) return p < 0 ? SG_EXIT_OK : p;
    if (!o.tape_path) {
        fprintf(stderr, "sagasim replay: --tape FILE is required\n");
        return SG_EXIT_USAGE;
    }
    struct sg_tape t;
    char err[SG_CLI_ERR_LEN];
    if (!sg_tape_read(&t, o.tape_path, err, sizeof err)) {
        fprintf(stderr, "sagasim replay: %s\n", err);
        return SG_EXIT_USAGE;
    }
    t.opts.tape_path = o.tape_path; /* replay= and reports name the tape, not a plain run */
    struct sg_run_config rc;
    sg_tape_apply(&t, &rc);
    struct sg_run_result res;
    double t0 = sg_cli_wall_seconds();
    bool ran = sg_run(&rc, &res), report_ok = true;
    if (ran) {
        sg_cli_print_result(&t.opts, &rc, &res);
        printf("faults=%" PRIu64 "/%" PRIu64 "\n", res.faults_injected, res.faults_considered);
    }
    if (ran && o.report_dir) { /* the shrunk run, drawn */
        double wall = sg_cli_wall_seconds() - t0;
        struct sg_report_seed rep;
        t.opts.report_dir = o.report_dir;
        sg_cli_seed_report(&t.opts, &rc, &res, wall, &rep);
        char *cmd = sg_cli_command_line(argc, argv);
        report_ok = sg_cli_write_report_rc(&t.opts, cmd, &rep, 1, &rc, wall, 1);
        free(cmd);
        sg_report_seed_deinit(&rep);
    }
    sg_tape_free(&t);
    if (!ran) return SG_EXIT_USAGE;
    if (!res.ok) return SG_EXIT_VIOLATION;
    return report_ok ? SG_EXIT_OK : SG_EXIT_USAGE;
}
