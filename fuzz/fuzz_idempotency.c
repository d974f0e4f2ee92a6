/*
 * fuzz_idempotency.c: idempotency as sequences of operations (sim/idem_program.h):
 * retries, concurrent duplicates, lease expiries, clock jumps, crashes at named fault
 * points, fsync failures, in any order the fuzzer finds.
 *
 * Why: a seeded sweep explores orders at random; a coverage-guided fuzzer explores the
 * orders the code has not seen. Each input decodes to a program (no input is wasted) and
 * runs on a fresh simulated system, so an input replays on its own, bit for bit:
 *   sagasim replay --fuzz-input fuzz_idempotency FILE [--bug NAME]
 *
 * Properties: the idempotency contract after every operation and I1-I10 at the end
 * (idem_program.h lists them); a violation traps so libFuzzer keeps the input.
 * SG_FUZZ_BUG=NAME[,NAME] switches planted bugs on (to prove the target finds them).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_bugs.h"
#include "idem_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static uint64_t bugs;
    if (!ready) {
        bugs = fuzz_bugs_from_env("fuzz_idempotency");
        ready = true;
    }
    struct sg_idem_program prog;
    sg_idem_decode(data, size, &prog);
    struct sg_idem_result res;
    if (!sg_idem_run(&prog, bugs, &res)) return 0;
    if (!res.ok) {
        fprintf(stderr, "fuzz_idempotency: after op %zu of %zu: %s\n", res.failed_op, prog.n,
                res.violation);
        fuzz_fail(__FILE__, __LINE__, "the idempotency contract or an invariant was violated");
    }
    return 0;
}
