/*
 * cmd_fuzzreplay.c: `sagasim replay --fuzz-input TARGET FILE [--bug NAME]...`: re-runs a
 * fuzzer's input (a crash file, a corpus entry) exactly as the target ran it, and prints
 * the decoded program, the verdict and the hash. Targets: fuzz_idempotency
 * (sim/idem_program.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "cli.h"
#include "idem_program.h"

enum { INPUT_MAX = 1 << 20 };

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "sagasim replay: %s '%s' (usage: sagasim replay --fuzz-input "
                    "fuzz_idempotency FILE [--bug NAME]...)\n", what, arg ? arg : "");
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

int sg_cmd_replay_fuzz(int argc, char **argv)
{
    /* argv[0] "replay", argv[1] "--fuzz-input", argv[2] TARGET, argv[3] FILE */
    if (argc < 4) return usage_error("--fuzz-input needs TARGET FILE, got", argc > 2 ? argv[2] : NULL);
    const char *target = argv[2], *path = argv[3];
    if (strcmp(target, "fuzz_idempotency") != 0)
        return usage_error("unknown fuzz target (this build replays: fuzz_idempotency)", target);
    uint64_t bugs = 0;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--bug") != 0 || i + 1 == argc) return usage_error("unknown option", argv[i]);
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
