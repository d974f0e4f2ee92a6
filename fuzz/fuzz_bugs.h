/*
 * fuzz_bugs.h: SG_FUZZ_BUG=NAME[,NAME] for the targets that run a simulated system
 * (fuzz_idempotency, fuzz_world): the planted bugs to switch on, so a campaign can prove
 * that the target finds them. An unknown name stops the process (exit 2) with its name.
 */
#ifndef SG_FUZZ_BUGS_H
#define SG_FUZZ_BUGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"

static inline uint64_t fuzz_bugs_from_env(const char *target)
{
    const char *env = getenv("SG_FUZZ_BUG");
    uint64_t bugs = 0;
    char name[64];
    while (env && *env) {
        size_t n = strcspn(env, ",");
        if (n < sizeof name) {
            memcpy(name, env, n);
            name[n] = '\0';
            enum sg_bug b = sg_bug_parse(name);
            if (b == SG_BUG_COUNT) {
                fprintf(stderr, "%s: unknown bug '%s' in SG_FUZZ_BUG\n", target, name);
                exit(2);
            }
            bugs |= 1ULL << b;
        }
        env += n + (env[n] == ',');
    }
    return bugs;
}

#endif
