/*
 * grpc.h (live): unary gRPC over HTTP/2 (h2c, prior knowledge) on libnghttp2, for ONE
 * connection, with no sockets inside: bytes come in through sg_grpc_conn_recv and go out
 * through the write hook, so the same code runs under libuv, in unit tests and under
 * libFuzzer (notes/grpc-over-nghttp2.md has the verified protocol facts).
 *
 * Calls. For each request stream that ends (END_STREAM), the connection checks it and
 * answers the protocol errors itself, without the handler:
 *   a method other than the registered ones -> UNIMPLEMENTED (12);
 *   a compressed message (flag 1)           -> UNIMPLEMENTED (12);
 *   a message over SG_GRPC_MESSAGE_MAX      -> RESOURCE_EXHAUSTED (8) (buffering stops at
 *                                              the limit: a hostile length costs nothing);
 *   a body that is not one length-prefixed message -> INVALID_ARGUMENT (3);
 *   not POST or not application/grpc        -> INVALID_ARGUMENT (3);
 *   grpc.health.v1.Health/Check             -> OK, HealthCheckResponse{SERVING}.
 * Anything else is handed to on_call with the method index, the message (prefix
 * stripped) and the x-trace-id header ("" when absent). The handler answers now or later
 * with sg_grpc_reply(conn, call_id, ...). Call ids are never reused on a connection; a
 * reply to a call whose stream is gone (reset, connection closing) is ignored, and
 * on_call_gone tells the handler so it can forget the call.
 *
 * Replies: status 0 sends HEADERS (:status 200, content-type application/grpc), one DATA
 * frame (prefix + body) and trailers (grpc-status 0); any other status is a trailers-only
 * response with grpc-status and a percent-encoded grpc-message. withdrawal_id, when set,
 * goes out as the trailer x-withdrawal-id (ABORTED carries it).
 *
 * Limits: SETTINGS_MAX_CONCURRENT_STREAMS = SG_GRPC_STREAMS_MAX; buffered request bytes
 * per connection are bounded by SG_GRPC_BUFFERED_MAX (over it: RESOURCE_EXHAUSTED).
 * sg_grpc_conn_recv returns -1 on a protocol error (bad preface, bad frame): the caller
 * closes the connection. Shutdown: sg_grpc_conn_goaway submits GOAWAY; calls in flight may
 * still be answered; sg_grpc_conn_busy says whether any are.
 */
#ifndef SG_LIVE_GRPC_H
#define SG_LIVE_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codes.h" /* gRPC status numbers: SG_CODE_* */

enum {
    SG_GRPC_MESSAGE_MAX = 4 << 20,
    SG_GRPC_BUFFERED_MAX = 16 << 20,
    SG_GRPC_STREAMS_MAX = 100,
};

struct sg_grpc_conn;

struct sg_grpc_call {
    uint64_t id;             /* unique on this connection; pass it to sg_grpc_reply */
    size_t method;           /* index into the registered method list */
    const uint8_t *message;  /* valid during on_call only */
    size_t message_len;
    const char *trace_id;    /* x-trace-id, "" when absent; valid during on_call only */
};

struct sg_grpc_hooks {
    /* Queue bytes for the peer; false when they cannot be taken (the connection closes). */
    bool (*write)(void *ctx, const uint8_t *bytes, size_t len);
    void (*on_call)(void *ctx, struct sg_grpc_conn *conn, const struct sg_grpc_call *call);
    void (*on_call_gone)(void *ctx, uint64_t call_id); /* may be NULL */
    void *ctx;
    const char *const *methods; /* NULL-terminated ":path" values handed to on_call */
};

/* NULL on out-of-memory. Queues the server's SETTINGS (written on the first flush). */
struct sg_grpc_conn *sg_grpc_conn_new(const struct sg_grpc_hooks *hooks);
/* Feeds bytes from the peer and writes whatever is due; 0, or -1: close the connection. */
int sg_grpc_conn_recv(struct sg_grpc_conn *c, const uint8_t *bytes, size_t len);
/* Answers a call (see above); false when the call is gone. Writes what is due. */
bool sg_grpc_reply(struct sg_grpc_conn *c, uint64_t call_id, uint32_t status,
                   const char *message, const uint8_t *body, size_t body_len,
                   const char *withdrawal_id);
void sg_grpc_conn_goaway(struct sg_grpc_conn *c);
/* Calls handed to on_call and not answered yet. */
size_t sg_grpc_conn_busy(const struct sg_grpc_conn *c);
/* Whether the session has nothing more to read or write (after GOAWAY or an error). */
bool sg_grpc_conn_done(const struct sg_grpc_conn *c);
/* Frees the session; every call still pending is reported through on_call_gone. */
void sg_grpc_conn_free(struct sg_grpc_conn *c);

#endif
