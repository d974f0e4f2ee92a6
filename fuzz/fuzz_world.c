/*
 * fuzz_world.c: the fuzzer chooses the whole world's faults (scenarios/world_input.h): a
 * catalogue scenario, a seed, and which of the faults its nemesis considers go ahead
 * (crashes at steps and fault points, lost, duplicated, delayed and partitioned messages,
 * lost and torn writes, fsync failures, clock jumps). Every invariant is checked; a
 * violation traps. An input replays with
 *   sagasim replay --fuzz-input fuzz_world FILE [--bug NAME] [--out TAPE]
 * which prints the tape and can write it for `sagasim replay --tape`.
 * SG_FUZZ_BUG=NAME[,NAME] switches planted bugs on (to prove the target finds them).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_bugs.h"
#include "world_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static uint64_t bugs;
    if (!ready) {
        bugs = fuzz_bugs_from_env("fuzz_world");
        ready = true;
    }
    struct sg_world_input in;
    if (!sg_world_input_decode(data, size, &in)) return 0;
    struct sg_run_config rc;
    char err[512];
    struct sg_run_result res;
    FUZZ_CHECK(sg_world_input_config(&in, bugs, &rc, err, sizeof err)); /* the catalogue loads */
    bool ran = sg_run(&rc, &res);
    sg_world_input_free(&in);
    if (!ran) return 0;
    if (!res.ok) {
        fprintf(stderr, "fuzz_world: %s seed %llu: %s\n", rc.scenario,
                (unsigned long long)rc.seed,
                res.panicked ? res.panic_what
                             : res.report.count ? res.report.v[0].summary : res.report.error);
        fuzz_fail(__FILE__, __LINE__, "an invariant was violated");
    }
    return 0;
}
