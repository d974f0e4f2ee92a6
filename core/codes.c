/*
 * codes.c: names of the status codes (see codes.h).
 */
#include "codes.h"
#include "banned.h"

const char *sg_code_name(uint32_t code)
{
    switch (code) {
    case SG_CODE_OK: return "OK";
    case SG_CODE_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case SG_CODE_NOT_FOUND: return "NOT_FOUND";
    case SG_CODE_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case SG_CODE_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case SG_CODE_ABORTED: return "ABORTED";
    case SG_CODE_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case SG_CODE_INTERNAL: return "INTERNAL";
    case SG_CODE_UNAVAILABLE: return "UNAVAILABLE";
    case SG_CODE_TIMEOUT: return "TIMEOUT";
    default: return "UNKNOWN";
    }
}
