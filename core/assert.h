/*
 * assert.h: SG_ASSERT, on in every build (STYLE.md "Assertions").
 *
 * A failed assertion calls the environment's panic hook: the simulator ends the run with
 * violation ASSERT and the replay command; live mode logs and aborts. Assertions guard
 * local logic (arguments, bounds, encoder sizes); never use them to validate input.
 * SG_ASSERT_ENV is for code that has no env at hand: it calls sg_panic_default.
 */
#ifndef SG_ASSERT_H
#define SG_ASSERT_H

#include "env.h"

#define SG_ASSERT(env, cond)                                                            \
    do {                                                                                \
        if (!(cond)) (env)->panic((env)->ctx, __FILE_NAME__, __LINE__, #cond);          \
    } while (0)

/* A branch that must never run. */
#define SG_UNREACHABLE(env, what) (env)->panic((env)->ctx, __FILE_NAME__, __LINE__, what)

/* For code without an env (pure helpers): aborts via the process-wide hook. */
_Noreturn void sg_panic_default(const char *file, int line, const char *expr);
#define SG_ASSERT_PURE(cond)                                                            \
    do {                                                                                \
        if (!(cond)) sg_panic_default(__FILE_NAME__, __LINE__, #cond);                  \
    } while (0)

#endif
