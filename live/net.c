/*
 * net.c (live): framed TCP between nodes (see net.h).
 */
#include "net.h"

#include <stdlib.h>
#include <string.h>

struct sg_net_frame {
    struct sg_net_frame *next;
    uv_write_t req;
    size_t len;          /* header + bytes */
    uint8_t data[];
};

struct sg_net_inbound {
    struct sg_live_net *net;
    struct sg_net_inbound *next, *prev;
    uv_tcp_t tcp;
    uint8_t *buf;
    size_t len, cap;
};

enum { BACKOFF_MIN_MS = 50, BACKOFF_MAX_MS = 1000 };

int sg_live_net_port(int base_port, uint32_t id)
{
    return base_port + 1 + (int)id;
}

static struct sg_net_frame *frame_new(const uint8_t *bytes, size_t len)
{
    struct sg_net_frame *f = malloc(sizeof *f + 4 + len);
    if (!f) return NULL;
    f->next = NULL;
    f->len = 4 + len;
    f->data[0] = (uint8_t)(len >> 24);
    f->data[1] = (uint8_t)(len >> 16);
    f->data[2] = (uint8_t)(len >> 8);
    f->data[3] = (uint8_t)len;
    memcpy(f->data + 4, bytes, len);
    return f;
}

static void drop_pending(struct sg_net_peer *p)
{
    for (struct sg_net_frame *f = p->pending_head, *next; f; f = next) {
        next = f->next;
        p->net->stats.dropped++;
        free(f);
    }
    p->pending_head = p->pending_tail = NULL;
    p->pending_bytes = 0;
}

/* ---- outbound ---- */

static void write_done(uv_write_t *req, int status)
{
    struct sg_net_frame *f = req->data;
    (void)status; /* a failed write is a lost message; the protocol resends */
    free(f);
}

static void write_frame(struct sg_net_peer *p, struct sg_net_frame *f)
{
    uv_buf_t b = uv_buf_init((char *)f->data, (unsigned)f->len);
    f->req.data = f;
    if (uv_write(&f->req, (uv_stream_t *)&p->tcp, &b, 1, write_done) != 0) {
        p->net->stats.dropped++;
        free(f);
    }
}

static void start_connect(struct sg_net_peer *p);

static void backoff_fired(uv_timer_t *t)
{
    struct sg_net_peer *p = t->data;
    if (p->state == PEER_IDLE && p->pending_head && !p->net->closing) start_connect(p);
}

static void peer_closed(uv_handle_t *h)
{
    struct sg_net_peer *p = h->data;
    p->state = PEER_IDLE;
    if (p->net->closing) return;
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (p->backoff_ms > BACKOFF_MAX_MS) p->backoff_ms = BACKOFF_MAX_MS;
    uv_timer_start(&p->backoff, backoff_fired, p->backoff_ms, 0);
}

static void peer_close(struct sg_net_peer *p)
{
    if (p->state == PEER_CLOSING || p->state == PEER_IDLE) return;
    p->state = PEER_CLOSING;
    uv_close((uv_handle_t *)&p->tcp, peer_closed);
}

static void alloc_small(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char sink[256]; /* an outbound connection carries nothing back: discard */
    *b = uv_buf_init(sink, sizeof sink);
}

static void peer_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    if (nread < 0) peer_close(s->data);
}

static void connected(uv_connect_t *req, int status)
{
    struct sg_net_peer *p = req->data;
    if (p->state != PEER_CONNECTING) return;
    if (status != 0) {
        p->net->stats.connect_failures++;
        drop_pending(p);
        peer_close(p);
        return;
    }
    p->state = PEER_UP;
    p->backoff_ms = 0;
    p->net->stats.connects++;
    uv_tcp_nodelay(&p->tcp, 1);
    uv_read_start((uv_stream_t *)&p->tcp, alloc_small, peer_read);
    struct sg_net_frame *f = p->pending_head;
    p->pending_head = p->pending_tail = NULL;
    p->pending_bytes = 0;
    while (f) {
        struct sg_net_frame *next = f->next;
        write_frame(p, f);
        f = next;
    }
}

static void start_connect(struct sg_net_peer *p)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", sg_live_net_port(p->net->base_port, p->id), &addr);
    if (uv_tcp_init(p->net->loop, &p->tcp) != 0) return;
    p->tcp.data = p;
    p->connect.data = p;
    p->state = PEER_CONNECTING;
    if (uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&addr, connected) != 0) {
        p->net->stats.connect_failures++;
        drop_pending(p);
        peer_close(p);
    }
}

void sg_live_net_connect(struct sg_live_net *n, uint32_t to)
{
    if (to >= SG_NET_PEERS || to == n->self_id || n->closing) return;
    struct sg_net_peer *p = &n->peers[to];
    if (p->state == PEER_IDLE && !uv_is_active((uv_handle_t *)&p->backoff)) start_connect(p);
}

