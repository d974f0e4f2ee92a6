/*
 * ingress.h (live): the orchestrator's gRPC front door (DESIGN §7).
 *
 * Accepts TCP connections on the gRPC address inside the orchestrator's libuv loop, runs
 * one HTTP/2 server session per connection (live/grpc.h) and turns each unary call into
 * the node envelope the simulator's clients send: CreateWithdrawal and GetWithdrawal
 * become Envelope{create|get} from SG_NODE_CLIENT0 with a fresh msg_id and the
 * x-trace-id header (when given) as trace_id. The orchestrator's reply, addressed to the
 * client id with correlation_id = that msg_id, is matched to its call and answered with
 * the same gRPC status code; ABORTED also carries the trailer x-withdrawal-id.
 * grpc.health.v1.Health/Check answers SERVING while the node runs.
 *
 * A reply to a call that is gone (the client reset the stream or closed the connection)
 * is dropped. A connection that breaks the HTTP/2 protocol is closed; the others go on. A
 * slow client never blocks another: writes are queued per connection (bounded; over the
 * bound the connection is closed).
 *
 * Shutdown: sg_live_ingress_drain stops accepting and sends GOAWAY on every connection;
 * in-flight calls are still answered; sg_live_ingress_pending counts them.
 */
#ifndef SG_LIVE_INGRESS_H
#define SG_LIVE_INGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct sg_live_ingress;
/* Hands one encoded client Envelope to the orchestrator. */
typedef void (*sg_ingress_deliver_fn)(void *owner, const uint8_t *bytes, size_t len);

/* Starts listening on addr ("HOST:PORT"); NULL and *err set ("bad address", a libuv
 * error) on failure. */
struct sg_live_ingress *sg_live_ingress_start(uv_loop_t *loop, const char *addr,
                                              sg_ingress_deliver_fn deliver, void *owner,
                                              const char **err);
/* The orchestrator sent `bytes` (one Envelope) to a client id: answer its call. */
void sg_live_ingress_reply(struct sg_live_ingress *g, const uint8_t *bytes, size_t len);
void sg_live_ingress_drain(struct sg_live_ingress *g);
size_t sg_live_ingress_pending(const struct sg_live_ingress *g);
/* Closes every handle; the ingress frees itself once libuv has closed them. */
void sg_live_ingress_close(struct sg_live_ingress *g);

#endif
