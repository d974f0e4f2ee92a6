/*
 * codes.h: the gRPC status numbers the services answer with (notes/grpc-over-nghttp2.md),
 * shared by core (replies), check (history mapping) and live (the ingress).
 */
#ifndef SG_CODES_H
#define SG_CODES_H

#include <stdint.h>

enum sg_code {
    SG_CODE_OK = 0,
    SG_CODE_INVALID_ARGUMENT = 3,
    SG_CODE_NOT_FOUND = 5,
    SG_CODE_RESOURCE_EXHAUSTED = 8,
    SG_CODE_FAILED_PRECONDITION = 9,
    SG_CODE_ABORTED = 10,
    SG_CODE_UNIMPLEMENTED = 12,
    SG_CODE_INTERNAL = 13,
    SG_CODE_UNAVAILABLE = 14,
    SG_CODE_TIMEOUT = 1000, /* no reply within client_timeout (not a gRPC code) */
};

const char *sg_code_name(uint32_t code);

#endif