void sg_live_net_send(struct sg_live_net *n, uint32_t to, const uint8_t *bytes, size_t len)
{
    if (to >= SG_NET_PEERS || n->closing || len > SG_NET_FRAME_MAX) {
        n->stats.dropped++;
        return;
    }
    struct sg_net_peer *p = &n->peers[to];
    struct sg_net_frame *f = frame_new(bytes, len);
    if (!f) {
        n->stats.dropped++;
        return;
    }
    n->stats.sent++;
    if (p->state == PEER_UP) {
        write_frame(p, f);
        return;
    }
    if (p->pending_bytes + f->len > SG_NET_PENDING_MAX) {
        n->stats.dropped++;
        free(f);
        return;
    }
    if (p->pending_tail) p->pending_tail->next = f;
    else p->pending_head = f;
    p->pending_tail = f;
    p->pending_bytes += f->len;
    if (p->state == PEER_IDLE && !uv_is_active((uv_handle_t *)&p->backoff)) start_connect(p);
}

/* ---- inbound ---- */

static void inbound_closed(uv_handle_t *h)
{
    struct sg_net_inbound *c = h->data;
    free(c->buf);
    free(c);
}

static void inbound_close(struct sg_net_inbound *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp)) return;
    struct sg_live_net *n = c->net;
    if (c->prev) c->prev->next = c->next;
    else n->inbound = c->next;
    if (c->next) c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, inbound_closed);
}

static void inbound_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct sg_net_inbound *c = h->data;
    if (suggested < 65536) suggested = 65536;
    if (c->cap - c->len < suggested) {
        size_t cap = c->len + suggested;
        uint8_t *nb = realloc(c->buf, cap);
        if (!nb) {
            *b = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS: the connection closes */
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* Hands every complete frame to the node; false when a frame is too large. */
static bool deliver_frames(struct sg_net_inbound *c)
{
    size_t at = 0;
    while (c->len - at >= 4) {
        const uint8_t *h = c->buf + at;
        size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        if (len > SG_NET_FRAME_MAX) return false;
        if (c->len - at - 4 < len) break;
        c->net->stats.delivered++;
        c->net->deliver(c->net, h + 4, len);
        at += 4 + len;
        if (c->net->closing) break;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return true;
}

static void inbound_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct sg_net_inbound *c = s->data;
    if (nread < 0) {
        inbound_close(c);
        return;
    }
    c->len += (size_t)nread;
    if (!deliver_frames(c)) {
        c->net->stats.bad_frames++;
        inbound_close(c);
    }
}

static void on_accept(uv_stream_t *server, int status)
{
    struct sg_live_net *n = server->data;
    if (status != 0 || n->closing) return;
    struct sg_net_inbound *c = calloc(1, sizeof *c);
    if (!c) return;
    c->net = n;
    uv_tcp_init(n->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, inbound_closed);
        return;
    }
    c->next = n->inbound;
    if (n->inbound) n->inbound->prev = c;
    n->inbound = c;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, inbound_alloc, inbound_read);
}

int sg_live_net_init(struct sg_live_net *n, uv_loop_t *loop, uint32_t self_id, int base_port,
                     sg_net_deliver_fn deliver, void *owner)
{
    memset(n, 0, sizeof *n);
    n->loop = loop;
    n->self_id = self_id;
    n->base_port = base_port;
    n->deliver = deliver;
    n->owner = owner;
    for (uint32_t i = 0; i < SG_NET_PEERS; i++) {
        struct sg_net_peer *p = &n->peers[i];
        p->net = n;
        p->id = i;
        uv_timer_init(loop, &p->backoff);
        p->backoff.data = p;
    }
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", sg_live_net_port(base_port, self_id), &addr);
    uv_tcp_init(loop, &n->listener);
    n->listener.data = n;
    int rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&n->listener, 128, on_accept);
    n->listening = true; /* the handle is open either way: close it in sg_live_net_close */
    return rc;
}

void sg_live_net_close(struct sg_live_net *n)
{
    if (n->closing) return;
    n->closing = true;
    if (n->listening) uv_close((uv_handle_t *)&n->listener, NULL);
    for (uint32_t i = 0; i < SG_NET_PEERS; i++) {
        struct sg_net_peer *p = &n->peers[i];
        drop_pending(p);
        uv_close((uv_handle_t *)&p->backoff, NULL);
        if (p->state == PEER_UP || p->state == PEER_CONNECTING) {
            p->state = PEER_CLOSING;
            uv_close((uv_handle_t *)&p->tcp, NULL);
        }
    }
    while (n->inbound) inbound_close(n->inbound);
}
