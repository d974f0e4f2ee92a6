/*
 * fuzz_grpc.c: the gRPC ingress's HTTP/2 server session (live/grpc.h), fed arbitrary bytes
 * as the client side of one connection.
 *
 * Why: the ingress is the one place where bytes from anyone on the network reach the
 * orchestrator's process. A broken preface or frame must close that connection and
 * nothing else; a hostile length must not make it allocate; a call answered late, never,
 * or after its stream was reset must not touch freed memory (DESIGN §7, issue "Live mode").
 *
 * Input: byte 0 picks the chunking (the bytes arrive in pieces of 1 + (byte0 & 63) bytes,
 * so frames straddle reads) and the handler's manners (bits 6-7: answer every call at
 * once, later, never, or alternately); the rest is what the client sends. Calls answered
 * "later" are answered after the whole input, some after GOAWAY.
 *
 * Properties (a violation traps; ASan/UBSan and LeakSanitizer watch memory):
 * - sg_grpc_conn_recv never crashes; after it returns -1 the harness stops feeding;
 * - every call the handler sees names a registered method, has a message of at most 4 MiB
 *   and a trace id shorter than 64 bytes;
 * - busy() counts exactly the calls handed out and neither answered nor gone;
 * - a reply to a call that was answered or is gone is refused (false), never a crash;
 * - freeing the session reports every call still pending as gone.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "grpc.h"

enum { CALLS_MAX = 256 };

static const char *const methods[] = {"/cbsaga.orchestrator.v1.OrchestratorService/CreateWithdrawal",
                                      "/cbsaga.orchestrator.v1.OrchestratorService/GetWithdrawal",
                                      NULL};

struct harness {
    unsigned manners;
    uint64_t open[CALLS_MAX];   /* call ids handed out, not answered, not gone */
    size_t open_count;
    uint64_t calls, gone;
    size_t written;
};

static bool h_write(void *ctx, const uint8_t *bytes, size_t len)
{
    struct harness *h = ctx;
    (void)bytes;
    h->written += len;
    return true;
}

static void forget(struct harness *h, uint64_t id)
{
    for (size_t i = 0; i < h->open_count; i++)
        if (h->open[i] == id) {
            h->open[i] = h->open[--h->open_count];
            return;
        }
    fuzz_fail(__FILE__, __LINE__, "a call id that was never open");
}

static void h_on_call(void *ctx, struct sg_grpc_conn *conn, const struct sg_grpc_call *call)
{
    struct harness *h = ctx;
    FUZZ_CHECK(call->method < 2);
    FUZZ_CHECK(call->message_len <= SG_GRPC_MESSAGE_MAX);
    FUZZ_CHECK(strlen(call->trace_id) < 64);
    h->calls++;
    bool now = h->manners == 0 || (h->manners == 3 && call->id % 2 == 1);
    if (now) {
        static const uint8_t body[] = {0x0a, 0x02, 'i', 'd', 0x12, 0x02, 'O', 'K'};
        FUZZ_CHECK(sg_grpc_reply(conn, call->id, call->id % 3 ? 0 : 10, "later", body,
                                 sizeof body, call->id % 3 ? NULL : "wid"));
        FUZZ_CHECK(!sg_grpc_reply(conn, call->id, 0, NULL, NULL, 0, NULL)); /* answered */
        return;
    }
    FUZZ_CHECK(h->open_count < CALLS_MAX);
    h->open[h->open_count++] = call->id;
}

static void h_on_call_gone(void *ctx, uint64_t call_id)
{
    struct harness *h = ctx;
    h->gone++;
    forget(h, call_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    struct harness h = {.manners = data[0] >> 6};
    size_t chunk = 1 + (data[0] & 63u);
    struct sg_grpc_hooks hooks = {.write = h_write, .on_call = h_on_call,
                                  .on_call_gone = h_on_call_gone, .ctx = &h,
                                  .methods = methods};
    struct sg_grpc_conn *c = sg_grpc_conn_new(&hooks);
    FUZZ_CHECK(c != NULL);
    bool broken = false;
    for (size_t at = 1; at < size && !broken; at += chunk) {
        size_t n = size - at < chunk ? size - at : chunk;
        broken = sg_grpc_conn_recv(c, data + at, n) != 0;
        FUZZ_CHECK(sg_grpc_conn_busy(c) == h.open_count);
    }
    if (h.manners == 1 || h.manners == 3) { /* answer what is open, half after GOAWAY */
        size_t half = h.open_count / 2;
        for (size_t i = 0; h.open_count > half && i < CALLS_MAX; i++) {
            uint64_t id = h.open[h.open_count - 1];
            FUZZ_CHECK(sg_grpc_reply(c, id, 14, "unavailable \x01 %", NULL, 0, NULL));
            forget(&h, id);
        }
        sg_grpc_conn_goaway(c);
        while (h.open_count > 0) {
            uint64_t id = h.open[h.open_count - 1];
            FUZZ_CHECK(sg_grpc_reply(c, id, 0, NULL, (const uint8_t *)"x", 1, NULL));
            forget(&h, id);
        }
    }
    FUZZ_CHECK(!sg_grpc_reply(c, h.calls + 1000, 0, NULL, NULL, 0, NULL)); /* never issued */
    FUZZ_CHECK(sg_grpc_conn_busy(c) == h.open_count);
    sg_grpc_conn_free(c);
    FUZZ_CHECK(h.open_count == 0); /* every pending call reported gone */
    return 0;
}
