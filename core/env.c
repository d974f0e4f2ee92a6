/*
 * env.c: the small helpers every core module uses on top of struct sg_env.
 */
#include "env.h"

#include <stdlib.h>

#include "assert.h"
#include "err.h"
#include "banned.h"

bool sg_fault(const struct sg_env *env, const char *point)
{
    return env->fault_point(env->ctx, point);
}

_Noreturn void sg_panic_default(const char *file, int line, const char *expr)
{
    (void)file;
    (void)line;
    (void)expr;
    abort();
}

const char *sg_err_name(enum sg_err err)
{
    switch (err) {
    case SG_OK: return "OK";
    case SG_ERR_IO: return "IO";
    case SG_ERR_CORRUPT: return "CORRUPT";
    case SG_ERR_INVALID: return "INVALID";
    case SG_ERR_FULL: return "FULL";
    case SG_ERR_NOT_FOUND: return "NOT_FOUND";
    case SG_ERR_CRASHED: return "CRASHED";
    case SG_ERR_SCHEMA: return "SCHEMA";
    }
    return "?";
}
