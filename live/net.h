/*
 * net.h (live): node-to-node messages over TCP on 127.0.0.1 (DESIGN §7).
 *
 * Every node listens on base_port + 1 + node_id. A message is one encoded
 * sagasim.node.v1.Envelope framed as a 4-byte big-endian length, then the bytes. Sending
 * to a peer uses one outbound connection per peer, opened on first use and reopened with
 * backoff (50 ms doubling to 1 s) after it fails or closes; frames received on any inbound
 * connection are handed to the deliver hook. Traffic is one-way per connection, so the
 * two directions between two nodes never wait on each other.
 *
 * Loss is allowed, exactly as a dropped message in the simulator: relays and consumers
 * resend. A frame sent while a peer is unreachable is kept (bounded: SG_NET_PENDING_MAX
 * bytes per peer) until the connection opens, and dropped when the attempt fails or the
 * bound is reached. A frame over SG_NET_FRAME_MAX closes the inbound connection that sent
 * it (a hostile or confused peer), never the node.
 *
 * Contract: sg_live_net_init fills *n in place and starts listening (0 or a libuv error:
 * the caller reports "address in use" and exits); sg_live_net_close closes every handle
 * (the loop must run on to finish closing); stats count what was sent, delivered, dropped.
 */
#ifndef SG_LIVE_NET_H
#define SG_LIVE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum {
    SG_NET_PEERS = 6,                 /* broker, orchestrator, identity, risk, ledger, payout */
    SG_NET_FRAME_MAX = 16 << 20,
    SG_NET_PENDING_MAX = 4 << 20,
};

struct sg_live_net;
typedef void (*sg_net_deliver_fn)(struct sg_live_net *n, const uint8_t *bytes, size_t len);

struct sg_net_frame;

struct sg_net_peer {
    struct sg_live_net *net;
    uint32_t id;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t backoff;
    enum { PEER_IDLE, PEER_CONNECTING, PEER_UP, PEER_CLOSING } state;
    uint64_t backoff_ms;
    struct sg_net_frame *pending_head, *pending_tail;
    size_t pending_bytes;
};

struct sg_net_stats {
    uint64_t sent, delivered, dropped, connects, connect_failures, bad_frames;
};

struct sg_live_net {
    uv_loop_t *loop;
    uint32_t self_id;
    int base_port;
    uv_tcp_t listener;
    bool listening, closing;
    struct sg_net_peer peers[SG_NET_PEERS];
    struct sg_net_inbound *inbound;   /* open inbound connections (a list) */
    sg_net_deliver_fn deliver;
    void *owner;
    struct sg_net_stats stats;
};

/* The TCP port of node `id` for a base port. */
int sg_live_net_port(int base_port, uint32_t id);
int sg_live_net_init(struct sg_live_net *n, uv_loop_t *loop, uint32_t self_id, int base_port,
                     sg_net_deliver_fn deliver, void *owner);
/* Sends one frame to node `to` (< SG_NET_PEERS); the bytes are copied. */
void sg_live_net_send(struct sg_live_net *n, uint32_t to, const uint8_t *bytes, size_t len);
/* Opens the connection to `to` now (so the first frames need not wait). */
void sg_live_net_connect(struct sg_live_net *n, uint32_t to);
void sg_live_net_close(struct sg_live_net *n);

#endif
