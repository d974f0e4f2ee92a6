/*
 * fuzz.h: what every target in fuzz/ shares: the libFuzzer entry point and FUZZ_CHECK.
 *
 * A target is one file fuzz_<surface>.c defining LLVMFuzzerTestOneInput. It is built two
 * ways (fuzz/CMakeLists.txt): with SG_FUZZ=ON (clang) it links libFuzzer and explores; in
 * every other build it links replay_main.c and runs its seed corpus once as a ctest
 * (fuzz.<target>.corpus), so the corpora are regression tests in gcc, clang and ASan builds.
 *
 * A violated property is a crash: FUZZ_CHECK prints the condition and traps, so libFuzzer
 * saves the input (crash-<sha1>) and the replay runner dies with SIGILL/SIGTRAP. Harness
 * code is not core: it may use stdio, getenv and mutable globals (STYLE's determinism
 * rules do not apply here), but it never changes the code it tests.
 */
#ifndef SG_FUZZ_H
#define SG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Called once per input; data is valid for the call only. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline _Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "fuzz: property violated at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    __builtin_trap();
}

#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);                              \
    } while (0)

#endif
