/*
 * cmd_fuzzreplay.c: `sagasim replay --fuzz-input TARGET FILE [--bug NAME]...`: re-runs a
 * fuzzer's input (a crash file, a corpus entry) exactly as the target ran it, and prints
 * the decoded program or fault tape, the verdict and the hash. Targets: fuzz_idempotency
 * (sim/idem_program.h) and fuzz_world (scenarios/world_input.h; --out FILE writes its
 * fault tape for `sagasim replay --tape`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "cli.h"
#include "idem_program.h"
#include "tape.h"
#include "world_input.h"

enum { INPUT_MAX = 1 << 20 };

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "sagasim replay: %s '%s' (usage: sagasim replay --fuzz-input "
                    "fuzz_idempotency|fuzz_world FILE [--bug NAME]... [--out TAPE])\n", what,
            arg ? arg : "");
    return SG_EXIT_USAGE;
}

static uint8_t *read_input(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(INPUT_MAX);
    *len = buf ? fread(buf, 1, INPUT_MAX, f) : 0;
    fclose(f);
    return buf;
}

static bool write_tape(const struct sg_world_input *in, uint64_t bugs, uint64_t total,
                       const char *out)
{
    struct sg_tape t;
    memset(&t, 0, sizeof t);
    t.opts.scenario = in->scenario;
    t.opts.seed = in->seed;
    t.opts.withdrawals = SG_WORLD_INPUT_WITHDRAWALS;
    t.opts.bugs = bugs;
    t.opts.crash_point = -1;
    t.total = total;
    t.faults = in->keep;
    t.n_faults = in->n_keep;
    char err[SG_CLI_ERR_LEN];
    if (sg_tape_write(&t, out, err, sizeof err)) return true;
    fprintf(stderr, "sagasim replay: %s\n", err);
    return false;
}

static int replay_world(const uint8_t *data, size_t len, uint64_t bugs, const char *out)
{
    struct sg_world_input in;
    struct sg_run_config rc;
    struct sg_run_result res;
    char err[SG_CLI_ERR_LEN];
    if (!sg_world_input_decode(data, len, &in) ||
        !sg_world_input_config(&in, bugs, &rc, err, sizeof err) || !sg_run(&rc, &res)) {
        fprintf(stderr, "sagasim replay: cannot run the input\n");
        sg_world_input_free(&in);
        return SG_EXIT_USAGE;
    }
    printf("target=fuzz_world\nscenario=%s\nseed=%" PRIu64 "\nwithdrawals=%u\n", in.scenario,
           in.seed, SG_WORLD_INPUT_WITHDRAWALS);
    printf("faults=%" PRIu64 "/%" PRIu64 "\ntape=", res.faults_injected, res.faults_considered);
    for (size_t i = 0; i < in.n_keep && in.keep[i] < res.faults_considered; i++)
        printf("%s%" PRIu64, i ? " " : "", in.keep[i]);
    printf("\nhash=%016" PRIx64 "\nverdict=%s\n", res.hash, res.ok ? "ok" : "violation");
    if (res.panicked) printf("violation=ASSERT %s\n", res.panic_what);
    for (size_t i = 0; i < res.report.count; i++)
        printf("violation=%s %s\n", sg_inv_name(res.report.v[i].inv), res.report.v[i].summary);
    int code = res.ok ? SG_EXIT_OK : SG_EXIT_VIOLATION;
    if (out) {
        if (write_tape(&in, bugs, res.faults_considered, out)) {
            char *replay = sg_cli_replay_tape(out);
            printf("replay=%s\n", replay);
            free(replay);
        } else {
            code = SG_EXIT_USAGE;
        }
    }
    sg_world_input_free(&in);
    return code;
}

int sg_cmd_replay_fuzz(int argc, char **argv)
{
    /* argv[0] "replay", argv[1] "--fuzz-input", argv[2] TARGET, argv[3] FILE */
    if (argc < 4) return usage_error("--fuzz-input needs TARGET FILE, got", argc > 2 ? argv[2] : NULL);
    const char *target = argv[2], *path = argv[3];
    bool world = strcmp(target, "fuzz_world") == 0;
    if (!world && strcmp(target, "fuzz_idempotency") != 0)
        return usage_error("unknown fuzz target (fuzz_idempotency, fuzz_world)", target);
    uint64_t bugs = 0;
    const char *out = NULL;
    for (int i = 4; i < argc; i++) {
        bool bug = strcmp(argv[i], "--bug") == 0;
        if ((!bug && strcmp(argv[i], "--out") != 0) || i + 1 == argc)
            return usage_error("unknown option", argv[i]);
        if (!bug) {
            out = argv[++i];
            continue;
        }
        enum sg_bug b = sg_bug_parse(argv[++i]);
        if (b == SG_BUG_COUNT) return usage_error("unknown bug (try: sagasim bugs)", argv[i]);
        bugs |= 1ULL << b;
    }
    size_t len = 0;
    uint8_t *data = read_input(path, &len);
    if (!data) {
        fprintf(stderr, "sagasim replay: cannot read '%s'\n", path);
        return SG_EXIT_USAGE;
    }
    if (world) {
        int code = replay_world(data, len, bugs, out);
        free(data);
        return code;
    }
    struct sg_idem_program prog;
    sg_idem_decode(data, len, &prog);
    free(data);
    struct sg_idem_result res;
    if (!sg_idem_run(&prog, bugs, &res)) {
        fprintf(stderr, "sagasim replay: out of memory\n");
        return SG_EXIT_USAGE;
    }
    for (size_t i = 0; i < prog.n; i++) {
        char line[160];
        sg_idem_describe(&prog.ops[i], line, sizeof line);
        printf("op.%zu=%s\n", i, line);
    }
    printf("target=%s\nops=%zu\nhash=%016" PRIx64 "\nverdict=%s\n", target, prog.n, res.hash,
           res.ok ? "ok" : "violation");
    if (!res.ok) {
        if (res.failed_op < prog.n) printf("failed_after=op.%zu\n", res.failed_op);
        else printf("failed_after=end\n");
        printf("violation=%s\n", res.violation);
    }
    return res.ok ? SG_EXIT_OK : SG_EXIT_VIOLATION;
}
